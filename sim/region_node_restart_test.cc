// A region node crashing and restarting on the simulator's pieces: recovery from the log,
// sequence continuity (no reuse, no holes), fencing of the crashed incarnation, and staleness
// that admits it does not know until it has heard from the other regions again.
#include <set>

#include "sim/region_node_test_fixture.h"

namespace meridian::sim::node_test {
namespace {

// Every shard's version vector for `origin`: the sequences applied are exactly 1..max.
void expect_gap_free(const node::RegionNode& n, RegionId origin) {
  const Collection& c = *n.collection(kColl);
  for (uint32_t s = 0; s < kShards; ++s) {
    const VersionVector& vv = c.shard(s).version_vector();
    EXPECT_EQ(vv.frontier(origin), vv.max_sequence(origin))
        << "shard " << s << ": " << vv.to_string();
    EXPECT_EQ(vv.gap_dot_count(), 0u) << "shard " << s;
  }
}

TEST(RegionNodeRestart, RecoversStateAndContinuesSequencesAfterTheHighestInTheLog) {
  Nodes w(2);
  std::map<uint32_t, uint64_t> last_before;
  for (int i = 0; i < 40; ++i) {
    auto r = w.write(0, upsert("v" + std::to_string(i), float(i)));
    w.run_for(10 * kMillisecond);
    ASSERT_TRUE(r->done && r->r.status.is_ok());
    last_before[r->r.shard] = std::max(last_before[r->r.shard], r->r.sequence);
  }
  w.run_for(1 * kSecond);
  ASSERT_EQ(w.node(1).collection(kColl)->live_count(), 40u);

  w.crash_and_restart(0);
  EXPECT_FALSE(w.node(0).recovered());
  auto refused = w.write(0, upsert("early", 1));
  w.run_for(1 * kMillisecond);
  ASSERT_TRUE(refused->done);
  EXPECT_EQ(refused->r.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(refused->r.status.message().find("recovering"), std::string::npos);

  w.run_for(500 * kMillisecond);
  ASSERT_TRUE(w.node(0).recovered());
  EXPECT_EQ(w.node(0).collection(kColl)->live_count(), 40u);  // rebuilt from the logs
  EXPECT_TRUE(w.node(0).collection(kColl)->same_state_as(*w.node(1).collection(kColl)));
  for (int i = 40; i < 60; ++i) {
    auto r = w.write(0, upsert("v" + std::to_string(i), float(i)));
    w.run_for(10 * kMillisecond);
    ASSERT_TRUE(r->done && r->r.status.is_ok()) << r->r.status.to_string();
    EXPECT_GT(r->r.sequence, last_before[r->r.shard]) << "sequence reused after the restart";
  }
  w.run_for(1 * kSecond);
  EXPECT_EQ(w.node(1).collection(kColl)->live_count(), 60u);
  EXPECT_TRUE(w.node(0).collection(kColl)->same_state_as(*w.node(1).collection(kColl)));
  expect_gap_free(w.node(1), 1);
  expect_gap_free(w.node(0), 1);
}

TEST(RegionNodeRestart, CrashWithWritesInFlightLeavesNoHoleAndNoConflictingSequence) {
  Nodes w(2);
  // Writes acknowledged, then a burst still in flight when the process dies.
  for (int i = 0; i < 20; ++i) w.write(0, upsert("v" + std::to_string(i), float(i)));
  w.run_for(100 * kMillisecond);
  std::vector<std::shared_ptr<Reply<node::WriteResponse>>> in_flight;
  for (int i = 0; i < 30; ++i) in_flight.push_back(w.write(0, upsert("w" + std::to_string(i), 1)));
  w.run_for(w.log(0).spec().ack_latency_ns / 2);
  w.crash_and_restart(0);
  for (const auto& r : in_flight) EXPECT_FALSE(r->done) << "a dead process answered";
  EXPECT_GT(w.log(0).stats().fenced, 0u) << "the crashed incarnation's appends were fenced";

  w.run_for(500 * kMillisecond);
  ASSERT_TRUE(w.node(0).recovered());
  std::set<std::string> acked_after;
  for (int i = 0; i < 30; ++i) {
    auto r = w.write(0, upsert("x" + std::to_string(i), 2));
    w.run_for(5 * kMillisecond);
    if (r->done && r->r.status.is_ok()) acked_after.insert("x" + std::to_string(i));
  }
  w.run_for(2 * kSecond);
  EXPECT_EQ(acked_after.size(), 30u);
  for (size_t r = 0; r < 2; ++r) {
    const Collection& c = *w.node(r).collection(kColl);
    for (const std::string& id : acked_after) EXPECT_TRUE(c.get(id).has_value()) << r << " " << id;
    expect_gap_free(w.node(r), 1);
  }
  EXPECT_TRUE(w.node(0).collection(kColl)->same_state_as(*w.node(1).collection(kColl)));
  // Every (origin, sequence) in a's log names one record only: no sequence was issued twice.
  std::map<std::pair<uint32_t, uint64_t>, std::string> seen;
  for (uint32_t s = 0; s < kShards; ++s) {
    for (const Mutation& m : decoded(w.log(0), node::wal_topic(kColl), s)) {
      auto [it, fresh] = seen.emplace(std::make_pair(s, m.origin_sequence), m.vector_id);
      if (!fresh) {
        EXPECT_EQ(it->second, m.vector_id) << "sequence " << m.origin_sequence << " reused";
      }
    }
  }
}

TEST(RegionNodeRestart, StalenessIsUnknownUntilTheOtherRegionIsHeardAgain) {
  Nodes w(2);
  w.write(0, upsert("v", 1));
  w.run_for(1 * kSecond);
  EXPECT_LT(w.node(0).staleness(2), 1 * kSecond);
  w.crash_and_restart(0);
  EXPECT_EQ(w.node(0).staleness(2), node::kStalenessUnknown);
  w.run_for(1 * kSecond);
  EXPECT_LT(w.node(0).staleness(2), 1 * kSecond);
}

TEST(RegionNodeRestart, EmptyLogMeansNothingToRecover) {
  Nodes w(1);
  w.crash_and_restart(0);
  EXPECT_TRUE(w.node(0).recovered());
  auto r = w.write(0, upsert("v", 1));
  w.run_for(100 * kMillisecond);
  ASSERT_TRUE(r->done);
  EXPECT_TRUE(r->r.status.is_ok()) << r->r.status.to_string();
  EXPECT_EQ(r->r.sequence, 1u);
}

}  // namespace
}  // namespace meridian::sim::node_test
