// Exact search over a FAISS flat index (FastFlatIndex: vectorised distances) whose rows we keep
// dense: removing a key moves the last row into its place, so removal costs O(dimension) instead of
// FAISS's O(n) remove_ids.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/fast_faiss.h"
#include "engine/core/vector_index.h"

namespace meridian {

class FlatIndex : public VectorIndex {
 public:
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

 private:
  float* mutable_row(size_t row);

  FastFlatIndex index_;
  std::vector<VectorKey> key_of_row_;
  std::vector<int64_t> row_of_key_;  // indexed by key; -1 when the key is not stored
};

}  // namespace meridian
