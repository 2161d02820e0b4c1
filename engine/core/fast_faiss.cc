#include "engine/core/fast_faiss.h"

#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/invlists/DirectMap.h>
#include <faiss/utils/Heap.h>
#include <faiss/utils/distances.h>

#include <type_traits>

#include "engine/core/simd_distance.h"

namespace meridian {

namespace {

using idx_t = faiss::Index::idx_t;

// The metric as a type: Distance::of() is the kernel, Heap the FAISS heap that keeps the k
// best (a max-heap of distances for L2, a min-heap of similarities for inner product).
struct L2 {
  using Heap = faiss::CMax<float, idx_t>;
  static float of(const float* a, const float* b, size_t d) { return simd::l2_squared(a, b, d); }
};
struct InnerProduct {
  using Heap = faiss::CMin<float, idx_t>;
  static float of(const float* a, const float* b, size_t d) { return simd::inner_product(a, b, d); }
};

template <class Distance>
void scan_flat(const FastFlatIndex& index, idx_t n, const float* x, idx_t k, float* distances,
               idx_t* labels, const faiss::IDSelector* sel) {
  using Heap = typename Distance::Heap;
  const size_t d = size_t(index.d);
  const float* xb = index.get_xb();
  for (idx_t q = 0; q < n; ++q) {
    float* dis = distances + q * k;
    idx_t* ids = labels + q * k;
    const float* query = x + q * index.d;
    faiss::heap_heapify<Heap>(size_t(k), dis, ids);
    for (idx_t i = 0; i < index.ntotal; ++i) {
      if (sel != nullptr && !sel->is_member(i)) continue;
      const float v = Distance::of(query, xb + size_t(i) * d, d);
      if (Heap::cmp(dis[0], v)) faiss::heap_replace_top<Heap>(size_t(k), dis, ids, v, i);
    }
    faiss::heap_reorder<Heap>(size_t(k), dis, ids);
  }
}

template <class Distance>
class FlatDistanceComputer final : public faiss::FlatCodesDistanceComputer {
 public:
  explicit FlatDistanceComputer(const faiss::IndexFlat& index)
      : faiss::FlatCodesDistanceComputer(index.codes.data(), index.code_size),
        d_(size_t(index.d)),
        xb_(index.get_xb()) {}

  void set_query(const float* x) override { query_ = x; }
  float distance_to_code(const uint8_t* code) override {
    return Distance::of(query_, reinterpret_cast<const float*>(code), d_);
  }
  float symmetric_dis(idx_t i, idx_t j) override {
    return Distance::of(xb_ + size_t(i) * d_, xb_ + size_t(j) * d_, d_);
  }

 private:
  size_t d_;
  const float* xb_;
  const float* query_ = nullptr;
};

// The same loop as FAISS's IVFFlatScanner (IndexIVFFlat.cpp), with the vectorised kernel.
template <class Distance>
class IvfFlatScanner final : public faiss::InvertedListScanner {
 public:
  IvfFlatScanner(size_t d, bool store_pairs, const faiss::IDSelector* sel)
      : faiss::InvertedListScanner(store_pairs, sel), d_(d) {
    keep_max = std::is_same_v<Distance, InnerProduct>;
    code_size = d * sizeof(float);
  }

  void set_query(const float* query) override { query_ = query; }
  void set_list(idx_t list, float /*coarse_dis*/) override { list_no = list; }
  float distance_to_code(const uint8_t* code) const override {
    return Distance::of(query_, reinterpret_cast<const float*>(code), d_);
  }

  size_t scan_codes(size_t n, const uint8_t* codes, const idx_t* ids, float* distances,
                    idx_t* labels, size_t k) const override {
    using Heap = typename Distance::Heap;
    const float* vectors = reinterpret_cast<const float*>(codes);
    size_t updates = 0;
    for (size_t j = 0; j < n; ++j) {
      if (sel != nullptr && !sel->is_member(ids[j])) continue;
      const float v = Distance::of(query_, vectors + j * d_, d_);
      if (Heap::cmp(distances[0], v)) {
        const idx_t id = store_pairs ? idx_t(faiss::lo_build(uint64_t(list_no), j)) : ids[j];
        faiss::heap_replace_top<Heap>(k, distances, labels, v, id);
        ++updates;
      }
    }
    return updates;
  }

  void scan_codes_range(size_t n, const uint8_t* codes, const idx_t* ids, float radius,
                        faiss::RangeQueryResult& result) const override {
    using Heap = typename Distance::Heap;
    const float* vectors = reinterpret_cast<const float*>(codes);
    for (size_t j = 0; j < n; ++j) {
      if (sel != nullptr && !sel->is_member(ids[j])) continue;
      const float v = Distance::of(query_, vectors + j * d_, d_);
      if (Heap::cmp(radius, v)) {
        result.add(v, store_pairs ? idx_t(faiss::lo_build(uint64_t(list_no), j)) : ids[j]);
      }
    }
  }

 private:
  size_t d_;
  const float* query_ = nullptr;
};

}  // namespace

void FastFlatIndex::search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                           const faiss::SearchParameters* params) const {
  const faiss::IDSelector* sel = params != nullptr ? params->sel : nullptr;
  const bool ours = metric_type == faiss::METRIC_L2 || metric_type == faiss::METRIC_INNER_PRODUCT;
  if (!ours || (n >= faiss::distance_compute_blas_threshold && sel == nullptr)) {
    faiss::IndexFlat::search(n, x, k, distances, labels, params);  // sgemm: vectorised already
    return;
  }
  if (metric_type == faiss::METRIC_L2) {
    scan_flat<L2>(*this, n, x, k, distances, labels, sel);
  } else {
    scan_flat<InnerProduct>(*this, n, x, k, distances, labels, sel);
  }
}

faiss::FlatCodesDistanceComputer* FastFlatIndex::get_FlatCodesDistanceComputer() const {
  if (metric_type == faiss::METRIC_L2) return new FlatDistanceComputer<L2>(*this);
  if (metric_type == faiss::METRIC_INNER_PRODUCT)
    return new FlatDistanceComputer<InnerProduct>(*this);
  return faiss::IndexFlat::get_FlatCodesDistanceComputer();
}

faiss::InvertedListScanner* FastIvfFlat::get_InvertedListScanner(
    bool store_pairs, const faiss::IDSelector* sel) const {
  if (metric_type == faiss::METRIC_L2) return new IvfFlatScanner<L2>(size_t(d), store_pairs, sel);
  if (metric_type == faiss::METRIC_INNER_PRODUCT) {
    return new IvfFlatScanner<InnerProduct>(size_t(d), store_pairs, sel);
  }
  return faiss::IndexIVFFlat::get_InvertedListScanner(store_pairs, sel);
}

}  // namespace meridian
