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

namespace meridian {

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
