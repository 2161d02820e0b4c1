// FAISS indexes whose distance loops run on simd_distance.h instead of the scalar loops of
// Debian's generic FAISS build.
//
// They are FAISS's own index types with one extension point overridden each, so that training,
// inverted lists, graph construction, direct maps and selectors stay FAISS's code:
//  - FastFlatIndex replaces IndexFlat's one-query-at-a-time scan (batches of
//    faiss::distance_compute_blas_threshold or more queries keep FAISS's BLAS path, which is
//    already vectorised) and hands HNSW graphs built on it a vectorised distance computer.
//  - FastIvfFlat replaces IndexIVFFlat's inverted-list scanner.
// Results are the same neighbours as FAISS's, with distances that can differ in the last bits
// (summation order, simd_distance.h); fast_faiss_test.cc compares them with stock FAISS.
#pragma once

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>

#include <cstddef>

namespace meridian {

// The k best rows of an exhaustive scan, with the vectorised kernels: FastFlatIndex's loop, and
// the loop of stores that keep their rows in several blocks rather than one buffer (FlatIndex).
// Rows are offered in label order; a row replaces the current k-th best only if strictly better,
// so ties keep the earlier label, as FAISS's own scan does.
class FlatTopK {
 public:
  using idx_t = faiss::Index::idx_t;

  // The results are kept in the caller's `distances` and `labels` (k each), which are a heap
  // until finish(). REQUIRES: metric is METRIC_L2 or METRIC_INNER_PRODUCT; `query` (d floats)
  // and both arrays outlive the scan.
  FlatTopK(faiss::MetricType metric, const float* query, size_t d, size_t k, float* distances,
           idx_t* labels);

  // Offers rows[0 .. n) (n * d floats), labelled first_label + i; rows `sel` rejects are skipped.
  void scan(const float* rows, size_t n, idx_t first_label, const faiss::IDSelector* sel);

  // Orders the k results best first in the caller's arrays; slots past the number of rows
  // accepted get label -1. Ends the scan.
  void finish();

 private:
  bool l2_;
  const float* query_;
  size_t d_;
  size_t k_;
  float* distances_;  // with labels_, a FAISS heap: CMax for L2, CMin for inner product
  idx_t* labels_;
};

class FastFlatIndex : public faiss::IndexFlat {
 public:
  FastFlatIndex(idx_t d, faiss::MetricType metric) : faiss::IndexFlat(d, metric) {}

  // Honours params->sel for every k (FAISS 1.7.3's own k == 1 L2 path ignores it).
  void search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
              const faiss::SearchParameters* params = nullptr) const override;

  faiss::FlatCodesDistanceComputer* get_FlatCodesDistanceComputer() const override;
};

class FastIvfFlat : public faiss::IndexIVFFlat {
 public:
  // As faiss::IndexIVFFlat: `quantizer` is not owned and must outlive the index.
  FastIvfFlat(faiss::Index* quantizer, size_t d, size_t nlist, faiss::MetricType metric)
      : faiss::IndexIVFFlat(quantizer, d, nlist, metric) {}

  faiss::InvertedListScanner* get_InvertedListScanner(bool store_pairs,
                                                      const faiss::IDSelector* sel) const override;
};

}  // namespace meridian
