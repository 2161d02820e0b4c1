// Inverted-file search over faiss::IndexIVFFlat (FastIvfFlat: vectorised list scans), trained
// lazily.
//
// IVF needs a trained coarse quantizer, and training needs data. Until the collection holds
// `train_size` live vectors, vectors live in an exact FlatIndex (so small collections are exact
// and cheap). When that size is reached, k-means runs on the live vectors in ascending key
// order and every vector moves into the inverted lists; afterwards upserts and removals are
// native IVF operations (a hash-table direct map makes remove O(1) per key).
#pragma once

#include <memory>
#include <vector>

#include "engine/core/fast_faiss.h"
#include "engine/core/flat_index.h"
#include "engine/core/vector_index.h"

namespace meridian {

class IvfIndex : public VectorIndex {
 public:
  explicit IvfIndex(const IndexParams& params);

  void upsert(VectorKey key, const float* embedding) override;
  void upsert_batch(const std::vector<VectorKey>& keys,
                    const std::vector<float>& embeddings) override;
  void remove(VectorKey key) override;
  size_t size() const override;
  void search(const float* query, size_t k, const KeyFilter* filter,
              std::vector<IndexHit>* out) const override;
  std::string describe() const override;

  bool trained() const { return ivf_ != nullptr; }
  size_t train_size() const;

 private:
  void train_from_staging();

  std::unique_ptr<FlatIndex> staging_;  // until trained
  std::unique_ptr<FastFlatIndex> quantizer_;
  std::unique_ptr<FastIvfFlat> ivf_;
  std::vector<bool> stored_;  // indexed by key, once trained
  size_t live_ = 0;           // once trained
};

}  // namespace meridian
