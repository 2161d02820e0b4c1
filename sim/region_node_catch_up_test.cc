// Anti-entropy and delta catch-up between two region nodes on the simulator's pieces: records
// deleted by retention before they were mirrored can only arrive by delta.
#include "engine/core/shard_snapshot.h"
#include "sim/region_node_test_fixture.h"

namespace meridian::sim::node_test {
namespace {

void quick_catch_up(node::NodeOptions& o) {
  o.anti_entropy_interval = 200 * kMillisecond;
  o.catch_up_after = 1 * kSecond;
  o.lag_alert_after = 2 * kSecond;
}

SimLogSpec short_retention() {
  SimLogSpec spec;
  spec.retention_ns = 1 * kSecond;
  return spec;
}

TEST(RegionNodeCatchUp, RecordsLostToRetentionArriveByDeltaAndTheRegionsConverge) {
  Nodes w(2, quick_catch_up, 42, short_retention());
  for (int i = 0; i < 10; ++i) w.write(0, upsert("before" + std::to_string(i), float(i)));
  w.run_for(500 * kMillisecond);
  w.network().partition(0, 1);
  for (int i = 0; i < 40; ++i) w.write(0, upsert("during" + std::to_string(i), float(i)));
  w.run_for(4 * kSecond);  // longer than retention: a's log no longer has them
  w.log(0).enforce_retention();
  EXPECT_FALSE(w.node(1).collection(kColl)->same_state_as(*w.node(0).collection(kColl)));
  w.network().heal(0, 1);
  w.run_for(1 * kSecond);
  // The mirror skipped what retention deleted; the heartbeats show b is behind.
  EXPECT_LT(w.node(1).collection(kColl)->live_count(), 50u);
  w.run_for(5 * kSecond);
  EXPECT_GE(w.node(1).counters().catch_ups_installed, 1u);
  EXPECT_GE(w.node(0).counters().shard_deltas_served, 1u);
  EXPECT_EQ(w.node(1).counters().catch_up_failures, 0u);
  EXPECT_EQ(w.node(1).collection(kColl)->live_count(), 50u);
  EXPECT_TRUE(w.node(1).collection(kColl)->same_state_as(*w.node(0).collection(kColl)));
  EXPECT_TRUE(w.node(1).lag_alerts().empty());
  // Writes keep flowing normally afterwards.
  w.write(0, upsert("after", 1));
  w.run_for(1 * kSecond);
  EXPECT_TRUE(w.node(1).collection(kColl)->get("after").has_value());
}

TEST(RegionNodeCatchUp, UnreachablePeerIsAFailureThatIsRetriedAndReportedAsLag) {
  Nodes w(2, quick_catch_up, 42, short_retention());
  w.network().partition(0, 1);
  for (int i = 0; i < 20; ++i) w.write(0, upsert("v" + std::to_string(i), float(i)));
  w.run_for(3 * kSecond);
  w.log(0).enforce_retention();
  w.peers(1).fail = true;
  w.network().heal(0, 1);
  w.run_for(4 * kSecond);
  EXPECT_GE(w.node(1).counters().catch_up_failures, 1u);
  EXPECT_FALSE(w.node(1).lag_alerts().empty());
  EXPECT_GE(w.observer(1).durability.size(), 1u);
  w.peers(1).fail = false;
  w.run_for(3 * kSecond);
  EXPECT_TRUE(w.node(1).collection(kColl)->same_state_as(*w.node(0).collection(kColl)));
  EXPECT_TRUE(w.node(1).lag_alerts().empty());
}

TEST(RegionNodeCatchUp, ServeShardDeltaRejectsBadRequests) {
  Nodes w(1);
  node::ShardDeltaRequest bad_collection{"nope", 0, ""};
  EXPECT_EQ(w.node(0).serve_shard_delta(bad_collection).status.code(), StatusCode::kNotFound);
  node::ShardDeltaRequest bad_shard{kColl, kShards, ""};
  EXPECT_EQ(w.node(0).serve_shard_delta(bad_shard).status.code(), StatusCode::kInvalidArgument);
  node::ShardDeltaRequest bad_signature{kColl, 0, "not a librsync signature"};
  EXPECT_FALSE(w.node(0).serve_shard_delta(bad_signature).status.is_ok());
}

}  // namespace
}  // namespace meridian::sim::node_test

namespace meridian::sim::node_test {
namespace {

// A digest is a pass over the whole shard on the serving node's loop; it is only compared
// between equal version vectors, so a peer whose vector differs gets none (the stall this
// removed: 50-170 ms every second at 650 k vectors, docs/benchmarks.md).
TEST(RegionNodeDigestCheck, APeerIsDigestedForOnlyWhenItsVersionVectorIsEqual) {
  Nodes w(2);
  for (int i = 0; i < 20; ++i) w.write(0, upsert("v" + std::to_string(i), float(i)));
  w.run_for(2 * kSecond);
  const Collection& a = *w.node(0).collection(kColl);
  const uint32_t shard = a.shard_of("v0");
  std::string equal;
  encode_version_vector(w.node(1).collection(kColl)->shard(shard).version_vector(), &equal);
  std::string behind;
  encode_version_vector(VersionVector(), &behind);

  const node::ShardDigestResponse unknown =
      w.node(0).serve_shard_digest({kColl, shard, 0, /*version_vector=*/""});
  const node::ShardDigestResponse same = w.node(0).serve_shard_digest({kColl, shard, 0, equal});
  const node::ShardDigestResponse differs = w.node(0).serve_shard_digest({kColl, shard, 0, behind});
  ASSERT_TRUE(unknown.status.is_ok() && same.status.is_ok() && differs.status.is_ok());
  EXPECT_FALSE(unknown.digest_root.empty());
  EXPECT_EQ(same.digest_root, unknown.digest_root);
  EXPECT_TRUE(differs.digest_root.empty());
  EXPECT_EQ(differs.version_vector, same.version_vector);  // the requester learns it is behind

  const node::ShardDigestResponse bad = w.node(0).serve_shard_digest({kColl, shard, 0, "junk"});
  EXPECT_EQ(bad.status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(bad.digest_root.empty());
}

// Under a steady stream of writes a peer's vector rarely equals the requester's when it answers,
// and the requester may have caught up with the peer by the time that answer (without a digest)
// arrives: that must not read as a mismatch. Once the writes stop, digests are compared again.
TEST(RegionNodeDigestCheck, ChecksUnderSteadyWritesReportNoMismatch) {
  Nodes w(2, [](node::NodeOptions& o) { o.digest_check_interval = 1 * kMillisecond; });
  for (int i = 0; i < 400; ++i) {
    w.write(1, upsert("w" + std::to_string(i), float(i)));  // region a is always a little behind
    w.run_for(5 * kMillisecond);
  }
  const uint64_t checks_while_writing = w.node(0).counters().digest_checks;
  w.run_for(1 * kSecond);
  EXPECT_GT(w.node(0).counters().digest_checks, checks_while_writing);
  EXPECT_EQ(w.node(0).counters().digest_mismatches + w.node(1).counters().digest_mismatches, 0u);
  EXPECT_TRUE(w.node(1).collection(kColl)->same_state_as(*w.node(0).collection(kColl)));
}

// Digests taken on the loop at once (the simulator's default) or, as in the real build, off it
// and answered later (SimOffload, 3 ms): the divergence is found and repaired either way.
class RegionNodeDigestCheckEither : public ::testing::TestWithParam<TimeNs> {};

TEST_P(RegionNodeDigestCheckEither, EqualVersionVectorsWithDifferentStateAreReportedAndRepaired) {
  Nodes w(
      2,
      [](node::NodeOptions& o) {
        o.digest_check_interval = 100 * kMillisecond;
        o.anti_entropy_interval = 200 * kMillisecond;
      },
      42, {}, /*digest_offload_delay=*/GetParam());
  for (int i = 0; i < 20; ++i) w.write(0, upsert("v" + std::to_string(i), float(i)));
  w.run_for(2 * kSecond);
  ASSERT_TRUE(w.node(1).collection(kColl)->same_state_as(*w.node(0).collection(kColl)));
  EXPECT_GT(w.node(0).counters().digest_checks, 0u);
  EXPECT_EQ(w.node(0).counters().digest_mismatches, 0u);

  // Fault injection (a bug or memory damage): region a's shard gains a vector that no mutation
  // it applied explains; its version vector is unchanged, so replication alone never notices.
  const Collection& a = *w.node(0).collection(kColl);
  std::string id = "ghost";
  while (!a.shard(a.shard_of(id)).version_vector().contains(1, 1)) id += "+";
  const uint32_t shard = a.shard_of(id);
  Mutation ghost = mutation_from("a", id, 1);  // (a, 1) is applied in that shard already
  ShardReplica stray(shard);
  stray.apply(ghost);
  ASSERT_TRUE(const_cast<Collection&>(a).merge_shard(stray).is_ok());
  ASSERT_EQ(a.shard(shard).version_vector(),
            w.node(1).collection(kColl)->shard(shard).version_vector());
  ASSERT_FALSE(w.node(1).collection(kColl)->same_state_as(a));

  w.run_for(10 * kSecond);  // every (shard, peer) pair is compared within 2 x 4 x 100 ms
  EXPECT_GE(w.node(0).counters().digest_mismatches + w.node(1).counters().digest_mismatches, 1u);
  bool reported = false;
  for (size_t r = 0; r < 2; ++r) {
    for (const std::string& what : w.observer(r).durability) {
      reported |= what.find("different digest") != std::string::npos;
    }
  }
  EXPECT_TRUE(reported);
  // The catch-up merges are joins: both sides end with the same state (ghost included).
  EXPECT_TRUE(w.node(1).collection(kColl)->same_state_as(*w.node(0).collection(kColl)));
}

INSTANTIATE_TEST_SUITE_P(OnOrOffTheLoop, RegionNodeDigestCheckEither,
                         ::testing::Values(TimeNs(-1), 3 * kMillisecond));

}  // namespace
}  // namespace meridian::sim::node_test
