// Garbage collection of tombstones (ShardReplica::collect_garbage, VectorState::collect) and the
// frontier-aware merge that keeps collected replicas from resurrecting what they dropped.
#include <gtest/gtest.h>

#include "engine/core/collection.h"
#include "engine/core/shard_replica.h"
#include "engine/core/test_mutations.h"

namespace meridian {
namespace {

using testing::erase;
using testing::patch;
using testing::upsert;

ShardReplica replay(const std::vector<Mutation>& ms) {
  ShardReplica r(0);
  for (const Mutation& m : ms) (void)r.apply(m);
  return r;
}

TEST(ShardReplicaGcTest, StableDeleteIsErasedAndVersionVectorKept) {
  ShardReplica r = replay({upsert("v", {1, 2}, 10, 1, 1), erase("v", 20, 2, 1)});
  const VersionVector before = r.version_vector();
  EXPECT_EQ(r.collect_garbage(21), 1u);
  EXPECT_EQ(r.entry_count(), 0u);
  EXPECT_EQ(r.find("v"), nullptr);
  EXPECT_EQ(r.version_vector(), before);
  EXPECT_EQ(r.collected_below(), 21u);
  EXPECT_EQ(r.collect_garbage(21), 0u);  // idempotent
}

TEST(ShardReplicaGcTest, CollectableIsExactlyWhetherCollectChangesOrEmptiesTheState) {
  Payload p;
  p.fields = {{"lang", "en"}};
  p.tags = {"red"};
  Payload green;
  green.tags = {"green"};
  const ShardReplica r = replay(
      {upsert("live", {1, 2}, 10, 1, 1, p), patch("live", green, {"lang"}, {"red"}, 14, 1, 2),
       upsert("gone", {1, 2}, 3, 1, 3), erase("gone", 8, 2, 1), erase("patched", 5, 2, 2),
       patch("patched", green, {}, {}, 17, 1, 4)});
  for (const char* id : {"live", "gone", "patched"}) {
    for (uint64_t g = 0; g <= 20; ++g) {
      VectorState collected = *r.find(id);
      const bool empty = collected.collect(g);
      EXPECT_EQ(r.find(id)->collectable(g), empty || !(collected == *r.find(id)))
          << id << " at " << g;
    }
  }
}

TEST(ShardReplicaGcTest, StatesWithNothingToCollectStaySharedWithACopy) {
  ShardReplica r = replay({upsert("v", {1, 2}, 10, 1, 1), upsert("w", {3, 4}, 11, 1, 2),
                           upsert("x", {5, 6}, 12, 1, 3), erase("x", 20, 2, 1)});
  const ShardReplica copy = r;  // what a checkpoint holds while it encodes the shard
  EXPECT_EQ(r.collect_garbage(21), 1u);
  // Same VectorState objects: collecting did not clone the states it had nothing to do with.
  EXPECT_EQ(r.find("v"), copy.find("v"));
  EXPECT_EQ(r.find("w"), copy.find("w"));
  EXPECT_EQ(r.find("x"), nullptr);
  ASSERT_NE(copy.find("x"), nullptr);  // the copy keeps what the original collected
  EXPECT_EQ(copy.find("x")->base_stamp(), (Stamp{20, 2}));
}

TEST(ShardReplicaGcTest, DeleteNotOlderThanFrontierStays) {
  ShardReplica r = replay({upsert("v", {1, 2}, 10, 1, 1), erase("v", 20, 2, 1)});
  EXPECT_EQ(r.collect_garbage(20), 0u);  // stamp 20 is not < 20
  ASSERT_NE(r.find("v"), nullptr);
  EXPECT_FALSE(r.find("v")->live());
  EXPECT_EQ(r.find("v")->base_stamp(), (Stamp{20, 2}));
}

TEST(ShardReplicaGcTest, LiveVectorsAndVisiblePayloadAreNeverDropped) {
  Payload p;
  p.fields = {{"lang", "en"}, {"owner", "x"}};
  p.tags = {"red", "blue"};
  Payload set_later;
  set_later.tags = {"green"};
  ShardReplica r =
      replay({upsert("v", {1, 2}, 10, 1, 1, p), patch("v", set_later, {"owner"}, {"red"}, 12, 1, 2),
              upsert("w", {3, 4}, 5, 2, 1)});
  const ShardReplica before = r;
  EXPECT_EQ(r.collect_garbage(100), 0u);
  EXPECT_EQ(r.live_count(), 2u);
  EXPECT_EQ(r.find("v")->visible_payload(), before.find("v")->visible_payload());
  EXPECT_EQ(r.find("v")->embedding(), before.find("v")->embedding());
  EXPECT_TRUE(r.find("v")->check_invariants());
  // The unset field and the removed tag are gone, so the states differ by normalisation only.
  EXPECT_FALSE(r == before);
  ShardReplica normalised = before;
  normalised.collect_garbage(100);
  EXPECT_EQ(r, normalised);
}

TEST(ShardReplicaGcTest, PayloadOnlyEntryNewerThanDeleteSurvives) {
  Payload tag;
  tag.tags = {"red"};
  ShardReplica r = replay({erase("v", 5, 1, 1), patch("v", tag, {}, {}, 7, 2, 1)});
  EXPECT_EQ(r.collect_garbage(10), 0u);
  ASSERT_NE(r.find("v"), nullptr);
  EXPECT_TRUE(r.find("v")->has_tag("red"));
  EXPECT_TRUE(r.find("v")->base_stamp().is_zero());
}

// The proof scenario: once every region applied everything older than G, an old write can only
// come back as a duplicate, which the version vector drops; it cannot resurrect the vector.
TEST(ShardReplicaGcTest, LateLowerStampedDuplicateCannotResurrect) {
  const Mutation old_upsert = upsert("v", {1, 2}, 10, 2, 1);
  ShardReplica r = replay({old_upsert, erase("v", 20, 1, 1)});
  r.collect_garbage(30);
  ApplyOutcome again = r.apply(old_upsert);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(r.find("v"), nullptr);
  EXPECT_EQ(r.live_count(), 0u);
  // A newer write does bring it back, as it would have without collection.
  (void)r.apply(upsert("v", {5, 6}, 40, 2, 2));
  ASSERT_NE(r.find("v"), nullptr);
  EXPECT_TRUE(r.find("v")->live());
}

// A lagging replica merges a peer's snapshot that was collected at G: the peer dropped the
// tombstone that overwrote our old upsert, so a plain join would keep the upsert alive.
TEST(ShardReplicaGcTest, MergeFromCollectedSnapshotDoesNotResurrect) {
  const Mutation u = upsert("v", {1, 2}, 10, 1, 1);
  const Mutation d = erase("v", 20, 2, 1);
  ShardReplica peer = replay({u, d});
  peer.collect_garbage(30);
  ShardReplica plain = replay({u});
  plain.merge(peer);
  EXPECT_TRUE(plain.find("v")->live()) << "the hazard the frontier guards against";

  ShardReplica local = replay({u});
  local.merge(peer, nullptr, 0, 30);
  local.collect_garbage(30);
  EXPECT_EQ(local.find("v"), nullptr);
  EXPECT_EQ(local.live_count(), 0u);
  EXPECT_EQ(local, peer);
}

// The other direction: we collected, the peer (say, restarted and replaying) has not applied
// the delete yet. Its old upsert must not come back into our state.
TEST(ShardReplicaGcTest, MergeOfIncompleteSnapshotIntoCollectedReplicaDoesNotResurrect) {
  const Mutation u = upsert("v", {1, 2}, 10, 1, 1);
  const Mutation d = erase("v", 20, 2, 1);
  const Mutation w = upsert("w", {3, 4}, 40, 1, 2);
  ShardReplica local = replay({u, d});
  local.collect_garbage(30);
  ShardReplica behind = replay({u, w});
  local.merge(behind, nullptr, 30, 0);
  local.collect_garbage(30);
  ShardReplica expected = replay({u, d, w});
  expected.collect_garbage(30);
  EXPECT_EQ(local, expected);
  EXPECT_EQ(local.find("v"), nullptr);
}

TEST(ShardReplicaGcTest, MergeReportsRemovalOfDroppedLiveBase) {
  const Mutation u = upsert("v", {1, 2}, 10, 1, 1);
  ShardReplica peer = replay({u, erase("v", 20, 2, 1)});
  peer.collect_garbage(30);
  ShardReplica local = replay({u});
  std::vector<std::pair<std::string, VectorChange>> changes;
  local.merge(
      peer,
      [&](const std::string& id, const VectorEntry&, VectorChange c) {
        changes.emplace_back(id, c);
      },
      0, 30);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0], std::make_pair(std::string("v"), VectorChange::kRemoved));
}

TEST(ShardReplicaGcTest, CollectionKeepsIndexAndSlotsValidAcrossErase) {
  CollectionConfig c;
  c.name = "c";
  c.index.dimension = 2;
  c.num_shards = 1;
  auto created = Collection::create(c);
  ASSERT_TRUE(created.is_ok());
  Collection& coll = **created;
  Payload tagged;
  tagged.tags = {"t"};
  ASSERT_TRUE(coll.apply(upsert("v", {1, 1}, 10, 1, 1, tagged)).is_ok());
  ASSERT_TRUE(coll.apply(erase("v", 20, 1, 2)).is_ok());
  EXPECT_EQ(coll.collect_garbage(0, 30), 1u);
  EXPECT_EQ(coll.shard(0).entry_count(), 0u);
  // The id comes back: its slot must point at the new entry (tag filter reads through it).
  ASSERT_TRUE(coll.apply(upsert("v", {2, 2}, 40, 1, 3, tagged)).is_ok());
  const std::string tag = "t";
  auto hits = coll.search(std::vector<float>{2, 2}, 5, &tag);
  ASSERT_TRUE(hits.is_ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].id, "v");
}

}  // namespace
}  // namespace meridian
