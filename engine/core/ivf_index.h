// Inverted-file search over faiss::IndexIVFFlat (FastIvfFlat: vectorised list scans), trained
// lazily.
//
// IVF needs a trained coarse quantizer, and training needs data. Until the collection holds
// `train_size` live vectors, vectors live in an exact FlatIndex (so small collections are exact
// and cheap). When that size is reached, k-means runs on the live vectors in ascending key
// order and every vector moves into the inverted lists; afterwards upserts and removals are
// IVF operations. Removal is O(1) per key: the index keeps where each key's entry is (list,
// offset) in a vector indexed by key and swaps the list's last entry into the hole, as FAISS's
// hash-table direct map does, but without a hash table, which rehashes every entry at once as
// it grows (on the node's event loop: 47 ms at 520 k vectors, and doubling with every doubling).
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
  // Adds n vectors (n * dimension floats, already prepared) labelled by their keys, and records
  // where each landed. REQUIRES: trained, and none of the keys stored.
  void add_trained(size_t n, const float* data, const faiss::Index::idx_t* keys);
  void remove_trained(VectorKey key);

  std::unique_ptr<FlatIndex> staging_;  // until trained
  std::unique_ptr<FastFlatIndex> quantizer_;
  std::unique_ptr<FastIvfFlat> ivf_;
  // Once trained, indexed by key: faiss::lo_build(list, offset) of the key's entry, or kAbsent.
  static constexpr uint64_t kAbsent = ~uint64_t(0);
  std::vector<uint64_t> entry_of_key_;
  size_t live_ = 0;  // once trained
};

}  // namespace meridian
