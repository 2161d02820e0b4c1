#include "sim/checker.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "sim/rng.h"

namespace meridian::sim {
namespace {

TEST(NearestRank, PicksTheCeilingRank) {
  std::vector<TimeNs> v;
  for (TimeNs i = 100; i >= 1; --i) v.push_back(i);  // unsorted on purpose
  EXPECT_EQ(nearest_rank(v, 50), 50);
  EXPECT_EQ(nearest_rank(v, 99), 99);
  EXPECT_EQ(nearest_rank(v, 100), 100);
  EXPECT_EQ(nearest_rank(v, 0.5), 1);

  std::vector<TimeNs> three = {30, 10, 20};
  EXPECT_EQ(nearest_rank(three, 50), 20);  // rank ceil(1.5) = 2
  EXPECT_EQ(nearest_rank(three, 99), 30);  // rank ceil(2.97) = 3
  EXPECT_EQ(nearest_rank(three, 1), 10);

  std::vector<TimeNs> one = {7};
  EXPECT_EQ(nearest_rank(one, 50), 7);
  EXPECT_EQ(nearest_rank(one, 99), 7);

  std::vector<TimeNs> none;
  EXPECT_EQ(nearest_rank(none, 99), 0);
}

TEST(NearestRank, IndexIsAlwaysAnObservedRank) {
  EXPECT_EQ(nearest_rank_index(200, 99), 198u);
  EXPECT_EQ(nearest_rank_index(1000, 99), 990u);
  EXPECT_EQ(nearest_rank_index(101, 99), 100u);  // ceil(99.99)
  EXPECT_EQ(nearest_rank_index(5, 0.001), 1u);
  EXPECT_EQ(nearest_rank_index(5, 100), 5u);
}

TEST(HotShardRule, FlagsAnEightyFivePercentSkew) {
  std::vector<uint64_t> counts(8, 30);
  counts[3] = 1190;  // 1190 / 1400 = 85 %
  const auto hot = hot_shards_of(counts);
  ASSERT_EQ(hot.size(), 1u);
  EXPECT_EQ(hot[0].shard, 3u);
  EXPECT_NEAR(hot[0].share, 0.85, 1e-9);
}

TEST(HotShardRule, FlagsEightyPercentOnFourShards) {
  const auto hot = hot_shards_of({50, 800, 75, 75});
  ASSERT_EQ(hot.size(), 1u);
  EXPECT_EQ(hot[0].shard, 1u);
}

TEST(HotShardRule, DoesNotFlagUniformLoad) {
  for (uint32_t shards : {4u, 8u, 16u, 64u}) {
    for (uint64_t writes : {200u, 1000u, 50'000u}) {
      Rng rng(shards * 1000 + writes);
      std::vector<uint64_t> counts(shards, 0);
      for (uint64_t i = 0; i < writes; ++i) ++counts[rng.below(shards)];
      EXPECT_TRUE(hot_shards_of(counts).empty()) << shards << " shards, " << writes << " writes";
    }
  }
}

TEST(HotShardRule, NeedsEnoughWritesAndShards) {
  EXPECT_TRUE(hot_shards_of({0, kHotShardMinWrites - 1, 0, 0}).empty());  // too few writes
  EXPECT_EQ(hot_shards_of({0, kHotShardMinWrites, 0, 0}).size(), 1u);
  EXPECT_TRUE(hot_shards_of({1000, 10}).empty());      // 2 shards: never
  EXPECT_TRUE(hot_shards_of({1000, 10, 10}).empty());  // 3 shards: never
  EXPECT_TRUE(hot_shards_of({}).empty());
  // 60 % of 8 shards: above max(0.5, 3/8).
  EXPECT_EQ(hot_shards_of({600, 60, 60, 60, 60, 60, 50, 50}).size(), 1u);
  // 45 % is not a majority.
  EXPECT_TRUE(hot_shards_of({450, 80, 80, 80, 80, 80, 75, 75}).empty());
}

}  // namespace
}  // namespace meridian::sim
