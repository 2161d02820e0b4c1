#include "engine/core/shard_snapshot.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "engine/core/collection.h"
#include "engine/core/routing.h"
#include "engine/core/test_mutations.h"

namespace meridian {
namespace {

using testing::erase;
using testing::patch;
using testing::upsert;

// A replica of shard 0 of 1 with a live vector with payload, a deleted one, a patch-only one and
// a gap in the version vector.
ShardReplica sample_replica() {
  ShardReplica r(0);
  (void)r.apply(upsert("alpha", {1, 2, 3}, 10, 1, 1, Payload{{{"lang", "en"}}, {"red"}}));
  (void)r.apply(upsert("beta", {4, 5, 6}, 11, 1, 2));
  (void)r.apply(erase("beta", 12, 2, 1));
  (void)r.apply(patch("gamma", Payload{{{"owner", "x"}}, {"blue"}}, {"ttl"}, {"green"}, 13, 2, 2));
  (void)r.apply(patch("alpha", Payload{{}, {"blue"}}, {"lang"}, {"red"}, 14, 3, 5));  // gap: 3:5
  return r;
}

TEST(ShardSnapshotTest, RoundTripsAndReencodesIdentically) {
  const ShardReplica r = sample_replica();
  const std::string bytes = encode_shard_snapshot(r);
  Result<ShardReplica> back = decode_shard_snapshot(bytes);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_TRUE(*back == r);
  EXPECT_EQ(back->live_count(), r.live_count());
  EXPECT_EQ(back->version_vector().to_string(), "{1:2, 2:2, 3:0+[5]}");
  EXPECT_EQ(encode_shard_snapshot(*back), bytes);
}

TEST(ShardSnapshotTest, EmptyReplicaRoundTrips) {
  const ShardReplica r(7);
  const std::string bytes = encode_shard_snapshot(r);
  EXPECT_EQ(bytes, std::string("\x01\x07\x00\x00", 4));  // version, shard, 0 entries, 0 origins
  Result<ShardReplica> back = decode_shard_snapshot(bytes);
  ASSERT_TRUE(back.is_ok());
  EXPECT_TRUE(*back == r);
}

TEST(ShardSnapshotTest, ApplyOrderDoesNotChangeBytes) {
  const std::vector<Mutation> ms = {
      upsert("a", {1}, 5, 1, 1), upsert("b", {2}, 6, 2, 1), erase("a", 7, 2, 2),
      patch("b", Payload{{{"k", "v"}}, {}}, {}, {}, 8, 1, 2), upsert("c", {3}, 9, 3, 1)};
  ShardReplica forward(0), backward(0);
  for (const Mutation& m : ms) (void)forward.apply(m);
  for (auto it = ms.rbegin(); it != ms.rend(); ++it) (void)backward.apply(*it);
  ASSERT_TRUE(forward == backward);
  EXPECT_EQ(encode_shard_snapshot(forward), encode_shard_snapshot(backward));
}

TEST(ShardSnapshotTest, SpansCoverEveryEntryInIdOrder) {
  const ShardReplica r = sample_replica();
  std::string out = "prefix";
  std::vector<SnapshotEntrySpan> spans;
  encode_shard_snapshot(r, &out, &spans);
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(out.substr(6), encode_shard_snapshot(r));
  for (size_t i = 1; i < spans.size(); ++i) EXPECT_EQ(spans[i].begin, spans[i - 1].end);
  std::string entry;
  encode_snapshot_entry("alpha", *r.find("alpha"), &entry);
  EXPECT_EQ(out.substr(spans[0].begin, spans[0].end - spans[0].begin), entry);
}

TEST(ShardSnapshotTest, EveryTruncationIsRejected) {
  const std::string bytes = encode_shard_snapshot(sample_replica());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode_shard_snapshot(bytes.substr(0, n)).is_ok()) << "prefix of " << n;
  }
}

TEST(ShardSnapshotTest, TrailingBytesAndUnknownVersionAreRejected) {
  const std::string bytes = encode_shard_snapshot(sample_replica());
  Result<ShardReplica> trailing = decode_shard_snapshot(bytes + "x");
  ASSERT_FALSE(trailing.is_ok());
  EXPECT_NE(trailing.status().message().find("trailing"), std::string::npos);
  std::string v2 = bytes;
  v2[0] = 2;
  EXPECT_EQ(decode_shard_snapshot(v2).status().code(), StatusCode::kUnsupported);
}

TEST(ShardSnapshotTest, NonCanonicalSpellingsAreRejected) {
  ShardReplica r(0);
  (void)r.apply(upsert("a", {1}, 5, 1, 1));
  (void)r.apply(upsert("b", {2}, 6, 1, 2));
  std::string bytes = encode_shard_snapshot(r);
  // Swap the two ids (same length): the entries are no longer in ascending order.
  const size_t a = bytes.find('a'), b = bytes.find('b');
  std::swap(bytes[a], bytes[b]);
  Result<ShardReplica> swapped = decode_shard_snapshot(bytes);
  ASSERT_FALSE(swapped.is_ok());
  EXPECT_NE(swapped.status().message().find("entry 1"), std::string::npos)
      << swapped.status().message();
}

TEST(ShardSnapshotTest, DimensionAndRoutingOptionsAreEnforced) {
  const ShardReplica r = sample_replica();  // 3-d embeddings, shard 0
  const std::string bytes = encode_shard_snapshot(r);
  EXPECT_TRUE(decode_shard_snapshot(bytes, {.dimension = 3}).is_ok());
  Result<ShardReplica> wrong_dim = decode_shard_snapshot(bytes, {.dimension = 4});
  ASSERT_FALSE(wrong_dim.is_ok());
  EXPECT_NE(wrong_dim.status().message().find("dimension"), std::string::npos);
  // With 64 shards, not every id of the sample routes to shard 0.
  bool all_shard0 = true;
  for (const std::string& id : r.sorted_ids()) all_shard0 &= shard_of(id, 64) == 0;
  ASSERT_FALSE(all_shard0);
  EXPECT_FALSE(decode_shard_snapshot(bytes, {.num_shards = 64}).is_ok());
}

TEST(ShardSnapshotTest, NonFiniteEmbeddingIsRejected) {
  ShardReplica r(0);
  (void)r.apply(upsert("a", {1.0f}, 5, 1, 1));
  std::string bytes = encode_shard_snapshot(r);
  const float inf = std::numeric_limits<float>::infinity();
  const size_t at = bytes.find(std::string("\x00\x00\x80\x3f", 4));  // 1.0f
  ASSERT_NE(at, std::string::npos);
  std::memcpy(bytes.data() + at, &inf, 4);
  EXPECT_FALSE(decode_shard_snapshot(bytes).is_ok());
}

TEST(ShardSnapshotTest, RestoresIntoACollectionThroughMergeShard) {
  CollectionConfig config;
  config.name = "c";
  config.index.dimension = 2;
  config.num_shards = 4;
  auto source = std::move(Collection::create(config)).value();
  std::vector<uint64_t> seq(4, 0);
  for (int i = 0; i < 40; ++i) {
    const std::string id = "v" + std::to_string(i);
    const uint32_t s = source->shard_of(id);
    ASSERT_TRUE(source->apply(upsert(id, {float(i), float(-i)}, 100 + i, 1, ++seq[s])).is_ok());
  }
  ASSERT_TRUE(source->apply(erase("v3", 200, 1, ++seq[source->shard_of("v3")])).is_ok());

  auto restored = std::move(Collection::create(config)).value();
  for (uint32_t s = 0; s < 4; ++s) {
    Result<ShardReplica> r = decode_shard_snapshot(encode_shard_snapshot(source->shard(s)),
                                                   {.dimension = 2, .num_shards = 4});
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    ASSERT_TRUE(restored->merge_shard(*r).is_ok());
  }
  EXPECT_TRUE(restored->same_state_as(*source));
  EXPECT_EQ(restored->live_count(), 39u);
  // The index was rebuilt: the nearest neighbour of (7, -7) is v7, and v3 is gone.
  const std::vector<float> q = {7, -7};
  auto hits = restored->search(q, 1);
  ASSERT_TRUE(hits.is_ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].id, "v7");
  const std::vector<float> q3 = {3, -3};
  auto near3 = restored->search(q3, 3);
  ASSERT_TRUE(near3.is_ok());
  for (const SearchHit& h : *near3) EXPECT_NE(h.id, "v3");
}

TEST(VersionVectorCodecTest, RoundTripsAndRejectsBadDots) {
  VersionVector vv;
  vv.add(1, 1);
  vv.add(1, 2);
  vv.add(4, 7);
  std::string bytes;
  encode_version_vector(vv, &bytes);
  Result<VersionVector> back = decode_version_vector(bytes);
  ASSERT_TRUE(back.is_ok());
  EXPECT_TRUE(*back == vv);
  // origin 1: frontier 2, one dot 3 (= frontier + 1, which must have been folded).
  const std::string bad("\x01\x01\x02\x01\x03", 5);
  EXPECT_FALSE(decode_version_vector(bad).is_ok());
  EXPECT_FALSE(decode_version_vector(bytes + std::string(1, '\0')).is_ok());
}

}  // namespace
}  // namespace meridian
