// node::RegionNode's read path on the simulator's pieces: session (read-your-writes) reads,
// staleness from heartbeats, bounded-staleness reads. Fixture: region_node_test_fixture.h.
#include <algorithm>

#include "sim/region_node_test_fixture.h"

namespace meridian::sim::node_test {
namespace {

constexpr RegionId kA = 1;
constexpr RegionId kB = 2;

node::SearchRequest session_read(const node::WriteResponse& token_of, float x) {
  node::SearchRequest q = query(node::Consistency::kSession, x);
  q.session.observe(token_of);
  return q;
}

TEST(RegionNodeSession, WaitsForTheTokenAndIsServedLocallyWhenTheWriteArrives) {
  Nodes w(2);
  node::RegionNode& b = w.node(1);
  auto x = w.write(0, upsert("x", 3));
  w.run_for(10 * kMillisecond);
  ASSERT_TRUE(x->done && x->r.status.is_ok()) << x->r.status.to_string();
  ASSERT_FALSE(b.collection(kColl)->get("x").has_value()) << "replicated too early for the test";
  const TimeNs asked = w.scheduler.now();
  auto read = w.search(1, session_read(x->r, 3));
  EXPECT_FALSE(read->done) << "the token is not covered yet: the read must wait";
  EXPECT_EQ(b.counters().session_waits, 1u);
  w.run_for(kSecond);
  ASSERT_TRUE(read->done);
  const node::SearchResponse& r = read->r;
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_TRUE(has_hit(r, "x"));
  EXPECT_TRUE(r.session_satisfied);
  EXPECT_FALSE(r.forwarded);
  EXPECT_FALSE(r.stale);
  EXPECT_EQ(r.served_by, "b");
  EXPECT_GE(read->at - asked, kOneWay) << "answered before the record could have crossed";
  EXPECT_LT(read->at - asked, b.options().session_wait) << "woken by the record, not the timer";
  EXPECT_TRUE(w.peers(1).targets.empty());
  EXPECT_EQ(b.counters().searches_forwarded, 0u);
}

// A real consumer needs time to find its partitions' leader and start fetching after a start
// (SimLogSpec::subscribe_setup_ns; on Kafka up to a few hundred ms). Were writes taken before
// the node's own subscriptions read, a session read right after the first acknowledged write
// would wait for a consumer that is not fetching yet, and give up stale after session_wait.
TEST(RegionNodeSession, WritesWaitForTheOwnSubscriptionsSoTheFirstSessionReadIsMet) {
  SimLogSpec slow_start;
  slow_start.subscribe_setup_ns = 300 * kMillisecond;  // more than session_wait (150 ms)
  Nodes w(2, {}, 42, slow_start);
  node::RegionNode& a = w.node(0);
  w.run_for(10 * kMillisecond);
  EXPECT_FALSE(a.recovered());
  auto early = w.write(0, upsert("early", 1));
  w.run_for(1 * kMillisecond);
  ASSERT_TRUE(early->done);
  EXPECT_EQ(early->r.status.code(), StatusCode::kUnavailable) << early->r.status.to_string();
  EXPECT_NE(early->r.status.message().find("recovering"), std::string::npos);

  w.run_for(300 * kMillisecond);
  ASSERT_TRUE(a.recovered());
  auto x = w.write(0, upsert("x", 3));
  w.run_for(20 * kMillisecond);
  ASSERT_TRUE(x->done);
  ASSERT_TRUE(x->r.status.is_ok()) << x->r.status.to_string();
  const TimeNs asked = w.scheduler.now();
  auto read = w.search(0, session_read(x->r, 3));
  w.run_for(kSecond);
  ASSERT_TRUE(read->done);
  EXPECT_TRUE(read->r.session_satisfied);
  EXPECT_FALSE(read->r.stale);
  EXPECT_TRUE(has_hit(read->r, "x"));
  EXPECT_LT(read->at - asked, 10 * kMillisecond) << "the own consumer was fetching already";
}

TEST(RegionNodeSession, LocalAndFlaggedWhenNeitherWaitNorOriginHelpsElseReadRepair) {
  Nodes w(2);
  node::RegionNode& b = w.node(1);
  const TimeNs wait = b.options().session_wait;
  const TimeNs peer_rtt = 2 * w.peers(1).delay;
  w.run_for(kSecond);
  // The wal mirror into b is down (its process restarts) while heartbeats still flow, so b is
  // not stale by stale_after: the flags below come from the unmet session alone.
  w.mirror("a", "b", node::wal_topic(kColl)).restart(60 * kSecond);
  auto x = w.write(0, upsert("x", 3));
  w.run_for(10 * kMillisecond);
  ASSERT_TRUE(x->done && x->r.status.is_ok());

  // The origin cannot be reached either: served here, and the response says what was not met.
  w.peers(1).fail = true;
  const uint64_t local = Coverage::count("forward_failed_served_locally");
  TimeNs asked = w.scheduler.now();
  auto read = w.search(1, session_read(x->r, 3));
  w.scheduler.run_until(asked + wait - 1);
  EXPECT_FALSE(read->done) << "gave up waiting before session_wait";
  w.scheduler.run_until(asked + wait + peer_rtt);
  ASSERT_TRUE(read->done);
  ASSERT_TRUE(read->r.status.is_ok()) << read->r.status.to_string();
  EXPECT_FALSE(read->r.forwarded);
  EXPECT_EQ(read->r.served_by, "b");
  EXPECT_FALSE(has_hit(read->r, "x"));
  EXPECT_TRUE(read->r.stale);
  EXPECT_FALSE(read->r.session_satisfied);
  EXPECT_LT(b.max_staleness(), b.options().stale_after);
  EXPECT_EQ(w.peers(1).targets, std::vector<std::string>{"a"});
  EXPECT_EQ(Coverage::count("forward_failed_served_locally"), local + 1);

  // The origin answers: read repair.
  w.peers(1).fail = false;
  const uint64_t repairs = Coverage::count("read_repair");
  asked = w.scheduler.now();
  read = w.search(1, session_read(x->r, 3));
  w.run_for(kSecond);
  ASSERT_TRUE(read->done);
  ASSERT_TRUE(read->r.status.is_ok()) << read->r.status.to_string();
  EXPECT_TRUE(read->r.forwarded);
  EXPECT_EQ(read->r.served_by, "a");
  EXPECT_TRUE(has_hit(read->r, "x"));
  EXPECT_TRUE(read->r.session_satisfied);
  EXPECT_EQ(read->at - asked, wait + peer_rtt);
  EXPECT_EQ(w.peers(1).targets, (std::vector<std::string>{"a", "a"}));
  EXPECT_EQ(Coverage::count("read_repair"), repairs + 1);
  EXPECT_FALSE(b.collection(kColl)->get("x").has_value());
  EXPECT_EQ(b.counters().searches_forwarded, 2u);
  EXPECT_EQ(b.counters().session_waits, 2u);
}

// A read's token names writes of two regions; the read is filed under the first one b lacks,
// filed again under the second when the first arrives, and answered when that one arrives too.
// Reads that become covered by the same record are answered in the order they arrived.
TEST(RegionNodeSession, ATokenOfTwoRegionsIsAnsweredWhenTheLastOfItsWritesArrives) {
  Nodes w(3, [](node::NodeOptions& o) { o.session_wait = 10 * kSecond; });
  node::RegionNode& b = w.node(1);
  w.run_for(kSecond);
  w.mirror("c", "b", node::wal_topic(kColl)).restart(2 * kSecond);
  auto x = w.write(0, upsert("x", 3));
  auto y = w.write(2, upsert("y", 3));
  w.run_for(10 * kMillisecond);
  ASSERT_TRUE(x->done && x->r.status.is_ok() && y->done && y->r.status.is_ok());
  const TimeNs asked = w.scheduler.now();
  std::vector<std::string> answered;  // by name, in the order b answered them
  std::vector<node::SearchResponse> responses;
  auto ask = [&](const std::string& name, const std::vector<const node::WriteResponse*>& writes) {
    node::SearchRequest q = query(node::Consistency::kSession, 3);
    for (const node::WriteResponse* write : writes) q.session.observe(*write);
    b.search(std::move(q), [&answered, &responses, name](node::SearchResponse r) {
      answered.push_back(name);
      responses.push_back(std::move(r));
    });
  };
  ask("both-1", {&y->r, &x->r});
  ask("a-only", {&x->r});
  ask("both-2", {&x->r, &y->r});
  EXPECT_TRUE(answered.empty());
  EXPECT_EQ(b.counters().session_waits, 3u);

  w.run_for(500 * kMillisecond);  // x has crossed; y's mirror is still down
  ASSERT_TRUE(b.collection(kColl)->get("x").has_value());
  ASSERT_FALSE(b.collection(kColl)->get("y").has_value());
  ASSERT_EQ(answered, std::vector<std::string>{"a-only"});

  w.run_for(3 * kSecond);  // the mirror is back and y lands
  ASSERT_TRUE(b.collection(kColl)->get("y").has_value());
  ASSERT_EQ(answered, (std::vector<std::string>{"a-only", "both-1", "both-2"}));
  for (const node::SearchResponse& r : responses) {
    ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
    EXPECT_TRUE(r.session_satisfied);
    EXPECT_FALSE(r.forwarded);
    EXPECT_EQ(r.served_by, "b");
    EXPECT_TRUE(has_hit(r, "x"));
  }
  EXPECT_TRUE(has_hit(responses[1], "y"));
  EXPECT_TRUE(has_hit(responses[2], "y"));
  EXPECT_LT(w.scheduler.now() - asked, b.options().session_wait) << "woken by y, not the timer";
  EXPECT_EQ(b.counters().searches_forwarded, 0u);
}

// Regression: a forwarded session read used to be sent as an eventual read with the token
// dropped, and the origin's answer came back claiming read-your-writes although the origin had
// not applied the write yet (it applies from its own log). The token now travels with the read,
// the remote waits for it, and session_satisfied reports what held where the read ran.
TEST(RegionNodeSession, ReadRepairDoesNotClaimTheSessionWhenTheOriginLacksTheWrite) {
  Nodes w(2);
  w.run_for(kSecond);
  std::optional<node::WriteResponse> x;
  w.node(0).write(upsert("x", 3), [&](node::WriteResponse r) {
    x = std::move(r);
    w.log(0).set_available(false);  // a's brokers go down just after acknowledging x
  });
  w.run_for(10 * kMillisecond);
  ASSERT_TRUE(x.has_value() && x->status.is_ok());
  ASSERT_FALSE(w.node(0).collection(kColl)->get("x").has_value());
  auto read = w.search(1, session_read(*x, 3));
  w.run_for(kSecond);
  ASSERT_TRUE(read->done && read->r.status.is_ok());
  EXPECT_TRUE(read->r.forwarded);
  EXPECT_TRUE(has_hit(read->r, "x") || !read->r.session_satisfied)
      << "session_satisfied claimed for a result without the session's write";
}

// Writes to `a` every 50 ms and samples b's max_staleness() every 10 ms for `d`; returns the
// largest sample.
TimeNs drive(Nodes& w, TimeNs d, int* writes) {
  TimeNs worst = 0;
  for (const TimeNs end = w.scheduler.now() + d; w.scheduler.now() < end;) {
    if ((*writes)++ % 5 == 0) w.write(0, upsert("w" + std::to_string(*writes % 20), 1));
    w.run_for(10 * kMillisecond);
    worst = std::max(worst, w.node(1).max_staleness());
  }
  return worst;
}

TEST(RegionNodeStaleness, StaysBelowStaleAfterWithHeartbeatsAndGrowsPastItWhenCutOff) {
  Nodes w(2);
  node::RegionNode& b = w.node(1);
  const TimeNs stale_after = b.options().stale_after;
  int writes = 0;
  drive(w, 500 * kMillisecond, &writes);  // warm-up: first heartbeats, mirrors running
  const TimeNs healthy = drive(w, 3 * kSecond, &writes);
  EXPECT_LT(healthy, stale_after);
  EXPECT_GE(healthy, b.options().staleness_margin);
  EXPECT_EQ(b.staleness(kB), 0);
  auto fresh = w.search(1, query(node::Consistency::kEventual, 1));
  ASSERT_TRUE(fresh->done && fresh->r.status.is_ok());
  EXPECT_FALSE(fresh->r.stale);
  EXPECT_LT(fresh->r.staleness, stale_after);

  w.network().cut(0, 1);
  drive(w, 1500 * kMillisecond, &writes);
  EXPECT_GT(b.staleness(kA), stale_after);
  EXPECT_GE(b.max_staleness(), 1500 * kMillisecond);
  const uint64_t stale_before = b.counters().searches_stale;
  auto cut_off = w.search(1, query(node::Consistency::kEventual, 1));
  ASSERT_TRUE(cut_off->done && cut_off->r.status.is_ok());
  EXPECT_TRUE(cut_off->r.stale);
  EXPECT_GT(cut_off->r.staleness, stale_after);
  EXPECT_EQ(b.counters().searches_stale, stale_before + 1);

  w.network().restore(0, 1);
  drive(w, 5 * kSecond, &writes);  // mirrors back off up to 2 s, then catch up
  EXPECT_LT(drive(w, kSecond, &writes), stale_after);
  w.run_for(kSecond);  // no more writes: b catches up with everything a wrote
  EXPECT_TRUE(w.node(0).collection(kColl)->same_state_as(*b.collection(kColl)));
}

TEST(RegionNodeStaleness, HeartbeatArrivingBeforeItsDataDoesNotMakeTheRegionFresh) {
  Nodes w(2);
  node::RegionNode& b = w.node(1);
  const TimeNs stale_after = b.options().stale_after;
  w.run_for(kSecond);
  ASSERT_LT(b.staleness(kA), stale_after);
  // The wal mirror into b is down for 3 s (its process restarts); the heartbeat mirror runs on.
  w.mirror("a", "b", node::wal_topic(kColl)).restart(3 * kSecond);
  auto x = w.write(0, upsert("x", 1));
  const std::string hb_topic = node::mirrored_topic("a", node::kHeartbeatTopic);
  const size_t heartbeats_before = w.log(1).records(hb_topic, 0).size();
  w.run_for(2 * kSecond);
  ASSERT_TRUE(x->done && x->r.status.is_ok());
  ASSERT_FALSE(b.collection(kColl)->get("x").has_value());
  // Heartbeats kept arriving, and the newest vouches for x, which b has not applied.
  const auto& heartbeats = w.log(1).records(hb_topic, 0);
  ASSERT_GE(heartbeats.size(), heartbeats_before + 10);
  const std::string& newest = heartbeats.back().value;
  // Layout: the origin's wall clock (ms), then one sequence per shard, then the heartbeat's HLC
  // stamp and the origin's stable point (u64 little-endian each).
  ASSERT_EQ(newest.size(), 8u * (3 + kShards));
  uint64_t vouched = 0;
  for (int i = 7; i >= 0; --i) {
    vouched = (vouched << 8) | uint8_t(newest[8 * (1 + x->r.shard) + i]);
  }
  EXPECT_EQ(vouched, x->r.sequence);
  EXPECT_GT(b.staleness(kA), stale_after);
  auto read = w.search(1, query(node::Consistency::kEventual, 1));
  ASSERT_TRUE(read->done);
  EXPECT_TRUE(read->r.stale);
  EXPECT_FALSE(has_hit(read->r, "x"));

  w.run_for(2 * kSecond);  // the mirror is back: the data lands, the held heartbeats count
  EXPECT_TRUE(b.collection(kColl)->get("x").has_value());
  EXPECT_LT(b.staleness(kA), stale_after);
}

TEST(RegionNodeBounded, ServedLocallyWithinTheBoundForwardedBeyondIt) {
  Nodes w(2);
  node::RegionNode& b = w.node(1);
  w.write(0, upsert("x", 2));
  w.run_for(kSecond);
  node::SearchRequest q = query(node::Consistency::kBounded, 2);
  q.max_staleness = kSecond;
  auto local = w.search(1, q);
  ASSERT_TRUE(local->done && local->r.status.is_ok());
  EXPECT_FALSE(local->r.forwarded);
  EXPECT_EQ(local->r.served_by, "b");
  EXPECT_TRUE(has_hit(local->r, "x"));
  EXPECT_LE(local->r.staleness, q.max_staleness);

  w.network().cut(0, 1);
  w.write(0, upsert("y", 2));
  w.run_for(2 * kSecond);
  ASSERT_GT(b.staleness(kA), q.max_staleness);
  const uint64_t covered = Coverage::count("bounded_read_forwarded");
  auto forwarded = w.search(1, q);
  w.run_for(kSecond);
  ASSERT_TRUE(forwarded->done && forwarded->r.status.is_ok());
  EXPECT_TRUE(forwarded->r.forwarded);
  EXPECT_EQ(forwarded->r.served_by, "a");
  EXPECT_TRUE(has_hit(forwarded->r, "y"));
  EXPECT_EQ(w.peers(1).targets, std::vector<std::string>{"a"});
  EXPECT_EQ(Coverage::count("bounded_read_forwarded"), covered + 1);

  q.max_staleness = 60 * kSecond;  // a looser bound is still met here, stale or not
  auto loose = w.search(1, q);
  ASSERT_TRUE(loose->done && loose->r.status.is_ok());
  EXPECT_FALSE(loose->r.forwarded);
  EXPECT_EQ(loose->r.served_by, "b");
  EXPECT_FALSE(has_hit(loose->r, "y"));
  EXPECT_TRUE(loose->r.stale);
  EXPECT_EQ(w.peers(1).targets.size(), 1u);
}

}  // namespace
}  // namespace meridian::sim::node_test
