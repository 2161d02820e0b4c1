#include "sim/workload.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include "engine/core/routing.h"
#include "sim/rng.h"
#include "sim/zipf.h"

namespace meridian::sim {
namespace {

double harmonic(uint64_t n, double s) {
  double h = 0;
  for (uint64_t i = 1; i <= n; ++i) h += std::pow(double(i), -s);
  return h;
}

TEST(ZipfSampler, ProbabilitiesMatchTheFormulaAndSumToOne) {
  const ZipfSampler zipf(1000, 1.2);
  const double h = harmonic(1000, 1.2);
  EXPECT_NEAR(zipf.probability(1), 1 / h, 1e-12);
  EXPECT_NEAR(zipf.probability(10), std::pow(10.0, -1.2) / h, 1e-12);
  double sum = 0;
  for (uint64_t r = 1; r <= zipf.size(); ++r) sum += zipf.probability(r);
  EXPECT_NEAR(sum, 1.0, 1e-9);
}

TEST(ZipfSampler, RanksStayInRange) {
  const ZipfSampler zipf(50, 1.0);
  EXPECT_EQ(zipf.rank_for(0.0), 1u);
  EXPECT_EQ(zipf.rank_for(std::nextafter(1.0, 0.0)), 50u);
  const ZipfSampler one(1, 2.0);
  EXPECT_EQ(one.rank_for(0.5), 1u);
}

TEST(ZipfSampler, RankOneFrequencyMatchesTheory) {
  for (double s : {0.8, 1.0, 1.2}) {
    const ZipfSampler zipf(8000, s);
    Rng rng(11);
    const int draws = 200'000;
    int rank1 = 0, top10 = 0;
    for (int i = 0; i < draws; ++i) {
      const uint64_t r = zipf.sample(rng);
      ASSERT_GE(r, 1u);
      ASSERT_LE(r, 8000u);
      rank1 += r == 1;
      top10 += r <= 10;
    }
    const double p1 = 1 / harmonic(8000, s);
    // 5 standard deviations of a binomial proportion.
    const double tol = 5 * std::sqrt(p1 * (1 - p1) / draws);
    EXPECT_NEAR(double(rank1) / draws, p1, tol) << "exponent " << s;
    double p10 = 0;
    for (uint64_t r = 1; r <= 10; ++r) p10 += zipf.probability(r);
    EXPECT_NEAR(double(top10) / draws, p10, 5 * std::sqrt(p10 * (1 - p10) / draws));
  }
}

TEST(ZipfSampler, SameStreamSameRanks) {
  const ZipfSampler zipf(100, 1.1);
  Rng a(3), b(3);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(zipf.sample(a), zipf.sample(b));
}

TEST(HotShardRankOrder, HotShardIdsComeFirstInAscendingOrder) {
  const uint64_t keys = 8000;
  const uint32_t shards = 8, hot = 3;
  const std::vector<uint64_t> order = hot_shard_rank_order(keys, hot, shards, 0);
  ASSERT_EQ(order.size(), keys);
  EXPECT_EQ(std::set<uint64_t>(order.begin(), order.end()).size(), keys);  // a permutation
  size_t in_hot = 0;
  while (in_hot < order.size() && shard_of(key_id(order[in_hot]), shards) == hot) ++in_hot;
  EXPECT_GT(in_hot, keys / shards / 2);  // about keys / shards
  EXPECT_LT(in_hot, keys / shards * 2);
  for (size_t i = in_hot; i < order.size(); ++i) {
    ASSERT_NE(shard_of(key_id(order[i]), shards), hot) << "rank " << i + 1;
  }
  EXPECT_TRUE(std::is_sorted(order.begin(), order.begin() + in_hot));
  EXPECT_TRUE(std::is_sorted(order.begin() + in_hot, order.end()));
}

TEST(HotShardRankOrder, RespectsTheRoutingSeed) {
  const std::vector<uint64_t> order = hot_shard_rank_order(500, 1, 4, 77);
  EXPECT_EQ(shard_of(key_id(order[0]), 4, 77), 1u);
}

TEST(KeyChooser, ZipfWithHotShardPutsMostDrawsOnThatShard) {
  // The hot-shard scenario's shape: Zipf(1.2) over 8000 keys, hot shard 3 of 8.
  WorkloadSpec spec;
  spec.keys = 8000;
  spec.key_distribution = KeyDistribution::kZipf;
  spec.zipf_exponent = 1.2;
  spec.hot_shard = 3;
  CollectionConfig config;
  config.num_shards = 8;
  const KeyChooser chooser(spec, config);
  Rng rng(5);
  const int draws = 50'000;
  int hot = 0;
  for (int i = 0; i < draws; ++i) hot += shard_of(chooser.draw_id(rng), 8) == 3;
  EXPECT_GT(double(hot) / draws, 0.8);
}

TEST(KeyChooser, UniformCoversTheKeySpace) {
  WorkloadSpec spec;
  spec.keys = 20;
  const KeyChooser chooser(spec, CollectionConfig{});
  Rng rng(9);
  std::vector<int> seen(20, 0);
  for (int i = 0; i < 4000; ++i) {
    const uint64_t k = chooser.draw_key(rng);
    ASSERT_LT(k, 20u);
    ++seen[k];
  }
  for (int c : seen) EXPECT_GT(c, 100);  // expectation 200 each
  EXPECT_EQ(key_id(17), "k17");
}

}  // namespace
}  // namespace meridian::sim
