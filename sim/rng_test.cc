#include "sim/rng.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

namespace meridian::sim {
namespace {

std::vector<uint64_t> draw(Rng rng, int n) {
  std::vector<uint64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(rng.next_u64());
  return out;
}

TEST(Rng, SameSeedSameSequence) {
  EXPECT_EQ(draw(Rng(7), 100), draw(Rng(7), 100));
  EXPECT_NE(draw(Rng(7), 100), draw(Rng(8), 100));
}

TEST(Rng, DeriveIsReproducible) {
  EXPECT_EQ(draw(Rng::derive(42, "network/a->b"), 100), draw(Rng::derive(42, "network/a->b"), 100));
}

TEST(Rng, DerivedStreamsDifferByNameAndSeed) {
  const auto ab = draw(Rng::derive(42, "network/a->b"), 100);
  EXPECT_NE(ab, draw(Rng::derive(42, "network/b->a"), 100));
  EXPECT_NE(ab, draw(Rng::derive(42, "disk/a"), 100));
  EXPECT_NE(ab, draw(Rng::derive(43, "network/a->b"), 100));
  // Streams are not shifted copies of each other either: no common values in the first 1,000.
  const auto x = draw(Rng::derive(1, "x"), 1000);
  const auto y = draw(Rng::derive(1, "y"), 1000);
  for (uint64_t v : x) {
    for (uint64_t w : y) ASSERT_NE(v, w);
  }
}

TEST(Rng, DrawingFromOneStreamDoesNotShiftAnother) {
  Rng a = Rng::derive(5, "a");
  Rng b1 = Rng::derive(5, "b");
  for (int i = 0; i < 1000; ++i) a.next_u64();
  Rng b2 = Rng::derive(5, "b");
  EXPECT_EQ(draw(b1, 10), draw(b2, 10));
}

// Golden values: recorded seeds must replay identically across builds and machines. If this
// fails, the generator changed and every seed printed by a past failing run is void. The values
// were checked against an independent implementation of FNV-1a, SplitMix64 and xoshiro256**.
TEST(Rng, GoldenSequence) {
  EXPECT_EQ(
      draw(Rng::derive(1, "golden"), 3),
      (std::vector<uint64_t>{0x58b9d7832c3ed97dull, 0x9c3da6e1bc9a27aaull, 0xc21bafeff92a9184ull}));
  EXPECT_EQ(hash_name(""), 0xcbf29ce484222325ull);   // FNV-1a offset basis
  EXPECT_EQ(hash_name("a"), 0xaf63dc4c8601ec8cull);  // FNV-1a 64 reference value
}

TEST(Rng, BelowStaysInBounds) {
  Rng rng(3);
  for (uint64_t bound : {uint64_t(1), uint64_t(2), uint64_t(3), uint64_t(7), uint64_t(1000),
                         (uint64_t(1) << 63) + 1, UINT64_MAX}) {
    for (int i = 0; i < 10'000; ++i) ASSERT_LT(rng.below(bound), bound) << bound;
  }
  for (int i = 0; i < 100; ++i) ASSERT_EQ(rng.below(1), 0u);
}

TEST(Rng, BelowIsRoughlyUniform) {
  Rng rng = Rng::derive(11, "uniformity");
  constexpr int kBuckets = 10;
  constexpr int kDraws = 100'000;
  std::array<int, kBuckets> counts{};
  for (int i = 0; i < kDraws; ++i) ++counts[rng.below(kBuckets)];
  // Chi-square with 9 degrees of freedom; the 99.9% quantile is 27.88.
  double chi2 = 0;
  const double expected = double(kDraws) / kBuckets;
  for (int c : counts) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 27.88);
  for (int c : counts) EXPECT_NEAR(c, expected, expected * 0.05);
}

TEST(Rng, NextUnitIsInUnitInterval) {
  Rng rng(9);
  double sum = 0;
  for (int i = 0; i < 100'000; ++i) {
    const double u = rng.next_unit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 100'000, 0.5, 0.005);
}

TEST(Rng, UniformStaysInRange) {
  Rng rng(10);
  for (int i = 0; i < 10'000; ++i) {
    const double v = rng.uniform(-3.0, 5.0);
    ASSERT_GE(v, -3.0);
    ASSERT_LT(v, 5.0);
  }
}

TEST(Rng, ExponentialMeanWithinTolerance) {
  Rng rng = Rng::derive(12, "exponential");
  constexpr int kDraws = 100'000;
  constexpr double kMean = 5.0;
  double sum = 0;
  for (int i = 0; i < kDraws; ++i) {
    const double v = rng.exponential(kMean);
    ASSERT_GE(v, 0.0);
    ASSERT_TRUE(std::isfinite(v));
    sum += v;
  }
  // Standard error of the mean is kMean / sqrt(kDraws) = 0.0158; allow about 4 of them.
  EXPECT_NEAR(sum / kDraws, kMean, 0.065);
}

TEST(Rng, ChanceMatchesProbability) {
  Rng rng = Rng::derive(13, "chance");
  int hits = 0;
  for (int i = 0; i < 100'000; ++i) hits += rng.chance(0.25);
  EXPECT_NEAR(hits / 100'000.0, 0.25, 0.006);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_FALSE(rng.chance(0.0));
    ASSERT_TRUE(rng.chance(1.0));
  }
}

}  // namespace
}  // namespace meridian::sim
