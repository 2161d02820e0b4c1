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
void scan_rows(const float* query, const float* rows, size_t n, size_t d, idx_t first_label,
               const faiss::IDSelector* sel, size_t k, float* dis, idx_t* ids) {
  using Heap = typename Distance::Heap;
  for (size_t i = 0; i < n; ++i) {
    const idx_t label = first_label + idx_t(i);
    if (sel != nullptr && !sel->is_member(label)) continue;
    const float v = Distance::of(query, rows + i * d, d);
    if (Heap::cmp(dis[0], v)) faiss::heap_replace_top<Heap>(k, dis, ids, v, label);
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

FlatTopK::FlatTopK(faiss::MetricType metric, const float* query, size_t d, size_t k,
                   float* distances, idx_t* labels)
    : l2_(metric == faiss::METRIC_L2),
      query_(query),
      d_(d),
      k_(k),
      distances_(distances),
      labels_(labels) {
  if (l2_) {
    faiss::heap_heapify<L2::Heap>(k_, distances_, labels_);
  } else {
    faiss::heap_heapify<InnerProduct::Heap>(k_, distances_, labels_);
  }
}

void FlatTopK::scan(const float* rows, size_t n, idx_t first_label, const faiss::IDSelector* sel) {
  if (k_ == 0) return;
  if (l2_) {
    scan_rows<L2>(query_, rows, n, d_, first_label, sel, k_, distances_, labels_);
  } else {
    scan_rows<InnerProduct>(query_, rows, n, d_, first_label, sel, k_, distances_, labels_);
  }
}

void FlatTopK::finish() {
  if (l2_) {
    faiss::heap_reorder<L2::Heap>(k_, distances_, labels_);
  } else {
    faiss::heap_reorder<InnerProduct::Heap>(k_, distances_, labels_);
  }
}

void FastFlatIndex::search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                           const faiss::SearchParameters* params) const {
  const faiss::IDSelector* sel = params != nullptr ? params->sel : nullptr;
  const bool ours = metric_type == faiss::METRIC_L2 || metric_type == faiss::METRIC_INNER_PRODUCT;
  if (!ours || (n >= faiss::distance_compute_blas_threshold && sel == nullptr)) {
    faiss::IndexFlat::search(n, x, k, distances, labels, params);  // sgemm: vectorised already
    return;
  }
  for (idx_t q = 0; q < n; ++q) {
    FlatTopK top(metric_type, x + q * d, size_t(d), size_t(k), distances + q * k, labels + q * k);
    top.scan(get_xb(), size_t(ntotal), 0, sel);
    top.finish();
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
