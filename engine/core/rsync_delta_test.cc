#include "engine/core/rsync_delta.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace meridian {
namespace {

std::string pseudo_random_bytes(size_t n, uint64_t seed) {
  std::string out(n, '\0');
  uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
  for (char& c : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return out;
}

std::string roundtrip(const std::string& a, const std::string& b, RsyncDeltaStats* stats,
                      size_t* delta_bytes = nullptr) {
  Result<std::string> sig = rsync_signature(a);
  EXPECT_TRUE(sig.is_ok()) << sig.status().to_string();
  Result<std::string> delta = rsync_delta(*sig, b, stats);
  EXPECT_TRUE(delta.is_ok()) << delta.status().to_string();
  if (delta_bytes != nullptr) *delta_bytes = delta->size();
  Result<std::string> patched = rsync_patch(a, *delta);
  EXPECT_TRUE(patched.is_ok()) << patched.status().to_string();
  return patched.is_ok() ? *patched : std::string();
}

TEST(RsyncDeltaTest, SmallChangeGivesSmallDelta) {
  const std::string a = pseudo_random_bytes(1 << 20, 1);
  std::string b = a;
  for (size_t i = 0; i < 600; ++i) b[300000 + i] ^= 0x5a;  // one changed region
  RsyncDeltaStats stats;
  size_t delta_bytes = 0;
  EXPECT_EQ(roundtrip(a, b, &stats, &delta_bytes), b);
  EXPECT_LE(stats.literal_bytes, 3 * 1024u);  // at most a couple of 1 KiB blocks
  EXPECT_LT(delta_bytes, 4 * 1024u);
  EXPECT_EQ(stats.literal_bytes + stats.copy_bytes, b.size());
}

TEST(RsyncDeltaTest, SignatureSizeFollowsBlockAndStrongLength) {
  const std::string a = pseudo_random_bytes(10000, 2);
  Result<std::string> sig = rsync_signature(a, {.block_len = 1024, .strong_len = 8});
  ASSERT_TRUE(sig.is_ok());
  EXPECT_EQ(sig->size(), 12u + 10 * (4 + 8));  // header + ceil(10000/1024) sums
}

TEST(RsyncDeltaTest, EmptyInputs) {
  EXPECT_EQ(roundtrip("", "", nullptr), "");
  EXPECT_EQ(roundtrip("", "new", nullptr), "new");
  EXPECT_EQ(roundtrip("old", "", nullptr), "");
}

TEST(RsyncDeltaTest, BadOptionsAreRejected) {
  EXPECT_EQ(rsync_signature("x", {.block_len = 10, .strong_len = 8}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(rsync_signature("x", {.block_len = 1024, .strong_len = 3}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(rsync_signature("x", {.block_len = 1024, .strong_len = 33}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(RsyncDeltaTest, CorruptSignaturesAreErrors) {
  const std::string a = pseudo_random_bytes(8192, 3);
  const std::string sig = *rsync_signature(a);
  EXPECT_FALSE(rsync_delta("", a).is_ok());
  EXPECT_FALSE(rsync_delta("garbage garbage", a).is_ok());
  EXPECT_FALSE(rsync_delta(sig.substr(0, sig.size() - 3), a).is_ok());  // cut mid block sum
  std::string bad_magic = sig;
  bad_magic[0] ^= 1;
  Result<std::string> d = rsync_delta(bad_magic, a);
  ASSERT_FALSE(d.is_ok());
  EXPECT_NE(d.status().message().find("magic"), std::string::npos) << d.status().message();
  std::string bad_block_len = sig;
  bad_block_len[4] = '\x7f';  // block length ~2 GiB
  EXPECT_FALSE(rsync_delta(bad_block_len, a).is_ok());
  // Flipped bytes inside the sums are not detectable in a signature (they are just other sums);
  // the delta is then merely bigger, and patching still reproduces the new file.
  std::string flipped = sig;
  flipped[40] ^= 0xff;
  Result<std::string> delta = rsync_delta(flipped, a);
  ASSERT_TRUE(delta.is_ok());
  EXPECT_EQ(*rsync_patch(a, *delta), a);
}

TEST(RsyncDeltaTest, CorruptDeltasAreErrors) {
  const std::string a = pseudo_random_bytes(20000, 4);
  std::string b = a;
  b.insert(5000, "inserted bytes");
  const std::string delta = *rsync_delta(*rsync_signature(a), b);
  EXPECT_FALSE(rsync_patch(a, "").is_ok());
  Result<std::string> garbage = rsync_patch(a, "not a delta at all");
  ASSERT_FALSE(garbage.is_ok());
  EXPECT_NE(garbage.status().message().find("librsync"), std::string::npos);
  for (size_t n : {size_t(3), size_t(4), delta.size() / 2, delta.size() - 1}) {
    EXPECT_FALSE(rsync_patch(a, delta.substr(0, n)).is_ok()) << "prefix " << n;
  }
  // The delta against a shorter basis copies past its end.
  Result<std::string> short_basis = rsync_patch(a.substr(0, 1000), delta);
  ASSERT_FALSE(short_basis.is_ok());
  EXPECT_NE(short_basis.status().message().find("past its end"), std::string::npos)
      << short_basis.status().message();
  // Every single flipped byte either fails or (when it hits literal data) changes the output;
  // none crashes.
  for (size_t i = 0; i < delta.size(); ++i) {
    std::string d = delta;
    d[i] ^= 0x80;
    Result<std::string> out = rsync_patch(a, d, 1 << 20);
    if (out.is_ok()) {
      EXPECT_NE(*out, b) << "flip at " << i;
    }
  }
}

TEST(RsyncDeltaTest, OutputLimitIsEnforced) {
  const std::string a = pseudo_random_bytes(100000, 5);
  const std::string delta = *rsync_delta(*rsync_signature(a), a);
  EXPECT_EQ(rsync_patch(a, delta, 50000).status().code(), StatusCode::kTooLarge);
  EXPECT_TRUE(rsync_patch(a, delta, 100000).is_ok());
}

}  // namespace
}  // namespace meridian
