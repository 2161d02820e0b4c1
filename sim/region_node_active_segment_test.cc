// Active segments on the simulator's files: a lightly changed shard is checkpointed as the
// records applied since its snapshot (a .rec file), restored as snapshot + records, compacted
// into a new snapshot past the threshold, and a damaged or torn .rec is never loaded.
#include <set>

#include "sim/region_node_test_fixture.h"

namespace meridian::sim::node_test {
namespace {

void fast_checkpoints(node::NodeOptions& o) { o.checkpoint_interval = 1 * kSecond; }

std::set<std::string> files_ending(Nodes& w, size_t r, std::string_view suffix) {
  std::set<std::string> out;
  for (const std::string& f : w.files(r).list()) {
    if (f.ends_with(suffix)) out.insert(f);
  }
  return out;
}

// An id (prefix + number) that routes to `shard`.
std::string id_in_shard(Nodes& w, uint32_t shard, const std::string& prefix, int* next) {
  for (;; ++*next) {
    std::string id = prefix + std::to_string(*next);
    if (w.node(0).collection(kColl)->shard_of(id) == shard) {
      ++*next;
      return id;
    }
  }
}

// Every shard gets a snapshot: 40 writes, then a durable checkpoint.
void snapshot_all(Nodes& w) {
  for (int i = 0; i < 40; ++i) w.write(0, upsert("v" + std::to_string(i), float(i)));
  w.run_for(3 * kSecond);
  ASSERT_GE(w.node(0).counters().checkpoints_written, 1u);
  ASSERT_EQ(files_ending(w, 0, ".seg").size(), size_t(kShards));
}

// `n` more writes (new ids from *next on) go to shard 1 only, then a durable checkpoint.
void records_to_shard_1(Nodes& w, int n, int* next, size_t value_bytes = 0) {
  for (int i = 0; i < n; ++i) {
    node::WriteRequest r = upsert(id_in_shard(w, 1, "r", next), float(i));
    if (value_bytes > 0) r.payload.fields["blob"] = std::string(value_bytes, char('a' + i % 26));
    w.write(0, std::move(r));
  }
  w.run_for(2 * kSecond);
}

TEST(RegionNodeActiveSegment, ALightlyChangedShardGetsARecordsFileAndRestartRestoresItExactly) {
  Nodes w(2, fast_checkpoints);
  snapshot_all(w);
  const std::set<std::string> snapshots = files_ending(w, 0, ".seg");
  int next = 0;
  records_to_shard_1(w, 5, &next);
  // Only the records since the snapshot were written: shard 1's snapshot is the old one.
  EXPECT_EQ(files_ending(w, 0, ".seg"), snapshots);
  const std::set<std::string> records = files_ending(w, 0, ".rec");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(records.begin()->starts_with(kColl + ".1."));
  EXPECT_GE(w.node(0).counters().records_segments_written, 1u);
  EXPECT_EQ(w.node(0).counters().compactions, 0u);

  const ShardReplica before = w.node(0).collection(kColl)->shard(1);
  const size_t live_before = w.node(0).collection(kColl)->live_count();
  w.crash_and_restart(0);
  // Before any record is replayed: snapshot + records alone give the state before the crash.
  EXPECT_EQ(w.node(0).counters().segments_loaded, size_t(kShards));
  EXPECT_EQ(w.node(0).counters().segments_rejected, 0u);
  EXPECT_TRUE(w.node(0).collection(kColl)->shard(1) == before);
  EXPECT_EQ(w.node(0).collection(kColl)->shard(1).version_vector().to_string(),
            before.version_vector().to_string());
  EXPECT_EQ(w.node(0).collection(kColl)->live_count(), live_before);
  w.run_for(1 * kSecond);
  EXPECT_TRUE(w.node(0).collection(kColl)->same_state_as(*w.node(1).collection(kColl)));

  // The restored active segment continues: the next checkpoint's .rec holds the old records
  // and the new one, and restores exactly again.
  records_to_shard_1(w, 1, &next);
  EXPECT_EQ(files_ending(w, 0, ".seg"), snapshots);
  ASSERT_EQ(files_ending(w, 0, ".rec").size(), 1u);
  EXPECT_NE(*files_ending(w, 0, ".rec").begin(), *records.begin());
  const ShardReplica again = w.node(0).collection(kColl)->shard(1);
  w.crash_and_restart(0);
  EXPECT_TRUE(w.node(0).collection(kColl)->shard(1) == again);
  EXPECT_EQ(w.node(0).collection(kColl)->live_count(), live_before + 1);
}

TEST(RegionNodeActiveSegment, PastTheThresholdACompactionWritesANewSnapshotAndTheRecordsGo) {
  Nodes w(2, fast_checkpoints);
  snapshot_all(w);
  const std::set<std::string> snapshots = files_ending(w, 0, ".seg");
  int next = 0;
  records_to_shard_1(w, 2, &next, 15 * 1024);  // 30 KiB of records: under 64 KiB
  ASSERT_EQ(files_ending(w, 0, ".rec").size(), 1u);
  EXPECT_EQ(w.node(0).counters().compactions, 0u);

  records_to_shard_1(w, 3, &next, 15 * 1024);  // 75 KiB since the snapshot: compacted
  EXPECT_EQ(w.node(0).counters().compactions, 1u);
  EXPECT_TRUE(files_ending(w, 0, ".rec").empty());
  const std::set<std::string> now = files_ending(w, 0, ".seg");
  ASSERT_EQ(now.size(), size_t(kShards));
  EXPECT_NE(now, snapshots);
  size_t changed = 0;
  for (const std::string& f : now) changed += snapshots.count(f) == 0;
  EXPECT_EQ(changed, 1u);  // shard 1's, and only it

  const ShardReplica before = w.node(0).collection(kColl)->shard(1);
  w.crash_and_restart(0);
  EXPECT_TRUE(w.node(0).collection(kColl)->shard(1) == before);
}

TEST(RegionNodeActiveSegment, FlippedByteInARecordsFileIsReportedAndTheShardStillConverges) {
  Nodes w(2, fast_checkpoints);
  snapshot_all(w);
  const ShardReplica snapshot = w.node(0).collection(kColl)->shard(1);
  ASSERT_GT(snapshot.live_count(), 0u);
  int next = 0;
  records_to_shard_1(w, 5, &next);
  ASSERT_EQ(files_ending(w, 0, ".rec").size(), 1u);
  const std::string victim = *files_ending(w, 0, ".rec").begin();
  ASSERT_TRUE(w.files(0).flip_byte(victim, 60));
  w.crash_and_restart(0);
  EXPECT_EQ(w.node(0).counters().segments_rejected, 1u);
  EXPECT_EQ(w.node(0).counters().segments_loaded, size_t(kShards) - 1);
  ASSERT_GE(w.observer(0).durability.size(), 1u);
  const std::string& what = w.observer(0).durability[0];
  EXPECT_NE(what.find(victim + " rejected: corruption: "), std::string::npos) << what;
  EXPECT_NE(what.find("checksum mismatch"), std::string::npos) << what;
  EXPECT_NE(what.find("keeping its snapshot " + kColl + ".1."), std::string::npos) << what;
  EXPECT_NE(what.find("replaying " + kColl + " shard 1 from the logs"), std::string::npos) << what;
  // Before anything is replayed, the verified snapshot the bad records followed is loaded: what
  // it holds survives even if retention has deleted it from the logs.
  EXPECT_TRUE(w.node(0).collection(kColl)->shard(1) == snapshot);
  w.run_for(2 * kSecond);
  EXPECT_TRUE(w.node(0).recovered());
  EXPECT_EQ(w.node(0).collection(kColl)->live_count(), w.node(1).collection(kColl)->live_count());
  EXPECT_TRUE(w.node(0).collection(kColl)->same_state_as(*w.node(1).collection(kColl)));
}

TEST(RegionNodeActiveSegment, ATornRecordsWriteAtACrashFallsBackToTheOlderCheckpoint) {
  Nodes w(2, fast_checkpoints);
  snapshot_all(w);
  const uint64_t first = w.node(0).counters().checkpoints_written;
  int next = 0;
  for (int i = 0; i < 5; ++i) w.write(0, upsert(id_in_shard(w, 1, "t", &next), float(i)));
  w.run_for(300 * kMillisecond);
  w.disk(0).set_stalled(true);  // the next checkpoint's .rec write queues up behind the stall
  w.run_for(1500 * kMillisecond);
  ASSERT_EQ(w.files(0).pending_writes(), 1u);
  EXPECT_EQ(w.node(0).counters().checkpoints_written, first);
  w.crash_and_restart(0, SimFiles::CrashMode::kTear);
  w.disk(0).set_stalled(false);
  EXPECT_EQ(w.files(0).stats().writes_torn, 1u);
  // The older checkpoint names no records file: nothing torn was read, nothing rejected.
  EXPECT_EQ(w.node(0).counters().segments_loaded, size_t(kShards));
  EXPECT_EQ(w.node(0).counters().segments_rejected, 0u);
  w.run_for(2 * kSecond);
  EXPECT_EQ(w.node(0).collection(kColl)->live_count(), 45u);
  EXPECT_TRUE(w.node(0).collection(kColl)->same_state_as(*w.node(1).collection(kColl)));
  // Checkpoints go on: the shard's records are written again, and the torn file is gone.
  EXPECT_GT(w.node(0).counters().records_segments_written, 0u);
  ASSERT_EQ(files_ending(w, 0, ".rec").size(), 1u);
  const ShardReplica before = w.node(0).collection(kColl)->shard(1);
  w.crash_and_restart(0);
  EXPECT_TRUE(w.node(0).collection(kColl)->shard(1) == before);
}

// Tombstone collection between checkpoints commutes with the records that follow the
// snapshot: it does not force a compaction, and snapshot + records collected at the manifest's
// frontier is the collected state the node had.
TEST(RegionNodeActiveSegment, TombstonesCollectedAfterTheSnapshotStayCollectedOnRestore) {
  Nodes w(2, [](node::NodeOptions& o) {
    o.checkpoint_interval = 1 * kSecond;
    o.anti_entropy_interval = 200 * kMillisecond;
    o.digest_check_interval = 300 * kMillisecond;
  });
  snapshot_all(w);
  size_t deleted = 0;
  for (int i = 0; i < 40; ++i) {
    const std::string id = "v" + std::to_string(i);
    if (w.node(0).collection(kColl)->shard_of(id) != 1) continue;
    node::WriteRequest d;
    d.op = Op::kDelete;
    d.collection = kColl;
    d.vector_id = id;
    w.write(0, std::move(d));
    ++deleted;
  }
  ASSERT_GT(deleted, 0u);
  w.run_for(5 * kSecond);
  EXPECT_GE(w.node(0).counters().tombstones_collected, deleted);
  EXPECT_GE(w.node(0).counters().records_segments_written, 1u);
  EXPECT_EQ(w.node(0).counters().compactions, 0u);
  ASSERT_EQ(files_ending(w, 0, ".rec").size(), 1u);
  const ShardReplica before = w.node(0).collection(kColl)->shard(1);
  EXPECT_EQ(before.live_count(), 0u);
  w.crash_and_restart(0);
  EXPECT_TRUE(w.node(0).collection(kColl)->shard(1) == before);
  EXPECT_EQ(w.node(0).collection(kColl)->shard(1).entry_count(), before.entry_count());
  EXPECT_GT(w.node(0).shard_stable_frontier(kColl, 1), 0u);
}

}  // namespace
}  // namespace meridian::sim::node_test
