#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/routing.h"

namespace meridian {
namespace {

// An independent, deliberately plain MurmurHash3_x86_32 (after Austin Appleby's MurmurHash3.cpp),
// so that the library we route with is cross-checked on every tail length rather than trusted.
// Blocks are read little-endian byte by byte, as the reference does on x86.
uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

uint32_t reference_murmur3_x86_32(const std::vector<uint8_t>& data, uint32_t seed) {
  constexpr uint32_t c1 = 0xCC9E2D51u;
  constexpr uint32_t c2 = 0x1B873593u;
  const size_t len = data.size();
  const size_t nblocks = len / 4;
  uint32_t h1 = seed;

  for (size_t i = 0; i < nblocks; ++i) {
    const uint8_t* p = &data[i * 4];
    uint32_t k1 =
        uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
    k1 *= c1;
    k1 = rotl32(k1, 15);
    k1 *= c2;
    h1 ^= k1;
    h1 = rotl32(h1, 13);
    h1 = h1 * 5 + 0xE6546B64u;
  }

  const uint8_t* tail = data.data() + nblocks * 4;
  uint32_t k1 = 0;
  switch (len & 3) {
    case 3: k1 ^= uint32_t{tail[2]} << 16; [[fallthrough]];
    case 2: k1 ^= uint32_t{tail[1]} << 8; [[fallthrough]];
    case 1:
      k1 ^= uint32_t{tail[0]};
      k1 *= c1;
      k1 = rotl32(k1, 15);
      k1 *= c2;
      h1 ^= k1;
  }

  h1 ^= static_cast<uint32_t>(len);
  return fmix32(h1);
}

std::string_view as_view(const std::vector<uint8_t>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The reference itself must be right, or the cross-check below proves nothing.
TEST(ReferenceMurmur3Test, MatchesPublishedVectors) {
  EXPECT_EQ(reference_murmur3_x86_32({}, 1), 0x514E28B7u);
  EXPECT_EQ(reference_murmur3_x86_32({0xFF, 0xFF, 0xFF, 0xFF}, 0), 0x76293B50u);
  EXPECT_EQ(reference_murmur3_x86_32({'!', 'C', 'e', 0x87}, 0), 0xF55B516Bu);
  EXPECT_EQ(reference_murmur3_x86_32({'a', 'b', 'c'}, 0), 0xB3DD93FAu);
  EXPECT_EQ(reference_murmur3_x86_32({'a', 'b', 'c', 'd', 'e'}, 0), 0xE89B9AF6u);
  const std::string fox = "The quick brown fox jumps over the lazy dog";
  EXPECT_EQ(reference_murmur3_x86_32({fox.begin(), fox.end()}, 0x9747B28Cu), 0x2FA826CDu);
}

RC_GTEST_PROP(RoutingProp, LibraryMatchesReferenceOnRandomBytes,
              (const std::vector<uint8_t>& bytes, uint32_t seed)) {
  RC_ASSERT(murmur3_32(as_view(bytes), seed) == reference_murmur3_x86_32(bytes, seed));
}

RC_GTEST_PROP(RoutingProp, LibraryMatchesReferenceOnEveryTailLength, (uint32_t seed)) {
  // Short random lengths are common in the generator above; make every residue mod 4 and the
  // lengths around typical id sizes certain, with content at an arbitrary (unaligned) offset.
  const auto len = *rc::gen::inRange<size_t>(0, 80);
  const auto offset = *rc::gen::inRange<size_t>(0, 4);
  const auto buffer =
      *rc::gen::container<std::vector<uint8_t>>(len + offset, rc::gen::arbitrary<uint8_t>());
  const std::vector<uint8_t> bytes(buffer.begin() + static_cast<ptrdiff_t>(offset), buffer.end());
  const std::string_view unaligned(reinterpret_cast<const char*>(buffer.data()) + offset, len);
  RC_ASSERT(murmur3_32(unaligned, seed) == reference_murmur3_x86_32(bytes, seed));
}

RC_GTEST_PROP(RoutingProp, ShardIsBelowNumShards, (const std::string& id)) {
  const auto n = *rc::gen::inRange<uint32_t>(1, kMaxShards + 1);
  RC_ASSERT(shard_of(id, n) < n);
}

RC_GTEST_PROP(RoutingProp, ShardIsDeterministic, (const std::string& id)) {
  const auto n = *rc::gen::inRange<uint32_t>(1, kMaxShards + 1);
  const std::string copy = id;  // different storage, same bytes
  RC_ASSERT(shard_of(id, n) == shard_of(copy, n));
  RC_ASSERT(shard_of(id, n) == murmur3_32(id, kDefaultRoutingSeed) % n);
}

RC_GTEST_PROP(RoutingProp, ValidateNumShardsAcceptsExactlyTheRange, (uint64_t n)) {
  RC_ASSERT(validate_num_shards(n).is_ok() == (n >= 1 && n <= kMaxShards));
  const auto in_range = *rc::gen::inRange<uint64_t>(1, uint64_t{kMaxShards} + 1);
  RC_ASSERT(validate_num_shards(in_range).is_ok());
}

}  // namespace
}  // namespace meridian
