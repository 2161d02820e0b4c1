// Throughput of delta catch-up and the durable shard formats, on one realistic shard: 30,000
// 128-d vectors with small payloads (a ~17 MiB sealed segment, one of 64 shards of a 2 M-vector
// collection), and the same shard after 1 % of its vectors were re-upserted.
//
//   BM_Signature/<block_len>   rsync_signature over the old segment
//   BM_Delta/<block_len>       rsync_delta(signature(old), new); counters: delta and signature
//   bytes BM_Patch/<block_len>       rsync_patch(old, delta) BM_SegmentWrite write_snapshot_segment
//   (canonical encode + blocks + CRCs) BM_SegmentVerify           verify_segment (all CRCs, no
//   decode) BM_SegmentRead             read_segment (CRCs + full decode into a ShardReplica)
//   BM_ShardDigest             digest_shard (sort ids, canonical bytes, SHA-256 per bucket)
//
// bytes_per_second is over the segment's size. docs/benchmarks.md records the figures.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/datasets.h"
#include "engine/core/rsync_delta.h"
#include "engine/core/segment_file.h"
#include "engine/core/shard_digest.h"
#include "engine/core/shard_replica.h"

namespace meridian::bench {
namespace {

constexpr size_t kVectors = 30000;
constexpr uint32_t kDim = 128;

struct Shard {
  SegmentHeader header;
  ShardReplica before{0};
  ShardReplica after{0};
  std::string old_file;
  std::string new_file;
};

const Shard& shard() {
  static const Shard s = [] {
    Shard s;
    s.header.collection = "bench";
    s.header.dimension = kDim;
    GaussianMixture mixture(MixtureSpec{});
    for (Mutation& m : make_fresh_upserts("bench", mixture, kVectors, 0, 7)) {
      (void)s.before.apply(std::move(m));
    }
    s.after = s.before;
    const std::vector<float> fresh = mixture.sample(kVectors / 100, 8);
    SplitMix64 rng(9);
    for (size_t u = 0; u < kVectors / 100; ++u) {
      const uint64_t i = rng.below(kVectors);
      std::vector<float> e(fresh.begin() + ptrdiff_t(u * kDim),
                           fresh.begin() + ptrdiff_t((u + 1) * kDim));
      (void)s.after.apply(make_upsert("bench", vector_id(i), std::move(e), small_payload(i),
                                      2'000'000 + u, 2, u + 1));
    }
    s.old_file = write_snapshot_segment(s.header, s.before);
    s.new_file = write_snapshot_segment(s.header, s.after);
    return s;
  }();
  return s;
}

RsyncSignatureOptions options(const benchmark::State& state) {
  return {.block_len = size_t(state.range(0)), .strong_len = 8};
}

void BM_Signature(benchmark::State& state) {
  const Shard& s = shard();
  for (auto _ : state) benchmark::DoNotOptimize(rsync_signature(s.old_file, options(state)));
  state.SetBytesProcessed(int64_t(state.iterations() * s.old_file.size()));
}
BENCHMARK(BM_Signature)->Arg(512)->Arg(1024)->Arg(2048)->Arg(4096)->Unit(benchmark::kMillisecond);

void BM_Delta(benchmark::State& state) {
  const Shard& s = shard();
  const std::string sig = *rsync_signature(s.old_file, options(state));
  size_t delta_bytes = 0;
  for (auto _ : state) {
    Result<std::string> d = rsync_delta(sig, s.new_file);
    delta_bytes = d->size();
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(int64_t(state.iterations() * s.new_file.size()));
  state.counters["delta_bytes"] = double(delta_bytes);
  state.counters["signature_bytes"] = double(sig.size());
  state.counters["wire_fraction"] = double(delta_bytes + sig.size()) / double(s.new_file.size());
}
BENCHMARK(BM_Delta)->Arg(512)->Arg(1024)->Arg(2048)->Arg(4096)->Unit(benchmark::kMillisecond);

void BM_Patch(benchmark::State& state) {
  const Shard& s = shard();
  const std::string delta = *rsync_delta(*rsync_signature(s.old_file, options(state)), s.new_file);
  for (auto _ : state) benchmark::DoNotOptimize(rsync_patch(s.old_file, delta));
  state.SetBytesProcessed(int64_t(state.iterations() * s.new_file.size()));
}
BENCHMARK(BM_Patch)->Arg(1024)->Unit(benchmark::kMillisecond);

void BM_SegmentWrite(benchmark::State& state) {
  const Shard& s = shard();
  for (auto _ : state) benchmark::DoNotOptimize(write_snapshot_segment(s.header, s.after));
  state.SetBytesProcessed(int64_t(state.iterations() * s.new_file.size()));
}
BENCHMARK(BM_SegmentWrite)->Unit(benchmark::kMillisecond);

// What a checkpoint pays on the event loop when it encodes off the loop: a copy of the shard.
void BM_ShardCopy(benchmark::State& state) {
  const Shard& s = shard();
  for (auto _ : state) {
    ShardReplica copy = s.after;
    benchmark::DoNotOptimize(copy);
  }
  state.SetBytesProcessed(int64_t(state.iterations() * s.new_file.size()));
}
BENCHMARK(BM_ShardCopy)->Unit(benchmark::kMillisecond);

void BM_SegmentVerify(benchmark::State& state) {
  const Shard& s = shard();
  for (auto _ : state) benchmark::DoNotOptimize(verify_segment(s.new_file));
  state.SetBytesProcessed(int64_t(state.iterations() * s.new_file.size()));
}
BENCHMARK(BM_SegmentVerify)->Unit(benchmark::kMillisecond);

void BM_SegmentRead(benchmark::State& state) {
  const Shard& s = shard();
  for (auto _ : state) benchmark::DoNotOptimize(read_segment(s.new_file));
  state.SetBytesProcessed(int64_t(state.iterations() * s.new_file.size()));
}
BENCHMARK(BM_SegmentRead)->Unit(benchmark::kMillisecond);

void BM_ShardDigest(benchmark::State& state) {
  const Shard& s = shard();
  for (auto _ : state) benchmark::DoNotOptimize(digest_shard(s.after));
  state.SetBytesProcessed(int64_t(state.iterations() * s.new_file.size()));
}
BENCHMARK(BM_ShardDigest)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace meridian::bench
