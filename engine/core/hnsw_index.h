// Approximate search over a FAISS HNSW graph with tombstones. The graph stores its vectors in
// a FastFlatIndex, so graph construction and search use the vectorised distances.
//
// FAISS 1.7.3's HNSW cannot delete, so a removed or replaced key leaves its old graph node in
// place, marked dead; searches exclude dead nodes with an IDSelector (the graph still routes
// through them, so recall is unaffected). A replaced key gets a new node. When dead nodes
// outnumber live ones (and there are at least kMinTombstonesForRebuild), the graph is rebuilt
// from the live vectors in key order, which bounds both memory and the search-time filter cost.
#pragma once

#include <faiss/IndexHNSW.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/core/vector_index.h"

namespace meridian {

class HnswIndex : public VectorIndex {
 public:
  static constexpr size_t kMinTombstonesForRebuild = 1024;

  explicit HnswIndex(const IndexParams& params);

  void upsert(VectorKey key, const float* embedding) override;
  void remove(VectorKey key) override;
  size_t size() const override { return live_; }
  void search(const float* query, size_t k, const KeyFilter* filter,
              std::vector<IndexHit>* out) const override;
  std::string describe() const override;

  size_t tombstones() const { return key_of_node_.size() - live_; }
  // Rebuilds the graph from live vectors only (ascending key order). Also called automatically.
  void rebuild();

 private:
  std::unique_ptr<faiss::IndexHNSW> make_graph() const;
  void kill_node(int64_t node);
  void maybe_rebuild();

  std::unique_ptr<faiss::IndexHNSW> graph_;
  std::vector<VectorKey> key_of_node_;  // FAISS id (insertion order) -> key
  std::vector<bool> dead_;              // FAISS id -> removed or replaced
  std::vector<int64_t> node_of_key_;    // key -> live FAISS id, or -1
  size_t live_ = 0;
};

}  // namespace meridian
