#include "engine/core/shard_digest.h"

#include <gtest/gtest.h>

#include "engine/core/test_mutations.h"

namespace meridian {
namespace {

using testing::erase;
using testing::upsert;

ShardReplica replica_with(int n, int changed = -1) {
  ShardReplica r(0);
  for (int i = 0; i < n; ++i) {
    const float x = i == changed ? -1.0f : float(i);
    (void)r.apply(upsert("v" + std::to_string(i), {x, 2}, 10 + uint64_t(i), 1, uint64_t(i) + 1));
  }
  return r;
}

TEST(ShardDigestTest, Sha256KnownAnswer) {
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ShardDigestTest, EqualReplicasGiveEqualDigests) {
  ShardReplica a(0), b(0);
  const std::vector<Mutation> ms = {upsert("x", {1}, 5, 1, 1), upsert("y", {2}, 6, 2, 1),
                                    erase("x", 7, 2, 2)};
  for (const Mutation& m : ms) (void)a.apply(m);
  for (auto it = ms.rbegin(); it != ms.rend(); ++it) (void)b.apply(*it);
  ASSERT_TRUE(a == b);
  EXPECT_EQ(digest_shard(a), digest_shard(b));
}

TEST(ShardDigestTest, ContentChangeChangesOneBucketAndTheRoots) {
  const ShardDigest a = digest_shard(replica_with(500));
  const ShardDigest b = digest_shard(replica_with(500, 123));
  EXPECT_NE(a.content_root, b.content_root);
  EXPECT_NE(a.root, b.root);
  EXPECT_EQ(a.version_vector_hash, b.version_vector_hash);
  EXPECT_EQ(differing_buckets(a, b), std::vector<uint32_t>{digest_bucket_of("v123")});
  EXPECT_EQ(a.entry_count, 500u);
  uint64_t total = 0;
  for (uint32_t n : a.bucket_entries) total += n;
  EXPECT_EQ(total, 500u);
}

TEST(ShardDigestTest, VersionVectorOnlyDifferenceKeepsContentRoot) {
  ShardReplica a = replica_with(10);
  ShardReplica b = a;
  // A stale upsert (older than the winning one) changes the version vector, not the content.
  (void)b.apply(upsert("v3", {9, 9}, 1, 5, 1));
  ASSERT_FALSE(a == b);
  const ShardDigest da = digest_shard(a), db = digest_shard(b);
  EXPECT_EQ(da.content_root, db.content_root);
  EXPECT_NE(da.version_vector_hash, db.version_vector_hash);
  EXPECT_NE(da.root, db.root);
  EXPECT_TRUE(differing_buckets(da, db).empty());
}

TEST(ShardDigestTest, ShardIndexIsPartOfTheDigest) {
  EXPECT_NE(digest_shard(ShardReplica(0)).root, digest_shard(ShardReplica(1)).root);
}

}  // namespace
}  // namespace meridian
