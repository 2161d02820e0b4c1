// search_bench's data set and the layouts it compares (raw FAISS, raw FAISS per shard, the
// engine's Collection), with their builders. Header-only, like datasets.h, because each
// benchmark binary is one .cc file (bench/CMakeLists.txt); only search_bench.cc includes it.
// What each layout is and why it is built this way: search_bench.cc's header comment.
#pragma once

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "bench/datasets.h"
#include "engine/core/collection.h"
#include "engine/core/routing.h"

namespace meridian::bench::search {

inline constexpr uint32_t kDim = 128;
inline constexpr size_t kQueries = 1000;
inline constexpr size_t kK = 10;
inline constexpr uint32_t kShards = 64;
inline constexpr size_t kRecallQueriesApprox = 500;
inline constexpr size_t kRecallQueriesExact = 200;
inline const std::string kCollection = "bench";

using idx_t = faiss::Index::idx_t;

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

inline size_t num_vectors() {
  static const size_t n = [] {
    const char* env = std::getenv("MERIDIAN_BENCH_VECTORS");
    return env != nullptr ? size_t(std::strtoull(env, nullptr, 10)) : size_t(100'000);
  }();
  return n;
}

// The data set and its exact top-k (FAISS brute force, batched) for every query.
struct Data {
  std::vector<float> base;      // num_vectors() x kDim
  std::vector<float> queries;   // kQueries x kDim
  std::vector<idx_t> truth;     // kQueries x kK, base row numbers
  std::vector<uint32_t> shard;  // base row -> shard_of(vector_id(row), kShards)

  const float* query(size_t q) const { return &queries[q * kDim]; }
};

inline const Data& data() {
  static const Data d = [] {
    const auto start = std::chrono::steady_clock::now();
    GaussianMixture mixture(MixtureSpec{});  // 128-d, 100 centroids, seed 42
    Data out;
    out.base = mixture.sample(num_vectors(), /*stream_seed=*/1);
    out.queries = mixture.sample(kQueries, /*stream_seed=*/2);
    faiss::IndexFlatL2 exact(kDim);
    exact.add(idx_t(num_vectors()), out.base.data());
    std::vector<float> distances(kQueries * kK);
    out.truth.resize(kQueries * kK);
    omp_set_num_threads(omp_get_num_procs());
    exact.search(idx_t(kQueries), out.queries.data(), idx_t(kK), distances.data(),
                 out.truth.data());
    omp_set_num_threads(1);
    out.shard.resize(num_vectors());
    for (size_t i = 0; i < num_vectors(); ++i) out.shard[i] = shard_of(vector_id(i), kShards);
    std::fprintf(stderr, "search_bench: %zu vectors, %zu queries, ground truth in %.1f s\n",
                 num_vectors(), kQueries, seconds_since(start));
    return out;
  }();
  return d;
}

// ---------------------------------------------------------------------------------------------
// The things being searched. Each answers top-k as base row numbers, for the recall check.

class Searcher {
 public:
  virtual ~Searcher() = default;
  // Searches one query; appends the hits' base row numbers to *rows (only used for recall).
  virtual void search(const float* query, std::vector<idx_t>* rows) const = 0;
  virtual std::string label() const = 0;
  double build_seconds = 0;
};

// One raw FAISS index, rows = FAISS ids (added in base order).
class RawSearcher : public Searcher {
 public:
  explicit RawSearcher(std::unique_ptr<faiss::Index> index,
                       std::unique_ptr<faiss::Index> owned = {})
      : quantizer_(std::move(owned)), index_(std::move(index)) {}
  void search(const float* query, std::vector<idx_t>* rows) const override {
    float distances[kK];
    idx_t labels[kK];
    index_->search(1, query, idx_t(kK), distances, labels);
    rows->insert(rows->end(), labels, labels + kK);
  }
  std::string label() const override { return "ntotal=" + std::to_string(index_->ntotal); }

 private:
  std::unique_ptr<faiss::Index>
      quantizer_;  // IVF's coarse quantizer (declared first: outlives index_)
  std::unique_ptr<faiss::Index> index_;
};

// kShards raw FAISS indexes, vectors split by shard; search all, merge the top k by distance.
class RawShardedSearcher : public Searcher {
 public:
  explicit RawShardedSearcher(std::vector<std::unique_ptr<faiss::Index>> indexes,
                              std::vector<std::vector<idx_t>> rows_of)
      : indexes_(std::move(indexes)), rows_of_(std::move(rows_of)) {}
  void search(const float* query, std::vector<idx_t>* rows) const override {
    float distances[kK];
    idx_t labels[kK];
    std::vector<std::pair<float, idx_t>> candidates;
    candidates.reserve(kK * indexes_.size());
    for (size_t s = 0; s < indexes_.size(); ++s) {
      indexes_[s]->search(1, query, idx_t(kK), distances, labels);
      for (size_t i = 0; i < kK && labels[i] >= 0; ++i) {
        candidates.emplace_back(distances[i], rows_of_[s][size_t(labels[i])]);
      }
    }
    const size_t n = std::min(kK, candidates.size());
    std::partial_sort(candidates.begin(), candidates.begin() + ptrdiff_t(n), candidates.end());
    for (size_t i = 0; i < n; ++i) rows->push_back(candidates[i].second);
  }
  std::string label() const override { return std::to_string(indexes_.size()) + " indexes"; }

 private:
  std::vector<std::unique_ptr<faiss::Index>> indexes_;
  std::vector<std::vector<idx_t>> rows_of_;  // per index: FAISS id -> base row
};

class CollectionSearcher : public Searcher {
 public:
  explicit CollectionSearcher(std::unique_ptr<Collection> c) : c_(std::move(c)) {}
  void search(const float* query, std::vector<idx_t>* rows) const override {
    Result<std::vector<SearchHit>> hits = c_->search(std::span<const float>(query, kDim), kK);
    if (!hits.is_ok()) std::abort();
    for (const SearchHit& h : *hits) rows->push_back(idx_t(vector_number(h.id)));
  }
  // The first partition's describe() line, e.g. "hnsw l2 M=32 live=1571 tombstones=0".
  std::string label() const override {
    return c_->describe_indexes().front() +
           (c_->describe_indexes().size() > 1
                ? " (first of " + std::to_string(c_->describe_indexes().size()) + ")"
                : "");
  }
  // Search only, without the hits' translation to rows (the measured loop).
  size_t search_only(const float* query) const {
    Result<std::vector<SearchHit>> hits = c_->search(std::span<const float>(query, kDim), kK);
    return hits.is_ok() ? hits->size() : 0;
  }

 private:
  std::unique_ptr<Collection> c_;
};

// ---------------------------------------------------------------------------------------------
// Builders.

inline IndexParams engine_params(IndexKind kind) {
  IndexParams p;  // the engine's defaults: HNSW M=32 efC=100 efS=64; IVF nlist=256 nprobe=16
  p.kind = kind;
  p.metric = Metric::kL2;
  p.dimension = kDim;
  return p;
}

inline std::unique_ptr<Searcher> build_collection(IndexKind kind, uint32_t partitions) {
  const auto start = std::chrono::steady_clock::now();
  omp_set_num_threads(1);
  const Data& d = data();
  CollectionConfig config;
  config.name = kCollection;
  config.index = engine_params(kind);
  config.num_shards = kShards;
  config.index_partitions = partitions;
  Result<std::unique_ptr<Collection>> created = Collection::create(config);
  if (!created.is_ok()) {
    std::fprintf(stderr, "Collection::create: %s\n", created.status().to_string().c_str());
    std::abort();
  }
  std::unique_ptr<Collection> c = std::move(created).value();
  std::vector<uint64_t> next_sequence(kShards, 1);  // each shard's stream from origin 1: 1, 2, ...
  for (size_t i = 0; i < num_vectors(); ++i) {
    std::vector<float> e(d.base.begin() + ptrdiff_t(i * kDim),
                         d.base.begin() + ptrdiff_t((i + 1) * kDim));
    Mutation m = make_upsert(kCollection, vector_id(i), std::move(e), small_payload(i),
                             1'000'000 + i, /*origin=*/1, next_sequence[d.shard[i]]++);
    Result<ApplyOutcome> r = c->apply(std::move(m));
    if (!r.is_ok()) {
      std::fprintf(stderr, "apply: %s\n", r.status().to_string().c_str());
      std::abort();
    }
  }
  auto s = std::make_unique<CollectionSearcher>(std::move(c));
  s->build_seconds = seconds_since(start);
  std::fprintf(stderr, "search_bench: built %s collection p%u in %.1f s\n", index_kind_name(kind),
               partitions, s->build_seconds);
  return s;
}

inline std::unique_ptr<faiss::Index> make_raw_index(IndexKind kind) {
  if (kind == IndexKind::kHnsw) {
    const IndexParams p = engine_params(kind);
    auto h = std::make_unique<faiss::IndexHNSWFlat>(int(kDim), int(p.hnsw_m));
    h->hnsw.efConstruction = int(p.hnsw_ef_construction);
    h->hnsw.efSearch = int(p.hnsw_ef_search);
    return h;
  }
  return std::make_unique<faiss::IndexFlatL2>(kDim);
}

// Adds rows one add() call at a time, as the engine does. For HNSW this matters: FAISS draws each
// node's level from the index's own seeded RNG in insertion order and links it against the graph
// built so far, so single-threaded single adds in the same order build exactly the graph the
// collection builds, and the comparison measures the engine's search path, not two graphs.
// (A batched add builds a different, equally valid graph: vertices are inserted level by level.)
inline void add_one_by_one(faiss::Index* index, size_t n, const float* rows) {
  for (size_t i = 0; i < n; ++i) index->add(1, rows + i * kDim);
}

// Flat or HNSW: one index, all vectors added one at a time in base order (single-threaded).
inline std::unique_ptr<Searcher> build_raw(IndexKind kind) {
  const auto start = std::chrono::steady_clock::now();
  omp_set_num_threads(1);
  const Data& d = data();
  std::unique_ptr<faiss::Index> index = make_raw_index(kind);
  add_one_by_one(index.get(), num_vectors(), d.base.data());
  auto s = std::make_unique<RawSearcher>(std::move(index));
  s->build_seconds = seconds_since(start);
  std::fprintf(stderr, "search_bench: built raw %s in %.1f s\n", index_kind_name(kind),
               s->build_seconds);
  return s;
}

// Flat or HNSW: kShards indexes, vectors split by shard, added one at a time in base order.
inline std::unique_ptr<Searcher> build_raw_sharded(IndexKind kind) {
  const auto start = std::chrono::steady_clock::now();
  omp_set_num_threads(1);
  const Data& d = data();
  std::vector<std::vector<idx_t>> rows_of(kShards);
  for (size_t i = 0; i < num_vectors(); ++i) rows_of[d.shard[i]].push_back(idx_t(i));
  std::vector<std::unique_ptr<faiss::Index>> indexes;
  std::vector<float> buf;
  for (uint32_t s = 0; s < kShards; ++s) {
    buf.clear();
    for (idx_t row : rows_of[s]) {
      buf.insert(buf.end(), d.base.begin() + row * kDim, d.base.begin() + (row + 1) * kDim);
    }
    indexes.push_back(make_raw_index(kind));
    add_one_by_one(indexes.back().get(), rows_of[s].size(), buf.data());
  }
  auto s = std::make_unique<RawShardedSearcher>(std::move(indexes), std::move(rows_of));
  s->build_seconds = seconds_since(start);
  std::fprintf(stderr, "search_bench: built raw %s x%u in %.1f s\n", index_kind_name(kind), kShards,
               s->build_seconds);
  return s;
}

// IVF as the engine builds it with one partition: k-means (seed 1234) on the first
// 39 * nlist vectors in insertion order, then every vector added.
inline std::unique_ptr<Searcher> build_raw_ivf() {
  const auto start = std::chrono::steady_clock::now();
  omp_set_num_threads(1);
  const Data& d = data();
  const IndexParams p = engine_params(IndexKind::kIvf);
  const size_t train_n = std::min(num_vectors(), size_t(39) * p.ivf_nlist);
  auto quantizer = std::make_unique<faiss::IndexFlatL2>(kDim);
  auto ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer.get(), kDim, p.ivf_nlist);
  ivf->cp.seed = 1234;
  ivf->nprobe = p.ivf_nprobe;
  ivf->train(idx_t(train_n), d.base.data());
  ivf->add(idx_t(num_vectors()), d.base.data());
  auto s = std::make_unique<RawSearcher>(std::move(ivf), std::move(quantizer));
  s->build_seconds = seconds_since(start);
  std::fprintf(stderr, "search_bench: built raw ivf in %.1f s\n", s->build_seconds);
  return s;
}

}  // namespace meridian::bench::search
