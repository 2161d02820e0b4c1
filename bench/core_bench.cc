// Single-thread throughput of the write path's building blocks: record codec, routing, CRDT apply
// and apply into a flat-indexed collection, and the distance kernel under every index kind.
// docs/benchmarks.md explains each figure and the targets (encode+decode >= 2 M/s, routing >= 20
// M/s, CRDT apply >= 1 M/s, flat upsert >= 200 k/s).
//
// Rates (items_per_second) are over CPU time: every benchmark here is single-threaded and
// CPU-bound, and CPU time is the figure least disturbed by other processes on a shared machine.
// Set-up that a benchmark does not claim to measure (building replicas, copying mutations for the
// rvalue overloads, tearing state down) runs with the timer paused.
#include <benchmark/benchmark.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bench/datasets.h"
#include "engine/core/collection.h"
#include "engine/core/mutation.h"
#include "engine/core/record_codec.h"
#include "engine/core/routing.h"
#include "engine/core/shard_replica.h"
#include "engine/core/simd_distance.h"

namespace meridian::bench {
namespace {

constexpr uint32_t kDim = 128;
const std::string kCollection = "bench";

// ---------------------------------------------------------------------------------------------
// Record codec: 128-d upserts with a small payload (2 fields, 2 tags), ~640 bytes encoded.
// A pool of distinct records (not one record over and over) so that the branch predictor and
// caches see realistic variety; the pool (~700 KiB encoded) stays cache-resident, as a batch
// being written or read from a log segment would be.

constexpr size_t kCodecPool = 1024;

const std::vector<Mutation>& codec_mutations() {
  static const std::vector<Mutation> pool = [] {
    GaussianMixture mixture(MixtureSpec{});
    return make_fresh_upserts(kCollection, mixture, kCodecPool, /*first_id=*/0, /*seed=*/7);
  }();
  return pool;
}

const std::vector<std::string>& codec_records() {
  static const std::vector<std::string> records = [] {
    std::vector<std::string> out;
    for (const Mutation& m : codec_mutations()) {
      std::string bytes;
      encode_mutation(m, &bytes);
      out.push_back(std::move(bytes));
    }
    return out;
  }();
  return records;
}

size_t total_bytes(const std::vector<std::string>& records) {
  size_t n = 0;
  for (const auto& r : records) n += r.size();
  return n;
}

// encode_mutation into one reused buffer (cleared per record, so no allocation after warm-up).
void BM_RecordEncode(benchmark::State& state) {
  const auto& pool = codec_mutations();
  std::string out;
  out.reserve(4096);
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    encode_mutation(pool[i], &out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
    if (++i == pool.size()) i = 0;
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(total_bytes(codec_records())) /
                          int64_t(pool.size()));
}
BENCHMARK(BM_RecordEncode);

// decode_mutation_into reusing one Mutation (the hot-path form). Includes the CRC-32C check and
// validate(), as every decode does.
void BM_RecordDecodeInto(benchmark::State& state) {
  const auto& records = codec_records();
  Mutation m;
  size_t i = 0;
  for (auto _ : state) {
    Status s = decode_mutation_into(records[i], &m);
    if (!s.is_ok()) {
      state.SkipWithError(s.to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(m.embedding.data());
    if (++i == records.size()) i = 0;
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(total_bytes(records)) /
                          int64_t(records.size()));
}
BENCHMARK(BM_RecordDecodeInto);

// decode_mutation, allocating a fresh Mutation per record (the convenience form), for reference.
void BM_RecordDecodeFresh(benchmark::State& state) {
  const auto& records = codec_records();
  size_t i = 0;
  for (auto _ : state) {
    Result<Mutation> r = decode_mutation(records[i]);
    if (!r.is_ok()) {
      state.SkipWithError(r.status().to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(r->embedding.data());
    if (++i == records.size()) i = 0;
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_RecordDecodeFresh);

// The pair: encode a mutation into a reused buffer, then decode it into a reused Mutation.
void BM_RecordEncodeDecode(benchmark::State& state) {
  const auto& pool = codec_mutations();
  std::string bytes;
  bytes.reserve(4096);
  Mutation m;
  size_t i = 0;
  for (auto _ : state) {
    bytes.clear();
    encode_mutation(pool[i], &bytes);
    Status s = decode_mutation_into(bytes, &m);
    if (!s.is_ok()) {
      state.SkipWithError(s.to_string().c_str());
      break;
    }
    benchmark::DoNotOptimize(m.embedding.data());
    if (++i == pool.size()) i = 0;
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_RecordEncodeDecode);

// ---------------------------------------------------------------------------------------------
// Routing: shard_of over a pre-built vector of 16-byte ids ("vec-" + 12 digits; std::string, so
// each id's bytes are on the heap, as they are in a decoded Mutation), 64 shards. The argument is
// the number of ids: 4 Ki stays in L1/L2; 1 Mi (~64 MiB of strings) streams from memory.

void BM_ShardOf(benchmark::State& state) {
  const size_t n = size_t(state.range(0));
  std::vector<std::string> ids;
  ids.reserve(n);
  SplitMix64 rng(11);
  for (size_t i = 0; i < n; ++i) ids.push_back(vector_id(rng.below(1'000'000'000'000ULL)));
  uint64_t sum = 0;
  for (auto _ : state) {
    for (const std::string& id : ids) sum += shard_of(id, 64);
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(n));
}
BENCHMARK(BM_ShardOf)->Arg(4096)->Arg(1 << 20);

// One 128-d L2 distance per item, query against 4,096 stored vectors (2 MiB: cache-resident, so
// this is the arithmetic, not memory bandwidth): Debian FAISS's fvec_L2sqr against the
// vectorised kernel every index kind now uses (engine/core/simd_distance.h).
void BM_L2Distance(benchmark::State& state, bool vectorised) {
  constexpr size_t n = 4096;
  SplitMix64 rng(5);
  std::vector<float> data(n * kDim), query(kDim);
  for (float& x : data) x = float(rng.below(1000)) / 1000.f;
  for (float& x : query) x = float(rng.below(1000)) / 1000.f;
  float sum = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < n; ++i) {
      const float* v = data.data() + i * kDim;
      sum += vectorised ? simd::l2_squared(query.data(), v, kDim)
                        : faiss::fvec_L2sqr(query.data(), v, kDim);
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(n));
  state.SetLabel(vectorised ? simd::kernel_isa() : "faiss scalar");
}
BENCHMARK_CAPTURE(BM_L2Distance, faiss, false);
BENCHMARK_CAPTURE(BM_L2Distance, simd, true);

// ---------------------------------------------------------------------------------------------
// CRDT apply (no index): ShardReplica::apply over a replication stream of 200 k mutations on 100 k
// distinct ids from 3 origin regions: the first 100 k upsert every id once (new map entries), the
// next 100 k are 70 % upserts / 30 % patches of random existing ids. 128-d embeddings, small
// payloads. One iteration applies the whole stream to a fresh replica.
//
// Two variants, because the overloads do different work:
//   /const_ref  apply(const Mutation&): the replica copies the embedding and strings it keeps.
//               This is the honest "from a mutation someone else owns" cost.
//   /rvalue     apply(Mutation&&) on copies made beforehand with the timer paused (in chunks of
//               8 k): the replica moves the embedding in. This is the path of a consumer that
//               decodes a record into a Mutation it then gives away; the copy it excludes is
//               work such a consumer never does.

constexpr size_t kCrdtIds = 100'000;
constexpr size_t kCrdtStream = 200'000;
constexpr size_t kChunk = 8192;

const std::vector<Mutation>& crdt_stream() {
  static const std::vector<Mutation> stream = [] {
    GaussianMixture mixture(MixtureSpec{});
    return make_mutation_stream(kCollection, mixture, kCrdtIds, kCrdtStream,
                                /*upsert_fraction=*/0.7, /*num_origins=*/3, /*seed=*/3);
  }();
  return stream;
}

// Runs `apply` over `stream` once per iteration on a fresh target made by `make`. With `move`, each
// chunk of mutations is copied with the timer paused and handed over as rvalues.
template <typename Target, typename MakeFn, typename ApplyFn>
void run_stream(benchmark::State& state, const std::vector<Mutation>& stream, bool move,
                MakeFn make, ApplyFn apply) {
  std::vector<Mutation> chunk;
  chunk.reserve(kChunk);
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<Target> target = make();
    state.ResumeTiming();
    for (size_t begin = 0; begin < stream.size(); begin += kChunk) {
      const size_t end = std::min(stream.size(), begin + kChunk);
      if (move) {
        state.PauseTiming();
        chunk.assign(stream.begin() + ptrdiff_t(begin), stream.begin() + ptrdiff_t(end));
        state.ResumeTiming();
        for (Mutation& m : chunk) apply(*target, std::move(m));
      } else {
        for (size_t i = begin; i < end; ++i) apply(*target, stream[i]);
      }
    }
    state.PauseTiming();
    target.reset();
    chunk.clear();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(stream.size()));
}

void BM_CrdtApply(benchmark::State& state, bool move) {
  const auto& stream = crdt_stream();
  size_t changes = 0;
  run_stream<ShardReplica>(
      state, stream, move, [] { return std::make_unique<ShardReplica>(0); },
      [&](ShardReplica& replica, auto&& m) {
        ApplyOutcome out = replica.apply(std::forward<decltype(m)>(m));
        changes += out.change != VectorChange::kNone;
      });
  benchmark::DoNotOptimize(changes);
}
BENCHMARK_CAPTURE(BM_CrdtApply, const_ref, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_CrdtApply, rvalue, true)->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------------------------
// Upsert into a flat shard: Collection (1 shard, 1 partition, flat, L2, 128-d), apply() of 100 k
// upserts of fresh ids with small payloads. Counts everything apply() does: validation, routing,
// the CRDT apply, the id -> key map and the FAISS IndexFlat add. One iteration fills a fresh
// collection from empty to 100 k vectors. Same const_ref / rvalue split as above.

constexpr size_t kUpserts = 100'000;

const std::vector<Mutation>& fresh_upserts() {
  static const std::vector<Mutation> upserts = [] {
    GaussianMixture mixture(MixtureSpec{});
    return make_fresh_upserts(kCollection, mixture, kUpserts, /*first_id=*/0, /*seed=*/5);
  }();
  return upserts;
}

std::unique_ptr<Collection> make_flat_collection() {
  CollectionConfig config;
  config.name = kCollection;
  config.index.kind = IndexKind::kFlat;
  config.index.metric = Metric::kL2;
  config.index.dimension = kDim;
  config.num_shards = 1;
  config.index_partitions = 1;
  Result<std::unique_ptr<Collection>> c = Collection::create(config);
  if (!c.is_ok()) std::abort();
  return std::move(c).value();
}

void BM_FlatUpsert(benchmark::State& state, bool move) {
  const auto& upserts = fresh_upserts();
  size_t failures = 0;
  run_stream<Collection>(state, upserts, move, make_flat_collection, [&](Collection& c, auto&& m) {
    failures += !c.apply(std::forward<decltype(m)>(m)).is_ok();
  });
  if (failures != 0) state.SkipWithError("apply rejected a mutation");
}
BENCHMARK_CAPTURE(BM_FlatUpsert, const_ref, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FlatUpsert, rvalue, true)->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------------------------
// Growth pauses: a 16-shard flat collection (the benchmarks' `ingest` layout) grows from empty to
// 1.1 M vectors through apply(), in groups of 256 upserts (one UpsertBatch's worth), and each
// group is timed on the wall clock. A structure that grows all at once (a contiguous buffer that
// doubles, a hash map that rehashes every entry) shows up as one slow group at its doubling
// point, during which a node's event loop does nothing else. Counters: the slowest group and the
// median group, in ms. Before blocked flat storage and incremental hash maps, the slowest group
// was ~1 s (the 1,048,576-vector doubling of FAISS's IndexFlat).

constexpr size_t kGrowthVectors = 1'100'000;
constexpr size_t kGrowthGroup = 256;

void BM_GrowthPause(benchmark::State& state) {
  // 4,096 distinct embeddings, reused: a flat index does not care, and generating 1.1 M fresh
  // ones would dominate the run.
  GaussianMixture mixture(MixtureSpec{});
  const std::vector<float> pool = mixture.sample(4096, /*seed=*/9);
  for (auto _ : state) {
    CollectionConfig config;
    config.name = kCollection;
    config.index.kind = IndexKind::kFlat;
    config.index.dimension = kDim;
    config.num_shards = 16;
    std::unique_ptr<Collection> c = std::move(Collection::create(config)).value();
    std::vector<uint64_t> sequence(config.num_shards, 0);
    std::vector<double> group_ms;
    group_ms.reserve(kGrowthVectors / kGrowthGroup);
    Mutation m = make_upsert(kCollection, "", std::vector<float>(kDim), Payload{}, 0, 1, 0);
    size_t failures = 0;
    for (size_t first = 0; first + kGrowthGroup <= kGrowthVectors; first += kGrowthGroup) {
      const auto start = std::chrono::steady_clock::now();
      for (size_t i = first; i < first + kGrowthGroup; ++i) {
        m.vector_id = vector_id(i);
        std::copy_n(pool.begin() + ptrdiff_t((i % 4096) * kDim), kDim, m.embedding.begin());
        m.timestamp = 1'000'000 + i;
        m.origin_sequence = ++sequence[c->shard_of(m.vector_id)];
        failures += !c->apply(m).is_ok();
      }
      group_ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
    if (failures != 0) state.SkipWithError("apply rejected a mutation");
    std::sort(group_ms.begin(), group_ms.end());
    state.counters["worst_group_ms"] = group_ms.back();
    state.counters["median_group_ms"] = group_ms[group_ms.size() / 2];
    state.PauseTiming();
    c.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(kGrowthVectors));
}
BENCHMARK(BM_GrowthPause)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace meridian::bench
