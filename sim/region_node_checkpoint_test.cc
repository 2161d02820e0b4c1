// Region node checkpoints on the simulator's files: snapshots of changed shards plus a
// manifest of log positions, loaded at restart; damaged files are detected and never loaded.
#include "engine/core/segment_file.h"
#include "sim/region_node_test_fixture.h"

namespace meridian::sim::node_test {
namespace {

void fast_checkpoints(node::NodeOptions& o) { o.checkpoint_interval = 1 * kSecond; }

// Writes `n` vectors in region 0 and waits until both regions applied them and a checkpoint
// covering them is durable.
void write_and_checkpoint(Nodes& w, int n) {
  for (int i = 0; i < n; ++i) w.write(0, upsert("v" + std::to_string(i), float(i)));
  w.run_for(3 * kSecond);
  ASSERT_GE(w.node(0).counters().checkpoints_written, 1u);
}

TEST(RegionNodeCheckpoint, RestartLoadsSegmentsAndResumesFromTheirPositions) {
  Nodes w(2, fast_checkpoints);
  write_and_checkpoint(w, 40);
  size_t segments = 0;
  for (const std::string& f : w.files(0).list()) segments += f.ends_with(".seg");
  EXPECT_GT(segments, 0u);
  EXPECT_LE(segments, size_t(kShards));  // old generations were removed

  const size_t applied_before = w.observer(0).applied.size();
  w.crash_and_restart(0);
  EXPECT_GT(w.node(0).counters().segments_loaded, 0u);
  EXPECT_EQ(w.node(0).collection(kColl)->live_count(), 40u);  // before any record is replayed
  w.run_for(500 * kMillisecond);
  ASSERT_TRUE(w.node(0).recovered());
  // Resumed from the checkpoint's positions: nothing it covered was delivered again.
  EXPECT_EQ(w.observer(0).applied.size(), applied_before);
  EXPECT_TRUE(w.node(0).collection(kColl)->same_state_as(*w.node(1).collection(kColl)));
  auto r = w.write(0, upsert("after", 1));
  w.run_for(100 * kMillisecond);
  ASSERT_TRUE(r->done && r->r.status.is_ok());
  EXPECT_GT(r->r.sequence, 1u);  // continues after the checkpointed sequences of its shard
}

TEST(RegionNodeCheckpoint, FlippedByteInASegmentIsReportedAndTheShardReplayedFromTheLog) {
  Nodes w(2, fast_checkpoints);
  write_and_checkpoint(w, 40);
  std::string victim;
  for (const std::string& f : w.files(0).list()) {
    if (f.ends_with(".seg")) victim = f;
  }
  ASSERT_FALSE(victim.empty());
  ASSERT_TRUE(w.files(0).flip_byte(victim, 100));
  w.crash_and_restart(0);
  EXPECT_EQ(w.node(0).counters().segments_rejected, 1u);
  ASSERT_EQ(w.observer(0).durability.size(), 1u);
  EXPECT_NE(w.observer(0).durability[0].find(victim + " rejected"), std::string::npos)
      << w.observer(0).durability[0];
  w.run_for(1 * kSecond);
  EXPECT_EQ(w.node(0).collection(kColl)->live_count(), 40u);
  EXPECT_TRUE(w.node(0).collection(kColl)->same_state_as(*w.node(1).collection(kColl)));
}

// b's segment of one shard fails verification at restart, and retention has deleted every
// record it covered, b's own included: only a peer can supply the shard. Guards the trigger of
// peer_recovery.cc (disable it and b neither finishes recovering its own log nor gets the data;
// lag-driven catch-up is off here, and it never covers a region's own records anyway).
TEST(RegionNodeCheckpoint, RejectedSegmentWhoseRecordsAreGoneIsRecoveredFromAPeer) {
  SimLogSpec retention;
  retention.retention_ns = 1 * kSecond;
  Nodes w(
      2,
      [](node::NodeOptions& o) {
        o.checkpoint_interval = 1 * kSecond;
        o.catch_up_after = 0;
      },
      42, retention);
  for (int i = 0; i < 40; ++i) {
    w.write(0, upsert("a" + std::to_string(i), float(i)));
    w.write(1, upsert("b" + std::to_string(i), float(i)));
  }
  w.run_for(3 * kSecond);
  ASSERT_GE(w.node(1).counters().checkpoints_written, 1u);
  std::string victim;  // "c.<shard>.<checkpoint>.seg"
  for (const std::string& f : w.files(1).list()) {
    if (f.ends_with(".seg")) victim = f;
  }
  ASSERT_FALSE(victim.empty());
  const uint32_t shard = uint32_t(std::stoul(victim.substr(kColl.size() + 1)));
  ASSERT_TRUE(w.files(1).flip_byte(victim, 100));
  w.log(1).enforce_retention();
  for (const std::string& topic : {node::wal_topic(kColl), "a." + node::wal_topic(kColl)}) {
    ASSERT_GT(w.log(1).end_offset(topic, shard), 0u) << topic;
    ASSERT_EQ(w.log(1).start_offset(topic, shard), w.log(1).end_offset(topic, shard)) << topic;
  }

  w.crash_and_restart(1);
  EXPECT_EQ(w.node(1).counters().segments_rejected, 1u);
  ASSERT_GE(w.observer(1).durability.size(), 1u);
  EXPECT_NE(w.observer(1).durability[0].find(victim + " rejected"), std::string::npos)
      << w.observer(1).durability[0];
  // Neither the segment nor its own log says which sequences b issued in the shard.
  EXPECT_FALSE(w.node(1).recovered());
  w.run_for(1 * kSecond);
  EXPECT_EQ(w.node(1).counters().shards_recovered_from_peer, 1u);
  EXPECT_TRUE(w.node(1).recovered());
  EXPECT_EQ(w.node(1).collection(kColl)->live_count(), 80u);
  EXPECT_TRUE(w.node(1).collection(kColl)->same_state_as(*w.node(0).collection(kColl)));
  EXPECT_NE(w.observer(1).durability.back().find("recovered from peer a"), std::string::npos)
      << w.observer(1).durability.back();
  // What retention deleted is neither consumed nor backlog: it will never arrive.
  for (const node::RegionNode::ShardLag& lag : w.node(1).replication_lag()) {
    EXPECT_EQ(lag.backlog(), 0u) << lag.origin << "/" << lag.shard;
  }

  // b continues the shard's sequence after the recovered ones: a would drop a reused one as a
  // duplicate.
  std::string id;
  for (int i = 0; id.empty() || w.node(1).collection(kColl)->shard_of(id) != shard; ++i) {
    id = "after" + std::to_string(i);
  }
  auto r = w.write(1, upsert(id, 1));
  w.run_for(500 * kMillisecond);
  ASSERT_TRUE(r->done && r->r.status.is_ok()) << r->r.status.to_string();
  EXPECT_TRUE(w.node(0).collection(kColl)->get(id).has_value());
  EXPECT_TRUE(w.node(1).collection(kColl)->same_state_as(*w.node(0).collection(kColl)));
}

TEST(RegionNodeCheckpoint, CorruptManifestMeansReplayFromTheStart) {
  Nodes w(2, fast_checkpoints);
  write_and_checkpoint(w, 30);
  std::string manifest;
  for (const std::string& f : w.files(0).list()) {
    if (f.starts_with("manifest.")) manifest = f;
  }
  ASSERT_FALSE(manifest.empty());
  ASSERT_TRUE(w.files(0).flip_byte(manifest, 5));
  w.crash_and_restart(0);
  EXPECT_EQ(w.node(0).counters().manifests_rejected, 1u);
  EXPECT_EQ(w.node(0).counters().segments_loaded, 0u);
  w.run_for(1 * kSecond);
  EXPECT_EQ(w.node(0).collection(kColl)->live_count(), 30u);
  EXPECT_TRUE(w.node(0).collection(kColl)->same_state_as(*w.node(1).collection(kColl)));
}

TEST(RegionNodeCheckpoint, CrashDuringACheckpointTearsItAndTheOlderOneIsUsed) {
  Nodes w(2, fast_checkpoints);
  write_and_checkpoint(w, 30);
  const uint64_t first = w.node(0).counters().checkpoints_written;
  for (int i = 30; i < 60; ++i) w.write(0, upsert("v" + std::to_string(i), float(i)));
  w.run_for(300 * kMillisecond);
  w.disk(0).set_stalled(true);  // the next checkpoint's writes queue up behind the stall
  w.run_for(1500 * kMillisecond);
  ASSERT_GT(w.files(0).pending_writes(), 0u);
  EXPECT_EQ(w.node(0).counters().checkpoints_written, first);
  w.crash_and_restart(0, SimFiles::CrashMode::kTear);
  w.disk(0).set_stalled(false);
  EXPECT_EQ(w.files(0).stats().writes_torn, 1u);
  EXPECT_GT(w.node(0).counters().segments_loaded, 0u);  // from the older, complete checkpoint
  w.run_for(2 * kSecond);
  EXPECT_EQ(w.node(0).collection(kColl)->live_count(), 60u);
  EXPECT_TRUE(w.node(0).collection(kColl)->same_state_as(*w.node(1).collection(kColl)));
}

}  // namespace
}  // namespace meridian::sim::node_test

namespace meridian::sim::node_test {
namespace {

TEST(RegionNodeCheckpoint, WritesArePacedByTheIoBudget) {
  // One shard's snapshot is a few KB here; at 1 KB/s the burst covers only the first one, so
  // the others are paced: the checkpoint completes seconds, not milliseconds, after it starts.
  Nodes w(1, [](node::NodeOptions& o) {
    o.checkpoint_interval = 1 * kSecond;
    o.checkpoint_bytes_per_s = 1024;
  });
  for (int i = 0; i < 200; ++i) w.write(0, upsert("v" + std::to_string(i), float(i)));
  w.run_for(1200 * kMillisecond);  // the first checkpoint has started
  EXPECT_EQ(w.node(0).counters().checkpoints_written, 0u);
  uint64_t total = 0;
  for (uint32_t s = 0; s < kShards; ++s) {
    SegmentHeader h;
    h.collection = kColl;
    h.shard_index = s;
    h.num_shards = kShards;
    h.dimension = kDim;
    total += write_snapshot_segment(h, w.node(0).collection(kColl)->shard(s)).size();
  }
  ASSERT_GT(total, 4096u);
  // Everything beyond the one-second burst waits for the budget.
  w.run_for(TimeNs(double(total - 1024) / 1024 * 0.8 * double(kSecond)));
  EXPECT_EQ(w.node(0).counters().checkpoints_written, 0u) << total << " bytes";
  w.run_for(TimeNs(double(total) / 1024 * double(kSecond)));
  EXPECT_GE(w.node(0).counters().checkpoints_written, 1u);
}

}  // namespace
}  // namespace meridian::sim::node_test
