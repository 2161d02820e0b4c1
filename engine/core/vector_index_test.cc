#include "engine/core/vector_index.h"

#include <faiss/impl/IDSelector.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "engine/core/fast_faiss.h"
#include "engine/core/flat_index.h"
#include "engine/core/hnsw_index.h"
#include "engine/core/ivf_index.h"

namespace meridian {
namespace {

IndexParams params_for(IndexKind kind, Metric metric, uint32_t dim) {
  IndexParams p;
  p.kind = kind;
  p.metric = metric;
  p.dimension = dim;
  p.ivf_nlist = 8;
  p.ivf_nprobe = 8;  // probe every list: results must then be exact
  return p;
}

std::vector<IndexHit> search(const VectorIndex& index, std::vector<float> q, size_t k,
                             const KeyFilter* filter = nullptr) {
  std::vector<IndexHit> out;
  index.search(q.data(), k, filter, &out);
  return out;
}

class EvenKeys : public KeyFilter {
 public:
  bool accept(VectorKey key) const override { return key % 2 == 0; }
};

class VectorIndexKindTest : public ::testing::TestWithParam<IndexKind> {};

TEST_P(VectorIndexKindTest, NeverReturnsRemovedOrOutdatedVectors) {
  auto index = make_vector_index(params_for(GetParam(), Metric::kL2, 2));
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-10, 10);
  // Enough vectors that the IVF index trains (39 * nlist) and the HNSW graph is nontrivial.
  for (VectorKey key = 0; key < 600; ++key) {
    float v[2] = {u(rng), u(rng)};
    index->upsert(key, v);
  }
  // Move key 5 onto the query point, then remove key 5's neighbours-to-be and key 6.
  float target[2] = {100, 100};
  index->upsert(5, target);
  index->remove(6);
  index->remove(6);  // removing twice is harmless
  EXPECT_EQ(index->size(), 599u);
  auto hits = search(*index, {100, 100}, 3);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].key, 5u);
  EXPECT_FLOAT_EQ(hits[0].score, 0.0f);
  // The old position of key 5 must be gone: searching near the origin never yields key 6, and
  // key 5 appears only once.
  auto all = search(*index, {0, 0}, 600);
  EXPECT_EQ(all.size(), 599u);
  int fives = 0;
  for (const auto& h : all) {
    EXPECT_NE(h.key, 6u);
    fives += h.key == 5 ? 1 : 0;
  }
  EXPECT_EQ(fives, 1);
  index->remove(5);
  EXPECT_NE(search(*index, {100, 100}, 1)[0].key, 5u);
}

TEST_P(VectorIndexKindTest, FilterRestrictsResults) {
  auto index = make_vector_index(params_for(GetParam(), Metric::kL2, 1));
  for (VectorKey key = 0; key < 400; ++key) {
    float v = float(key);
    index->upsert(key, &v);
  }
  EvenKeys even;
  auto hits = search(*index, {101}, 4, &even);
  ASSERT_EQ(hits.size(), 4u);
  for (const auto& h : hits) EXPECT_EQ(h.key % 2, 0u);
  EXPECT_TRUE((hits[0].key == 100 || hits[0].key == 102));
}

// Regression: FAISS 1.7.3's flat L2 search ignores the IDSelector when k == 1.
TEST_P(VectorIndexKindTest, FilterHoldsForKOneAndSingleVector) {
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
    auto index = make_vector_index(params_for(GetParam(), metric, 2));
    float v[2] = {1, 1};
    index->upsert(1, v);  // odd key: rejected by the filter
    EvenKeys even;
    EXPECT_TRUE(search(*index, {1, 1}, 1, &even).empty()) << metric_name(metric);
    index->upsert(2, v);
    auto hits = search(*index, {1, 1}, 1, &even);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].key, 2u);
  }
}

TEST_P(VectorIndexKindTest, CosineNormalisesAndRanksByAngle) {
  auto index = make_vector_index(params_for(GetParam(), Metric::kCosine, 2));
  float a[2] = {10, 0}, b[2] = {0, 3}, c[2] = {1, 1};
  index->upsert(0, a);
  index->upsert(1, b);
  index->upsert(2, c);
  auto hits = search(*index, {5, 0.1f}, 3);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].key, 0u);
  EXPECT_NEAR(hits[0].score, 1.0f, 1e-3);
  EXPECT_EQ(hits[1].key, 2u);
  EXPECT_EQ(hits[2].key, 1u);
}

TEST_P(VectorIndexKindTest, InnerProductPrefersLargerProducts) {
  auto index = make_vector_index(params_for(GetParam(), Metric::kInnerProduct, 2));
  float a[2] = {1, 0}, b[2] = {3, 0};
  index->upsert(0, a);
  index->upsert(1, b);
  auto hits = search(*index, {1, 0}, 2);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].key, 1u);
  EXPECT_FLOAT_EQ(hits[0].score, 3.0f);
}

TEST_P(VectorIndexKindTest, EmptyIndexAndKLargerThanSize) {
  auto index = make_vector_index(params_for(GetParam(), Metric::kL2, 3));
  EXPECT_TRUE(search(*index, {0, 0, 0}, 5).empty());
  float v[3] = {1, 2, 3};
  index->upsert(9, v);
  EXPECT_EQ(search(*index, {0, 0, 0}, 5).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(AllKinds, VectorIndexKindTest,
                         ::testing::Values(IndexKind::kFlat, IndexKind::kHnsw, IndexKind::kIvf),
                         [](const auto& info) { return std::string(index_kind_name(info.param)); });

TEST(HnswIndexTest, RebuildsWhenTombstonesOutnumberLiveVectors) {
  HnswIndex index(params_for(IndexKind::kHnsw, Metric::kL2, 2));
  const size_t n = HnswIndex::kMinTombstonesForRebuild + 10;
  for (VectorKey key = 0; key < n; ++key) {
    float v[2] = {float(key), 0};
    index.upsert(key, v);
  }
  for (VectorKey key = 0; key + 5 < n; ++key) index.remove(key);
  EXPECT_EQ(index.size(), 5u);
  EXPECT_LT(index.tombstones(), HnswIndex::kMinTombstonesForRebuild);  // it rebuilt
  std::vector<IndexHit> hits;
  float q[2] = {0, 0};
  index.search(q, 10, nullptr, &hits);
  ASSERT_EQ(hits.size(), 5u);
  EXPECT_EQ(hits[0].key, VectorKey(n - 5));
}

TEST(IvfIndexTest, SearchesExactlyUntilTrainedThenTrains) {
  IndexParams p = params_for(IndexKind::kIvf, Metric::kL2, 2);
  IvfIndex index(p);
  for (VectorKey key = 0; key + 1 < index.train_size(); ++key) {
    float v[2] = {float(key), 1};
    index.upsert(key, v);
  }
  EXPECT_FALSE(index.trained());
  float v[2] = {-5, -5};
  index.upsert(100000, v);
  EXPECT_TRUE(index.trained());
  EXPECT_EQ(index.size(), index.train_size());
  std::vector<IndexHit> hits;
  index.search(v, 1, nullptr, &hits);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].key, 100000u);
}

TEST(FlatIndexTest, SearchesExactlyAcrossBlocksAsRowsComeAndGo) {
  // 4,096-d rows: 64 per 1 MiB block, so 300 vectors span five blocks.
  constexpr uint32_t kDim = 4096;
  FlatIndex index(params_for(IndexKind::kFlat, Metric::kL2, kDim));
  ASSERT_EQ(index.rows_per_block(), 64u);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  std::map<VectorKey, std::vector<float>> model;
  auto put = [&](VectorKey key) {
    std::vector<float> v(kDim);
    for (float& x : v) x = u(rng);
    index.upsert(key, v.data());
    model[key] = std::move(v);
  };
  for (VectorKey key = 0; key < 300; ++key) put(key);
  EXPECT_EQ(index.block_count(), 5u);
  for (VectorKey key = 0; key < 300; key += 3) put(key);  // overwrite in place
  for (VectorKey key = 1; key < 300; key += 2) {          // remove half: rows move across blocks
    index.remove(key);
    model.erase(key);
  }
  ASSERT_EQ(index.size(), model.size());
  EXPECT_EQ(index.block_count(), 3u);  // 150 rows: two full blocks and part of a third
  // Every stored vector is its own nearest neighbour, and the ranking is the brute-force one.
  for (const auto& [key, v] : model) {
    std::vector<std::pair<float, VectorKey>> expected;
    for (const auto& [other, w] : model) {
      float d = 0;
      for (uint32_t i = 0; i < kDim; ++i) d += (v[i] - w[i]) * (v[i] - w[i]);
      expected.emplace_back(d, other);
    }
    std::sort(expected.begin(), expected.end());
    std::vector<IndexHit> hits = search(index, v, 5);
    ASSERT_EQ(hits.size(), 5u);
    for (size_t i = 0; i < hits.size(); ++i) {
      EXPECT_EQ(hits[i].key, expected[i].second) << "query " << key << " rank " << i;
      EXPECT_NEAR(hits[i].score, expected[i].first, 1e-2f * (1 + expected[i].first));
    }
  }
  EvenKeys even;  // the filter sees every block too
  for (const IndexHit& hit : search(index, model.begin()->second, 200, &even)) {
    EXPECT_EQ(hit.key % 2, 0u);
  }
  while (!model.empty()) {
    index.remove(model.begin()->first);
    model.erase(model.begin());
  }
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.block_count(), 0u);
  EXPECT_TRUE(search(index, std::vector<float>(kDim, 0.f), 3).empty());
}

// The index keeps its own key -> (list, offset) table instead of FAISS's hash-table direct map.
// Against FAISS doing the same adds, replacements (single and batched) and removals with that
// map, every search must return the same keys with the same distances: the same entries.
TEST(IvfIndexTest, RemovalKeepsTheSameEntriesAsFaissDirectMapRemoval) {
  constexpr uint32_t kDim = 8;
  IndexParams p = params_for(IndexKind::kIvf, Metric::kL2, kDim);
  p.ivf_nlist = 8;
  p.ivf_nprobe = 2;
  p.ivf_train_size = 400;
  IvfIndex index(p);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1, 1);
  auto random_vector = [&] {
    std::vector<float> v(kDim);
    for (float& x : v) x = u(rng);
    return v;
  };
  std::vector<float> training;  // keys 0..399 in key order: what the index trains on
  for (VectorKey key = 0; key < 400; ++key) {
    std::vector<float> v = random_vector();
    training.insert(training.end(), v.begin(), v.end());
    index.upsert(key, v.data());
  }
  ASSERT_TRUE(index.trained());
  FastFlatIndex quantizer(kDim, faiss::METRIC_L2);
  FastIvfFlat reference(&quantizer, kDim, p.ivf_nlist, faiss::METRIC_L2);
  reference.cp.seed = 1234;
  reference.nprobe = p.ivf_nprobe;
  reference.train(400, training.data());
  reference.set_direct_map_type(faiss::DirectMap::Hashtable);
  std::vector<faiss::Index::idx_t> labels(400);
  for (size_t i = 0; i < 400; ++i) labels[i] = faiss::Index::idx_t(i);
  reference.add_with_ids(400, training.data(), labels.data());

  std::set<VectorKey> stored;
  for (VectorKey key = 0; key < 400; ++key) stored.insert(key);
  for (int step = 0; step < 3000; ++step) {
    const VectorKey key = VectorKey(rng() % 600);
    const faiss::Index::idx_t label = key;
    const faiss::IDSelectorArray one(1, &label);
    if (rng() % 3 == 0) {
      index.remove(key);
      reference.remove_ids(one);
      stored.erase(key);
    } else if (rng() % 2 == 0) {
      std::vector<float> v = random_vector();
      index.upsert(key, v.data());
      reference.remove_ids(one);
      reference.add_with_ids(1, v.data(), &label);
      stored.insert(key);
    } else {  // a batch of 25 distinct keys, as a merge delivers them
      std::set<VectorKey> batch;
      while (batch.size() < 25) batch.insert(VectorKey(rng() % 600));
      std::vector<VectorKey> keys(batch.begin(), batch.end());
      std::vector<faiss::Index::idx_t> ids(keys.begin(), keys.end());
      std::vector<float> data;
      for (size_t i = 0; i < keys.size(); ++i) {
        std::vector<float> v = random_vector();
        data.insert(data.end(), v.begin(), v.end());
      }
      index.upsert_batch(keys, data);
      reference.remove_ids(faiss::IDSelectorArray(ids.size(), ids.data()));
      reference.add_with_ids(faiss::Index::idx_t(ids.size()), data.data(), ids.data());
      stored.insert(keys.begin(), keys.end());
    }
    ASSERT_EQ(index.size(), stored.size());
    ASSERT_EQ(size_t(reference.ntotal), stored.size());
  }
  for (int q = 0; q < 50; ++q) {
    std::vector<float> query = random_vector();
    std::vector<IndexHit> hits = search(index, query, 20);
    std::vector<float> distances(20);
    std::vector<faiss::Index::idx_t> expected(20);
    reference.search(1, query.data(), 20, distances.data(), expected.data());
    ASSERT_EQ(hits.size(), 20u);
    for (size_t i = 0; i < hits.size(); ++i) {
      EXPECT_EQ(faiss::Index::idx_t(hits[i].key), expected[i]) << "query " << q << " rank " << i;
      EXPECT_EQ(hits[i].score, distances[i]) << "query " << q << " rank " << i;
    }
  }
}

TEST(IndexParamsTest, RejectsOutOfRangeValues) {
  IndexParams p = params_for(IndexKind::kFlat, Metric::kL2, 0);
  EXPECT_EQ(validate(p).code(), StatusCode::kInvalidArgument);
  p.dimension = 8;
  EXPECT_TRUE(validate(p).is_ok());
  p.ivf_nprobe = p.ivf_nlist + 1;
  EXPECT_FALSE(validate(p).is_ok());
  EXPECT_FALSE(parse_metric("manhattan").is_ok());
  EXPECT_EQ(*parse_index_kind("hnsw"), IndexKind::kHnsw);
}

}  // namespace
}  // namespace meridian
