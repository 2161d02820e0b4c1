// A vector index over FAISS: the search structure behind a collection's shards.
//
// The index stores one embedding per VectorKey (a dense, region-local handle the collection
// assigns to each vector id) and answers top-k queries, optionally restricted by a filter. It
// reflects exactly the live vectors: upsert() replaces a key's embedding, remove() drops it, and
// no search ever returns a removed key or an outdated embedding, whatever the index kind:
//
//   kFlat  exact search (faiss::IndexFlat). Removal swaps the last vector into the hole, O(dim).
//   kHnsw  graph search (faiss::IndexHNSWFlat). FAISS 1.7.3 cannot remove from HNSW, so removed
//          and replaced entries become tombstones excluded at search time by an IDSelector; when
//          tombstones outnumber live entries the graph is rebuilt from the live ones.
//   kIvf   inverted lists (faiss::IndexIVFFlat). Until enough vectors exist to train the coarse
//          quantizer (ivf_train_size) the index searches exactly; then it trains on the live
//          vectors in key order and switches. Removal is native (hash-table direct map).
//
// Scores follow FAISS: squared L2 distance for kL2 (lower is better), inner product for
// kInnerProduct and kCosine (higher is better; cosine normalises stored and query vectors).
//
// Determinism: every operation is single-threaded in effect (inserts go one at a time), so the
// same sequence of calls builds the same structure. Search may use FAISS's OpenMP threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/status.h"

namespace meridian {

enum class Metric : uint8_t { kL2 = 1, kInnerProduct = 2, kCosine = 3 };
enum class IndexKind : uint8_t { kFlat = 1, kHnsw = 2, kIvf = 3 };

const char* metric_name(Metric m);
const char* index_kind_name(IndexKind k);
Result<Metric> parse_metric(const std::string& name);         // "l2", "ip", "cosine"
Result<IndexKind> parse_index_kind(const std::string& name);  // "flat", "hnsw", "ivf"

// True if score `a` ranks before score `b` under `metric`.
inline bool score_better(Metric metric, float a, float b) {
  return metric == Metric::kL2 ? a < b : a > b;
}

struct IndexParams {
  IndexKind kind = IndexKind::kFlat;
  Metric metric = Metric::kL2;
  uint32_t dimension = 0;
  // HNSW: graph degree, build-time and search-time beam widths.
  uint32_t hnsw_m = 32;
  uint32_t hnsw_ef_construction = 100;
  uint32_t hnsw_ef_search = 64;
  // IVF: number of inverted lists, lists probed per query, and how many live vectors trigger
  // training (0 = 39 * ivf_nlist, FAISS's minimum for a stable k-means).
  uint32_t ivf_nlist = 256;
  uint32_t ivf_nprobe = 16;
  uint32_t ivf_train_size = 0;
};

// Checks dimension (1..kMaxDimension) and that every parameter is in its documented range.
Status validate(const IndexParams& p);

using VectorKey = uint32_t;

struct IndexHit {
  VectorKey key;
  float score;
};

// Restricts a search to keys the caller accepts (e.g. "tags contains X").
class KeyFilter {
 public:
  virtual ~KeyFilter() = default;
  virtual bool accept(VectorKey key) const = 0;
};

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;

  // Stores `embedding` (params().dimension floats, finite) under `key`, replacing any previous one.
  virtual void upsert(VectorKey key, const float* embedding) = 0;
  // upsert() of keys[i] with embeddings[i * dimension ...], in order; kinds with a cheaper bulk
  // path (IVF: one BLAS-backed add instead of a centroid scan per vector) override it.
  // REQUIRES: keys distinct, embeddings.size() == keys.size() * dimension.
  virtual void upsert_batch(const std::vector<VectorKey>& keys,
                            const std::vector<float>& embeddings) {
    for (size_t i = 0; i < keys.size(); ++i) {
      upsert(keys[i], embeddings.data() + i * params_.dimension);
    }
  }
  // Removes `key`; a key that is not stored is ignored.
  virtual void remove(VectorKey key) = 0;
  // Live keys stored.
  virtual size_t size() const = 0;

  // Appends up to k hits for `query` to *out, best first (ties in any order). With a filter only
  // accepted keys are returned; approximate kinds may then return fewer than k even when more
  // matching keys exist (documented FAISS behaviour for filtered graph/IVF search).
  virtual void search(const float* query, size_t k, const KeyFilter* filter,
                      std::vector<IndexHit>* out) const = 0;

  // Human-readable structure summary, e.g. "hnsw live=1000 tombstones=12".
  virtual std::string describe() const = 0;

  const IndexParams& params() const { return params_; }

 protected:
  explicit VectorIndex(const IndexParams& params) : params_(params) {}
  // For kCosine: a unit-length copy of `v` in *scratch, returned; otherwise `v` itself.
  const float* prepare(const float* v, std::vector<float>* scratch) const;

 private:
  IndexParams params_;
};

// REQUIRES: validate(params).is_ok().
std::unique_ptr<VectorIndex> make_vector_index(const IndexParams& params);

}  // namespace meridian
