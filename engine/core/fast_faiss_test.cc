// The vectorised kernels against a double-precision reference, and each Fast* index against
// the stock FAISS index it replaces: same neighbours, distances equal up to rounding.
#include "engine/core/fast_faiss.h"

#include <faiss/IndexHNSW.h>
#include <faiss/impl/IDSelector.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "engine/core/simd_distance.h"

namespace meridian {
namespace {

using idx_t = faiss::Index::idx_t;

std::vector<float> random_vectors(size_t n, size_t d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> v(n * d);
  for (auto& x : v) x = normal(rng);
  return v;
}

// 8 well separated clusters, so that IVF lists have structure and HNSW recall is meaningful.
std::vector<float> clustered_vectors(size_t n, size_t d, uint32_t seed) {
  const auto centres = random_vectors(8, d, seed + 1);
  auto v = random_vectors(n, d, seed);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < d; ++j)
      v[i * d + j] = 0.2f * v[i * d + j] + 3 * centres[(i % 8) * d + j];
  }
  return v;
}

TEST(SimdDistanceTest, MatchesDoublePrecisionForEveryLengthAroundTheLaneWidth) {
  for (size_t d : {1, 2, 7, 15, 16, 17, 31, 32, 33, 100, 128, 130, 1000}) {
    const auto a = random_vectors(1, d, 11 + uint32_t(d));
    const auto b = random_vectors(1, d, 99 + uint32_t(d));
    double l2 = 0, ip = 0, scale = 0;
    for (size_t i = 0; i < d; ++i) {
      l2 += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
      ip += double(a[i]) * b[i];
      scale += std::abs(double(a[i]) * b[i]) + double(a[i]) * a[i] + double(b[i]) * b[i];
    }
    EXPECT_NEAR(simd::l2_squared(a.data(), b.data(), d), l2, 1e-5 * scale) << "d=" << d;
    EXPECT_NEAR(simd::inner_product(a.data(), b.data(), d), ip, 1e-5 * scale) << "d=" << d;
  }
  EXPECT_EQ(simd::l2_squared(nullptr, nullptr, 0), 0.f);
  EXPECT_EQ(simd::inner_product(nullptr, nullptr, 0), 0.f);
}

struct Result {
  std::vector<float> distances;
  std::vector<idx_t> labels;
};

Result run_search(const faiss::Index& index, const std::vector<float>& queries, size_t d, idx_t k,
                  const faiss::SearchParameters* params = nullptr) {
  const idx_t n = idx_t(queries.size() / d);
  Result r{std::vector<float>(size_t(n * k)), std::vector<idx_t>(size_t(n * k))};
  index.search(n, queries.data(), k, r.distances.data(), r.labels.data(), params);
  return r;
}

void expect_same(const Result& stock, const Result& fast) {
  ASSERT_EQ(stock.labels.size(), fast.labels.size());
  for (size_t i = 0; i < stock.labels.size(); ++i) {
    EXPECT_EQ(stock.labels[i], fast.labels[i]) << "rank " << i;
    EXPECT_NEAR(stock.distances[i], fast.distances[i], 1e-3f * (1 + std::abs(stock.distances[i])));
  }
}

TEST(FastFlatIndexTest, SameNeighboursAsFaissForBothMetricsAndBatchSizes) {
  const size_t d = 40, n = 3000;
  const auto data = random_vectors(n, d, 1);
  for (auto metric : {faiss::METRIC_L2, faiss::METRIC_INNER_PRODUCT}) {
    faiss::IndexFlat stock(idx_t(d), metric);
    FastFlatIndex fast(idx_t(d), metric);
    stock.add(idx_t(n), data.data());
    fast.add(idx_t(n), data.data());
    for (size_t nq : {1, 5, 30}) {  // 30 takes FAISS's BLAS path in both
      const auto queries = random_vectors(nq, d, 7 + uint32_t(nq));
      for (idx_t k : {1, 10}) {
        SCOPED_TRACE(testing::Message() << "metric=" << metric << " nq=" << nq << " k=" << k);
        expect_same(run_search(stock, queries, d, k), run_search(fast, queries, d, k));
      }
    }
  }
}

TEST(FastFlatIndexTest, HonoursTheSelectorEvenForOneHit) {
  const size_t d = 16, n = 500;
  const auto data = random_vectors(n, d, 2);
  FastFlatIndex fast(idx_t(d), faiss::METRIC_L2);
  fast.add(idx_t(n), data.data());
  faiss::IDSelectorRange odd_half(250, 500);
  faiss::SearchParameters params;
  params.sel = &odd_half;
  // The query is stored vector 3, outside the selected range: the best hit must come from it.
  const std::vector<float> query(data.begin() + 3 * d, data.begin() + 4 * d);
  for (idx_t k : {1, 5}) {
    const Result r = run_search(fast, query, d, k, &params);
    for (idx_t label : r.labels) EXPECT_TRUE(label >= 250 && label < 500) << label;
  }
  EXPECT_EQ(run_search(fast, query, d, 1).labels[0], 3);  // without it, itself
}

TEST(FastFlatIndexTest, KLargerThanTheIndexLeavesEmptySlots) {
  const size_t d = 8;
  const auto data = random_vectors(3, d, 3);
  FastFlatIndex fast(idx_t(d), faiss::METRIC_L2);
  fast.add(3, data.data());
  const Result r = run_search(fast, random_vectors(1, d, 4), d, 5);
  EXPECT_GE(r.labels[2], 0);
  EXPECT_EQ(r.labels[3], -1);
  EXPECT_EQ(r.labels[4], -1);
}

TEST(FastIvfFlatTest, SameNeighboursAsFaissWithTheSameListsAndSelector) {
  const size_t d = 32, n = 4000, nlist = 16;
  const auto data = clustered_vectors(n, d, 5);
  std::vector<idx_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = idx_t(1000 + 3 * i);
  for (auto metric : {faiss::METRIC_L2, faiss::METRIC_INNER_PRODUCT}) {
    SCOPED_TRACE(testing::Message() << "metric=" << metric);
    faiss::IndexFlat stock_quantizer(idx_t(d), metric);
    faiss::IndexIVFFlat stock(&stock_quantizer, d, nlist, metric);
    stock.train(idx_t(n), data.data());
    // Same centroids in both, so that both put every vector in the same list.
    FastFlatIndex fast_quantizer(idx_t(d), metric);
    fast_quantizer.add(stock_quantizer.ntotal, stock_quantizer.get_xb());
    FastIvfFlat fast(&fast_quantizer, d, nlist, metric);
    fast.is_trained = true;
    stock.add_with_ids(idx_t(n), data.data(), ids.data());
    fast.add_with_ids(idx_t(n), data.data(), ids.data());
    for (size_t list = 0; list < nlist; ++list) {
      ASSERT_EQ(stock.invlists->list_size(list), fast.invlists->list_size(list));
    }
    const auto queries = clustered_vectors(6, d, 77);
    faiss::SearchParametersIVF params;
    params.nprobe = 4;
    expect_same(run_search(stock, queries, d, 10, &params),
                run_search(fast, queries, d, 10, &params));
    faiss::IDSelectorRange some(1000, 1000 + 3 * 700);  // the first 700 ids
    params.sel = &some;
    const Result stock_sel = run_search(stock, queries, d, 10, &params);
    const Result fast_sel = run_search(fast, queries, d, 10, &params);
    expect_same(stock_sel, fast_sel);
    for (idx_t label : fast_sel.labels) EXPECT_TRUE(label < 0 || label < 1000 + 3 * 700) << label;
  }
}

double recall(const Result& got, const Result& truth, size_t nq, idx_t k) {
  size_t found = 0;
  for (size_t q = 0; q < nq; ++q) {
    for (idx_t i = 0; i < k; ++i) {
      for (idx_t j = 0; j < k; ++j) found += got.labels[q * k + i] == truth.labels[q * k + j];
    }
  }
  return double(found) / double(nq * size_t(k));
}

TEST(FastFlatIndexTest, HnswOnFastStorageFindsWhatFaissHnswFinds) {
  const size_t d = 32, n = 3000, nq = 100;
  const idx_t k = 10;
  const auto data = clustered_vectors(n, d, 9);
  const auto queries = clustered_vectors(nq, d, 10);
  faiss::IndexHNSWFlat stock(int(d), 16);
  faiss::IndexHNSW graph(new FastFlatIndex(idx_t(d), faiss::METRIC_L2), 16);
  graph.own_fields = true;
  graph.is_trained = true;
  for (faiss::IndexHNSW* g : {static_cast<faiss::IndexHNSW*>(&stock), &graph}) {
    g->hnsw.efConstruction = 100;
    g->hnsw.efSearch = 64;
    for (size_t i = 0; i < n; ++i) g->add(1, data.data() + i * d);
  }
  faiss::IndexFlat exact(idx_t(d), faiss::METRIC_L2);
  exact.add(idx_t(n), data.data());
  const Result truth = run_search(exact, queries, d, k);
  const double stock_recall = recall(run_search(stock, queries, d, k), truth, nq, k);
  const double fast_recall = recall(run_search(graph, queries, d, k), truth, nq, k);
  EXPECT_GE(fast_recall, stock_recall - 0.02) << "stock " << stock_recall;
  EXPECT_GE(fast_recall, 0.9);
  // The graph's distance computer is ours: it returns the kernel's distances.
  std::unique_ptr<faiss::DistanceComputer> dc(graph.storage->get_distance_computer());
  dc->set_query(queries.data());
  EXPECT_EQ((*dc)(7), simd::l2_squared(queries.data(), data.data() + 7 * d, d));
  EXPECT_EQ(dc->symmetric_dis(1, 2), simd::l2_squared(data.data() + d, data.data() + 2 * d, d));
}

}  // namespace
}  // namespace meridian
