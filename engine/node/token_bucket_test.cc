#include "engine/node/token_bucket.h"

#include <gtest/gtest.h>

namespace meridian::node {
namespace {

TEST(TokenBucket, BurstIsFreeThenRequestsArePacedAtTheRate) {
  TokenBucket bucket(1000, 500);  // 1000 units/s, burst 500
  EXPECT_EQ(bucket.reserve(500, 0), 0);
  EXPECT_EQ(bucket.reserve(1000, 0), 1 * env::kSecond);         // 1000 units of debt
  EXPECT_EQ(bucket.reserve(500, 0), 1500 * env::kMillisecond);  // queued behind it
  // After 1.5 s the debt is paid; 0.5 s more refills 500 (the burst cap).
  EXPECT_EQ(bucket.reserve(500, 2 * env::kSecond), 0);
}

TEST(TokenBucket, RefillIsCappedAtTheBurst) {
  TokenBucket bucket(100, 100);
  EXPECT_EQ(bucket.reserve(100, 0), 0);
  EXPECT_EQ(bucket.reserve(300, 100 * env::kSecond), 2 * env::kSecond);  // only 100 refilled
}

TEST(TokenBucket, ZeroRateMeansUnlimited) {
  TokenBucket bucket(0, 0);
  EXPECT_EQ(bucket.reserve(1e12, 0), 0);
}

}  // namespace
}  // namespace meridian::node
