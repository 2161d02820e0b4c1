#include "engine/core/version_vector.h"

#include <gtest/gtest.h>

namespace meridian {
namespace {

TEST(VersionVectorTest, InOrderAddsAdvanceTheFrontier) {
  VersionVector vv;
  EXPECT_TRUE(vv.add(1, 1));
  EXPECT_TRUE(vv.add(1, 2));
  EXPECT_FALSE(vv.add(1, 2));  // duplicate
  EXPECT_EQ(vv.frontier(1), 2u);
  EXPECT_EQ(vv.frontier(2), 0u);
  EXPECT_TRUE(vv.contains(1, 1));
  EXPECT_FALSE(vv.contains(1, 3));
  EXPECT_FALSE(vv.contains(1, 0));
  EXPECT_EQ(vv.to_string(), "{1:2}");
}

TEST(VersionVectorTest, GapsAreKeptAsDotsAndFoldWhenFilled) {
  VersionVector vv;
  EXPECT_TRUE(vv.add(7, 3));
  EXPECT_TRUE(vv.add(7, 5));
  EXPECT_EQ(vv.frontier(7), 0u);
  EXPECT_EQ(vv.max_sequence(7), 5u);
  EXPECT_EQ(vv.gap_dot_count(), 2u);
  EXPECT_EQ(vv.to_string(), "{7:0+[3,5]}");
  EXPECT_TRUE(vv.add(7, 1));
  EXPECT_TRUE(vv.add(7, 2));  // 1..3 now contiguous
  EXPECT_EQ(vv.frontier(7), 3u);
  EXPECT_TRUE(vv.add(7, 4));
  EXPECT_EQ(vv.frontier(7), 5u);
  EXPECT_EQ(vv.gap_dot_count(), 0u);
}

TEST(VersionVectorTest, MergeIsUnionAndFolds) {
  VersionVector a, b;
  for (uint64_t s : {1, 2, 4}) ASSERT_TRUE(a.add(1, s));
  for (uint64_t s : {1, 3}) ASSERT_TRUE(b.add(1, s));
  ASSERT_TRUE(b.add(2, 1));
  VersionVector ab = a, ba = b;
  ab.merge(b);
  ba.merge(a);
  EXPECT_EQ(ab, ba);
  EXPECT_EQ(ab.frontier(1), 4u);
  EXPECT_EQ(ab.frontier(2), 1u);
  EXPECT_EQ(ab.gap_dot_count(), 0u);
  VersionVector again = ab;
  again.merge(ab);
  EXPECT_EQ(again, ab);
}

TEST(VersionVectorTest, MergeDropsDotsCoveredByTheOtherFrontier) {
  VersionVector a, b;
  ASSERT_TRUE(a.add(1, 3));
  for (uint64_t s = 1; s <= 5; ++s) ASSERT_TRUE(b.add(1, s));
  a.merge(b);
  EXPECT_EQ(a, b);
}

TEST(VersionVectorTest, Covers) {
  VersionVector small, big;
  ASSERT_TRUE(small.add(1, 1));
  ASSERT_TRUE(small.add(1, 3));
  for (uint64_t s = 1; s <= 3; ++s) ASSERT_TRUE(big.add(1, s));
  EXPECT_TRUE(big.covers(small));
  EXPECT_FALSE(small.covers(big));
  EXPECT_TRUE(big.covers(VersionVector()));
  ASSERT_TRUE(small.add(2, 1));
  EXPECT_FALSE(big.covers(small));
}

}  // namespace
}  // namespace meridian
