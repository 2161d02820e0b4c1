// Tombstone collection across region nodes on the simulator's pieces: the stable frontier
// advances with heartbeats, every region collects, states stay equal, digest checks agree when
// regions collected at different points, and a restarted node never writes below a frontier an
// earlier incarnation vouched for. Fixture: region_node_test_fixture.h.
#include "sim/region_node_test_fixture.h"

namespace meridian::sim::node_test {
namespace {

void quick_gc(node::NodeOptions& o) {
  o.anti_entropy_interval = 200 * kMillisecond;
  o.digest_check_interval = 300 * kMillisecond;
}

node::WriteRequest remove(const std::string& id) {
  node::WriteRequest w;
  w.op = Op::kDelete;
  w.collection = kColl;
  w.vector_id = id;
  return w;
}

// Same state after normalising both at the larger of their shard frontiers (both applied the
// same mutations when their version vectors are equal, so both are complete below it).
bool same_collected_state(Nodes& w, size_t a, size_t b) {
  for (uint32_t s = 0; s < kShards; ++s) {
    ShardReplica ra = w.node(a).collection(kColl)->shard(s);
    ShardReplica rb = w.node(b).collection(kColl)->shard(s);
    const uint64_t g = std::max(w.node(a).shard_stable_frontier(kColl, s),
                                w.node(b).shard_stable_frontier(kColl, s));
    ra.collect_garbage(g);
    rb.collect_garbage(g);
    if (!(ra == rb)) return false;
  }
  return true;
}

size_t entries(Nodes& w, size_t r) {
  size_t n = 0;
  for (uint32_t s = 0; s < kShards; ++s) n += w.node(r).collection(kColl)->shard(s).entry_count();
  return n;
}

TEST(RegionNodeGc, ThreeRegionsCollectStableTombstonesAndStayEqual) {
  Coverage::reset();
  Nodes w(3, quick_gc);
  for (int i = 0; i < 20; ++i) w.write(i % 3, upsert("v" + std::to_string(i), float(i)));
  w.run_for(1 * kSecond);
  uint64_t newest_delete = 0;
  std::vector<std::shared_ptr<Reply<node::WriteResponse>>> deletes;
  for (int i = 0; i < 10; ++i)
    deletes.push_back(w.write((i + 1) % 3, remove("v" + std::to_string(i))));
  w.run_for(500 * kMillisecond);
  for (const auto& d : deletes) {
    ASSERT_TRUE(d->done && d->r.status.is_ok());
    newest_delete = std::max(newest_delete, d->r.timestamp);
  }
  w.run_for(5 * kSecond);
  for (size_t r = 0; r < 3; ++r) {
    SCOPED_TRACE("region " + std::to_string(r));
    const node::RegionNode& n = w.node(r);
    EXPECT_GT(n.stable_point(), newest_delete);
    EXPECT_GT(n.stable_frontier(), newest_delete);
    EXPECT_LE(n.stable_frontier(), n.stable_point());
    EXPECT_EQ(n.counters().tombstones_collected, 10u);
    EXPECT_EQ(n.collection(kColl)->live_count(), 10u);
    EXPECT_EQ(entries(w, r), 10u);  // the deleted ids are gone, not just hidden
    for (int i = 0; i < 10; ++i) {
      const std::string id = "v" + std::to_string(i);
      EXPECT_EQ(n.collection(kColl)->shard(n.collection(kColl)->shard_of(id)).find(id), nullptr);
    }
    EXPECT_GT(n.counters().digest_checks, 0u);
    EXPECT_EQ(n.counters().digest_mismatches, 0u);
    EXPECT_TRUE(w.observer(r).durability.empty());
  }
  EXPECT_TRUE(same_collected_state(w, 0, 1));
  EXPECT_TRUE(same_collected_state(w, 0, 2));
  // Everything is collected everywhere, so the states are equal even without normalising.
  EXPECT_TRUE(w.node(0).collection(kColl)->same_state_as(*w.node(1).collection(kColl)));
  EXPECT_TRUE(w.node(0).collection(kColl)->same_state_as(*w.node(2).collection(kColl)));
  EXPECT_GT(Coverage::count("tombstone_collected"), 0u);
  // A deleted id can be written again, and every region sees it.
  w.write(2, upsert("v0", 3));
  w.run_for(1 * kSecond);
  for (size_t r = 0; r < 3; ++r) EXPECT_TRUE(w.node(r).collection(kColl)->get("v0").has_value());
}

TEST(RegionNodeGc, StableFrontierWaitsForEveryRegion) {
  Nodes w(3, quick_gc);
  w.network().partition(0, 2);  // c hears nothing from a and vice versa (b still does)
  w.write(1, upsert("x", 1));
  w.run_for(300 * kMillisecond);
  auto d = w.write(1, remove("x"));
  w.run_for(3 * kSecond);
  ASSERT_TRUE(d->done && d->r.status.is_ok());
  // b hears from everyone, but a's and c's stable points stay 0 while they cannot hear each
  // other, so nobody's frontier can pass them.
  for (size_t r = 0; r < 3; ++r) {
    EXPECT_EQ(w.node(r).stable_frontier(), 0u) << "region " << r;
    EXPECT_EQ(w.node(r).counters().tombstones_collected, 0u) << "region " << r;
  }
  w.network().heal(0, 2);
  w.run_for(3 * kSecond);
  for (size_t r = 0; r < 3; ++r) {
    EXPECT_GT(w.node(r).stable_frontier(), d->r.timestamp) << "region " << r;
    EXPECT_EQ(w.node(r).counters().tombstones_collected, 1u) << "region " << r;
  }
}

// Region b never collects (no anti-entropy, no checkpoints); a does. Their version vectors are
// equal but their states differ by normalisation: the digest exchange must not call that a
// divergence.
TEST(RegionNodeGc, DigestChecksAgreeWhenRegionsCollectedAtDifferentFrontiers) {
  Nodes w(2, [](node::NodeOptions& o) {
    quick_gc(o);
    if (o.self.name == "b") {
      o.anti_entropy_interval = 0;
      o.checkpoint_interval = 0;
    }
  });
  for (int i = 0; i < 12; ++i) w.write(i % 2, upsert("v" + std::to_string(i), float(i)));
  w.run_for(1 * kSecond);
  for (int i = 0; i < 6; ++i) w.write(i % 2, remove("v" + std::to_string(i)));
  w.run_for(6 * kSecond);
  EXPECT_EQ(w.node(0).counters().tombstones_collected, 6u);
  EXPECT_EQ(w.node(1).counters().tombstones_collected, 0u);
  EXPECT_EQ(entries(w, 0), 6u);
  EXPECT_EQ(entries(w, 1), 12u);  // b still holds its tombstones
  EXPECT_FALSE(w.node(0).collection(kColl)->same_state_as(*w.node(1).collection(kColl)));
  EXPECT_TRUE(same_collected_state(w, 0, 1));
  for (size_t r = 0; r < 2; ++r) {
    EXPECT_GT(w.node(r).counters().digest_checks, 0u) << "region " << r;
    EXPECT_EQ(w.node(r).counters().digest_mismatches, 0u) << "region " << r;
    EXPECT_TRUE(w.observer(r).durability.empty()) << "region " << r;
  }
}

uint64_t heartbeat_hlc(const std::string& value) {
  const size_t at = value.size() - 16;  // the stamp is the second to last u64
  uint64_t v = 0;
  for (int b = 7; b >= 0; --b) v = (v << 8) | uint8_t(value[at + size_t(b)]);
  return v;
}

// An earlier incarnation's heartbeat promised that no write older than its stamp would follow.
// A restarted node whose wall clock stepped back must still stamp its writes above it.
TEST(RegionNodeGc, RestartedNodeWritesAboveItsLastHeartbeatStamp) {
  Coverage::reset();
  Nodes w(2, quick_gc);
  w.write(0, upsert("x", 1));
  w.run_for(2 * kSecond);
  const auto& heartbeats = w.log(0).records(node::kHeartbeatTopic, 0);
  ASSERT_FALSE(heartbeats.empty());
  const uint64_t promised = heartbeat_hlc(heartbeats.back().value);
  w.clock(0).set_skew_ms(-60'000);  // the wall clock steps back a minute
  w.crash_and_restart(0);
  w.run_for(500 * kMillisecond);
  ASSERT_TRUE(w.node(0).recovered());
  EXPECT_GT(Coverage::count("own_heartbeat_observed"), 0u);
  auto y = w.write(0, upsert("y", 2));
  w.run_for(500 * kMillisecond);
  ASSERT_TRUE(y->done && y->r.status.is_ok());
  EXPECT_GT(y->r.timestamp, promised);
}

// A checkpoint records where each segment was collected; a restarted node that loads it knows
// at once that the shard is complete below that frontier (its own G starts again at 0), so
// comparisons with peers are made at the right frontier from the start.
TEST(RegionNodeGc, RestoredShardKeepsTheFrontierItsSegmentWasCollectedAt) {
  Nodes w(2, [](node::NodeOptions& o) {
    quick_gc(o);
    o.checkpoint_interval = 1 * kSecond;
  });
  for (int i = 0; i < 16; ++i) w.write(i % 2, upsert("v" + std::to_string(i), float(i)));
  w.run_for(1 * kSecond);
  for (int i = 0; i < 8; ++i) w.write(i % 2, remove("v" + std::to_string(i)));
  w.run_for(5 * kSecond);
  ASSERT_EQ(w.node(0).counters().tombstones_collected, 8u);
  ASSERT_GE(w.node(0).counters().checkpoints_written, 1u);
  w.crash_and_restart(0);
  EXPECT_EQ(w.node(0).stable_frontier(), 0u);
  EXPECT_GE(w.node(0).counters().segments_loaded, 1u);
  uint64_t restored = 0;
  for (uint32_t s = 0; s < kShards; ++s) {
    restored = std::max(restored, w.node(0).shard_stable_frontier(kColl, s));
  }
  EXPECT_GT(restored, 0u);
  EXPECT_EQ(entries(w, 0), 8u);  // the restored state holds no tombstones
  w.run_for(3 * kSecond);
  EXPECT_TRUE(same_collected_state(w, 0, 1));
  for (size_t r = 0; r < 2; ++r) {
    EXPECT_EQ(w.node(r).counters().digest_mismatches, 0u) << "region " << r;
  }
}

// The one way a region can be incomplete below a peer's frontier: it lost its state (restart
// without checkpoints) and retention deleted part of what it must replay. Region c applied the
// delete of v, everyone collected v, then c restarts: its log still holds the older upsert of v
// (mirrored late, after a partition) but no longer the delete. The delta catch-up from a's
// collected snapshot must drop that upsert rather than resurrect v.
TEST(RegionNodeGc, CatchUpFromCollectedSnapshotDoesNotResurrectAfterLossyRestart) {
  SimLogSpec spec;
  spec.retention_ns = 8 * kSecond;
  Nodes w(
      3,
      [](node::NodeOptions& o) {
        quick_gc(o);
        o.checkpoint_interval = 0;  // c restarts from the (partly expired) logs only
        o.catch_up_after = 1 * kSecond;
      },
      42, spec);
  w.network().partition(1, 0);
  w.network().partition(1, 2);
  auto u = w.write(1, upsert("v", 1));  // b, cut off: reaches a and c only after the heal
  w.run_for(300 * kMillisecond);
  auto d = w.write(0, remove("v"));  // newer: wins everywhere
  w.run_for(4 * kSecond);
  w.network().heal(1, 0);
  w.network().heal(1, 2);
  w.run_for(4 * kSecond);  // mirrors resume (after backoff), everyone collects v's tombstone
  ASSERT_TRUE(u->done && u->r.status.is_ok() && d->done && d->r.status.is_ok());
  for (size_t r = 0; r < 3; ++r) {
    ASSERT_GT(w.node(r).stable_frontier(), d->r.timestamp) << "region " << r;
    ASSERT_EQ(w.node(r).counters().tombstones_collected, 1u) << "region " << r;
  }
  // A later write of a to v's shard, so that c's log has something of a's after the gap.
  const uint32_t shard = w.node(0).collection(kColl)->shard_of("v");
  std::string other;
  for (int i = 0; other.empty(); ++i) {
    const std::string id = "e" + std::to_string(i);
    if (w.node(0).collection(kColl)->shard_of(id) == shard) other = id;
  }
  w.write(0, upsert(other, 2));
  w.run_for(300 * kMillisecond);
  w.crash_and_restart(2);
  w.run_for(300 * kMillisecond);
  // The replay brought back the old upsert (its delete expired from c's log): c is behind a.
  ASSERT_TRUE(w.node(2).collection(kColl)->get("v").has_value());
  w.run_for(4 * kSecond);
  EXPECT_GE(w.node(2).counters().catch_ups_installed, 1u);
  EXPECT_FALSE(w.node(2).collection(kColl)->get("v").has_value());
  EXPECT_TRUE(w.node(2).collection(kColl)->get(other).has_value());
  EXPECT_TRUE(same_collected_state(w, 0, 2));
  EXPECT_EQ(w.node(2).counters().digest_mismatches, 0u);
}

}  // namespace
}  // namespace meridian::sim::node_test
