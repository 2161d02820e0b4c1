// Exact search over rows kept dense: removing a key moves the last row into its place, so removal
// costs O(dimension) instead of FAISS's O(n) remove_ids. Distances are the vectorised kernels of
// fast_faiss.h (FlatTopK), the same ones FastFlatIndex uses.
//
// Rows live in blocks of at most kBlockBytes rather than in one buffer (as faiss::IndexFlat keeps
// them) because a flat index grows on the node's event loop: doubling one buffer copies every
// vector at once, which at 1 M 128-d vectors stalled every write behind it for about a second.
// Only the last block grows (by doubling, up to its full size), so growth copies at most one
// block however large the index is, and a small index holds no more memory than its rows need.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/vector_index.h"

namespace meridian {

class FlatIndex : public VectorIndex {
 public:
  // Rows per full block: as many as fit in kBlockBytes, and at least one.
  static constexpr size_t kBlockBytes = size_t(1) << 20;

  explicit FlatIndex(const IndexParams& params);

  void upsert(VectorKey key, const float* embedding) override;
  void remove(VectorKey key) override;
  size_t size() const override { return key_of_row_.size(); }
  void search(const float* query, size_t k, const KeyFilter* filter,
              std::vector<IndexHit>* out) const override;
  std::string describe() const override;

  // Row access in storage order, for indexes that are built from a flat one (IVF training).
  VectorKey key_at(size_t row) const { return key_of_row_[row]; }
  const float* vector_at(size_t row) const;

  size_t rows_per_block() const { return rows_per_block_; }
  size_t block_count() const { return blocks_.size(); }

 private:
  float* mutable_row(size_t row);

  size_t rows_per_block_;
  std::vector<std::vector<float>> blocks_;  // all full (rows_per_block_ rows) but the last
  std::vector<VectorKey> key_of_row_;
  std::vector<int64_t> row_of_key_;  // indexed by key; -1 when the key is not stored
};

}  // namespace meridian
