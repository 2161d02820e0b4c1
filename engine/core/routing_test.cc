#include "engine/core/routing.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace meridian {
namespace {

// The tables below spell UTF-8 ids as plain literals; make sure the compiler emits them as UTF-8.
static_assert(sizeof("é") == 3 && sizeof("向") == 4 && sizeof("🦀") == 5,
              "routing tests need a UTF-8 execution character set");

struct Vector {
  std::string_view bytes;
  uint32_t seed;
  uint32_t hash;
};

// Published MurmurHash3_x86_32 test vectors (SMHasher and the canonical ports), each also checked
// against Python's `mmh3.hash(bytes, seed, signed=False)` (mmh3 5.3.1).
constexpr Vector kPublishedVectors[] = {
    {{"", 0}, 0, 0x00000000u},
    {{"", 0}, 1, 0x514E28B7u},
    {{"", 0}, 0xFFFFFFFFu, 0x81F16F39u},
    {{"\xff\xff\xff\xff", 4}, 0, 0x76293B50u},
    {{"!Ce\x87", 4}, 0, 0xF55B516Bu},
    {{"aaaa", 4}, 0x9747B28Cu, 0x5A97808Au},
    {{"Hello, world!", 13}, 0x9747B28Cu, 0x24884CBAu},
    {{"The quick brown fox jumps over the lazy dog", 43}, 0x9747B28Cu, 0x2FA826CDu},
};

TEST(Murmur3Test, MatchesPublishedVectors) {
  for (const Vector& v : kPublishedVectors) {
    EXPECT_EQ(murmur3_32(v.bytes, v.seed), v.hash)
        << "bytes of length " << v.bytes.size() << ", seed " << v.seed;
  }
}

TEST(Murmur3Test, EmbeddedNulBytesAreHashed) {
  // An id is bytes, not a C string: a NUL must not end it early.
  EXPECT_NE(murmur3_32(std::string_view("a\0b", 3)), murmur3_32("a"));
  EXPECT_NE(murmur3_32(std::string_view("\0", 1)), murmur3_32(""));
}

struct RoutedId {
  std::string_view id;
  uint32_t hash;      // murmur3_32(id, 0)
  uint32_t shard_64;  // shard_of(id, 64)
};

// Generated with mmh3 5.3.1 by this command, with the ids of the first column below passed as
// its arguments in order (each single-quoted; the first is ''):
//   python3 -c 'import mmh3, sys; [print("{\"%s\", 0x%08Xu, %uu}," % (s, h, h % 64))
//     for s in sys.argv[1:] for h in [mmh3.hash(s, 0, signed=False)]]' '' a ab abc ...
// Python hashes a str as its UTF-8 bytes, so these pin what every client language must compute.
constexpr RoutedId kMmh3Table[] = {
    {"", 0x00000000u, 0u},
    {"a", 0x3C2569B2u, 50u},
    {"ab", 0x9BBFD75Fu, 31u},
    {"abc", 0xB3DD93FAu, 58u},
    {"abcd", 0x43ED676Au, 42u},
    {"abcde", 0xE89B9AF6u, 54u},
    {"v-0001", 0x9906D935u, 53u},
    {"vec_042", 0x276B6C99u, 25u},
    {"doc:1234", 0x054BF0AAu, 42u},
    {"héllo", 0xBC9FA068u, 40u},
    {"向量", 0x45B4401Du, 29u},
    {"🦀", 0xADA58AACu, 44u},
    {"🚀rocket", 0x837731C8u, 8u},
    {"ñandú-7", 0x70F87044u, 4u},
    {"Ωμέγα", 0xD93F2A78u, 56u},
    {"日本語のベクトル", 0x3A99E21Eu, 30u},
    {"-leading-dash", 0x5D0CE0AFu, 47u},
    {"id with spaces", 0x8EA65E9Fu, 31u},
    {"0123456789abcdef", 0x36C7E0DFu, 31u},
    {"user/42/item/9001", 0xA7870220u, 32u},
    {"550e8400-e29b-41d4-a716-446655440000", 0x38D60CDCu, 28u},
    {"The quick brown fox jumps over the lazy", 0x659ECC2Du, 45u},
    {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 0x4E0FB89Fu, 31u},
    {"emoji 👍🏽 skin tone", 0xE3B92E00u, 0u},
    {"Ünïcödé-ïd", 0x1CEEE860u, 32u},
    {"привет-мир", 0x824B831Du, 29u},
    {"سلام", 0x06B6D548u, 8u},
    {"Ａ", 0xAD8468A1u, 33u},
    {"123456789012345678901234567890", 0x114195DAu, 26u},
    {"𝔘𝔫𝔦𝔠𝔬𝔡𝔢", 0xF549A14Au, 10u},
    {"CamelCaseVectorId_With_Underscores_01", 0x503D2A26u, 38u},
};

TEST(Murmur3Test, MatchesPythonMmh3OnIds) {
  for (const RoutedId& r : kMmh3Table) {
    EXPECT_EQ(murmur3_32(r.id), r.hash) << "id \"" << r.id << "\"";
    EXPECT_EQ(murmur3_32(r.id, kDefaultRoutingSeed), r.hash) << "id \"" << r.id << "\"";
  }
}

TEST(ShardOfTest, MatchesPythonMmh3ModuloShards) {
  for (const RoutedId& r : kMmh3Table) {
    EXPECT_EQ(shard_of(r.id, 64), r.shard_64) << "id \"" << r.id << "\"";
    EXPECT_EQ(shard_of(r.id, 1), 0u);
    EXPECT_EQ(shard_of(r.id, kMaxShards), r.hash % kMaxShards);
  }
}

TEST(ShardOfTest, AlwaysBelowNumShards) {
  for (uint32_t n : {1u, 2u, 3u, 7u, 64u, 1000u, 65535u, kMaxShards}) {
    for (int i = 0; i < 500; ++i) {
      std::string id = "vec-" + std::to_string(i);
      EXPECT_LT(shard_of(id, n), n) << id << " with " << n << " shards";
    }
  }
}

TEST(ShardOfTest, OneShardTakesEverything) {
  for (const RoutedId& r : kMmh3Table) EXPECT_EQ(shard_of(r.id, 1), 0u);
}

TEST(ShardOfTest, DeterministicAndIndependentOfStorage) {
  // The same bytes in a different buffer route identically: only content matters.
  for (const RoutedId& r : kMmh3Table) {
    std::string copy(r.id);
    EXPECT_EQ(shard_of(copy, 1000), shard_of(r.id, 1000));
    EXPECT_EQ(shard_of(copy, 1000), r.hash % 1000);
  }
}

TEST(ShardOfTest, SeedChangesRouting) {
  // A non-default seed is a different routing function (used only by tests and benchmarks).
  int differing = 0;
  for (const RoutedId& r : kMmh3Table) differing += shard_of(r.id, 64, 1) != r.shard_64;
  EXPECT_GT(differing, 20);
}

TEST(ShardOfTest, SpreadsIdsRoughlyEvenly) {
  // Not a statistical test of MurmurHash, just a guard against routing on a constant.
  constexpr uint32_t kShards = 16;
  int counts[kShards] = {};
  for (int i = 0; i < 16000; ++i) ++counts[shard_of("item-" + std::to_string(i), kShards)];
  for (int c : counts) {
    EXPECT_GT(c, 800);
    EXPECT_LT(c, 1200);
  }
}

TEST(ValidateNumShardsTest, AcceptsTheDocumentedRange) {
  EXPECT_TRUE(validate_num_shards(1).is_ok());
  EXPECT_TRUE(validate_num_shards(64).is_ok());
  EXPECT_TRUE(validate_num_shards(kMaxShards).is_ok());
}

TEST(ValidateNumShardsTest, RejectsZero) {
  Status s = validate_num_shards(0);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("at least 1"), std::string::npos) << s.message();
}

TEST(ValidateNumShardsTest, RejectsAboveTheLimit) {
  for (uint64_t n : {uint64_t{kMaxShards} + 1, uint64_t{1} << 32, UINT64_MAX}) {
    Status s = validate_num_shards(n);
    EXPECT_EQ(s.code(), StatusCode::kTooLarge);
    EXPECT_NE(s.message().find(std::to_string(n)), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("65536"), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace meridian
