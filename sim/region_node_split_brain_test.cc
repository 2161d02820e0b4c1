// Two live nodes of one region writing to the same log (split brain: a node cut off for a while
// comes back next to its replacement, on another host, where Kafka does not fence it). Both
// must notice the other's records in their own partitions and report them; the older of the two
// (by writer id: epoch, then nonce) refuses writes from then on and the newer keeps the region
// writable, while every region still applies the log as it is and stays equal. A writer without
// an id cannot be ordered: whoever reads its records stops. And the ordinary cases (a restart,
// re-sent records) must never look like a second writer.
#include "engine/node/own_writer_check.h"
#include "sim/region_node_test_fixture.h"

namespace meridian::sim::node_test {
namespace {

bool mentions(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The second node's client of region r's log: its own producer, and its own consumer (the
// simulated cluster serves one subscription per partition, the first node's), which polls the
// records the cluster holds every millisecond. `stamps` false: a build that predates writer ids
// (its records carry none).
class SecondClientLog final : public env::Log {
 public:
  SecondClientLog(SimLogCluster& log, env::Timers& timers, bool stamps)
      : log_(log), timers_(timers), producer_(log.new_producer(10'000)), stamps_(stamps) {}
  void produce(const std::string& topic, uint32_t partition, std::string key, std::string value,
               ProduceDone done) override {
    log_.produce_as(producer_, topic, partition, std::move(key), std::move(value), std::move(done),
                    writer_);
  }
  void set_writer(uint64_t writer) override {
    if (stamps_) writer_ = writer;
  }
  void subscribe(const std::string& topic, uint32_t partition, uint64_t from_offset,
                 RecordFn on_record) override {
    poll(topic, partition, from_offset, std::make_shared<RecordFn>(std::move(on_record)));
  }
  uint64_t end_offset(const std::string& topic, uint32_t partition) const override {
    return log_.end_offset(topic, partition);
  }
  uint64_t start_offset(const std::string& topic, uint32_t partition) const override {
    return log_.start_offset(topic, partition);
  }

 private:
  void poll(const std::string& topic, uint32_t partition, uint64_t position,
            std::shared_ptr<RecordFn> on_record) {
    for (const env::LogRecord& r : log_.records(topic, partition)) {
      if (r.offset < position) continue;
      (*on_record)(r);
      position = r.offset + 1;
    }
    timers_.after(kMillisecond, [this, topic, partition, position, on_record] {
      poll(topic, partition, position, on_record);
    });
  }
  SimLogCluster& log_;
  env::Timers& timers_;
  SimLogCluster::ProducerId producer_;
  bool stamps_;
  uint64_t writer_ = 0;
};

// A second node of region `r`, started next to the one the fixture runs, on the same log.
struct SecondNode {
  SecondNode(Nodes& w, size_t r, bool stamps = true, uint64_t seed = 7)
      : clock(w.scheduler),
        timers(w.scheduler),
        rng(Rng::derive(seed, "node/second")),
        log(w.log(r), timers, stamps),
        peers(w.scheduler),
        node(w.options(r, /*fresh_deployment=*/false),
             node::NodeEnv{clock, timers, rng, log, peers, nullptr, nullptr}) {
    node.set_observer(&observer);
    EXPECT_TRUE(node.start().is_ok());
  }
  ~SecondNode() { timers.kill(); }
  SimClock clock;
  ProcessTimers timers;
  Rng rng;
  SecondClientLog log;
  TestPeers peers;
  Recorder observer;
  node::RegionNode node;
};

std::shared_ptr<Reply<node::WriteResponse>> write_to(Nodes& w, node::RegionNode& n,
                                                     node::WriteRequest request) {
  auto out = std::make_shared<Reply<node::WriteResponse>>();
  n.write(std::move(request), [&w, out](node::WriteResponse r) {
    *out = {true, std::move(r), w.scheduler.now()};
  });
  return out;
}

// Both nodes of region a write 16 upserts each, interleaved, and the run goes on for 1 s.
void write_from_both(Nodes& w, node::RegionNode& second) {
  for (int i = 0; i < 16; ++i) {
    w.write(0, upsert("first" + std::to_string(i), 1));
    write_to(w, second, upsert("second" + std::to_string(i), 2));
  }
  w.run_for(1 * kSecond);
}

// `n` refuses a write now, naming the other writer.
void expect_refuses_writes(Nodes& w, node::RegionNode& n) {
  auto refused = write_to(w, n, upsert("refused", 3));
  w.run_for(1 * kMillisecond);
  ASSERT_TRUE(refused->done);
  EXPECT_EQ(refused->r.status.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(mentions(refused->r.status.message(), "another node is writing as region a"))
      << refused->r.status.to_string();
}

// `n` still takes writes: one is acknowledged and region b (w.node(1)) applies it.
void expect_takes_writes(Nodes& w, node::RegionNode& n) {
  EXPECT_EQ(n.writes_stopped(), "");
  auto ok = write_to(w, n, upsert("taken", 4));
  w.run_for(1 * kSecond);
  ASSERT_TRUE(ok->done);
  ASSERT_TRUE(ok->r.status.is_ok()) << ok->r.status.to_string();
  EXPECT_TRUE(w.node(1).collection(kColl)->get("taken").has_value());
}

// Everyone applies the log as it is (the second copy of a sequence is a duplicate everywhere), so
// the writes that lost are lost the same way in every region.
void expect_regions_agree(Nodes& w, node::RegionNode& second) {
  w.run_for(1 * kSecond);
  EXPECT_TRUE(w.node(0).collection(kColl)->same_state_as(*w.node(1).collection(kColl)));
  EXPECT_TRUE(second.collection(kColl)->same_state_as(*w.node(1).collection(kColl)));
  EXPECT_EQ(w.node(1).counters().writer_conflicts, 0u);  // region b has its own log to itself
}

TEST(RegionNodeSplitBrain, TheOlderWriterYieldsAndTheNewerKeepsTheRegionWritable) {
  Nodes w(2);
  for (int i = 0; i < 8; ++i) w.write(0, upsert("before" + std::to_string(i), float(i)));
  w.run_for(500 * kMillisecond);

  // The replacement starts while the old node still runs and writes: it replays the log (and
  // the old node's heartbeats), takes the next epoch and heartbeats; the old node reads that
  // heartbeat and yields.
  SecondNode second(w, 0);
  std::vector<std::shared_ptr<Reply<node::WriteResponse>>> from_first;
  for (int i = 0; i < 16; ++i)
    from_first.push_back(w.write(0, upsert("first" + std::to_string(i), 1)));
  w.run_for(500 * kMillisecond);
  ASSERT_TRUE(second.node.recovered());
  EXPECT_EQ(node::writer_epoch(w.node(0).writer_id()), 1u);
  EXPECT_EQ(node::writer_epoch(second.node.writer_id()), 2u);

  // The old node yielded on the new one's heartbeat, and said to whom.
  EXPECT_TRUE(mentions(w.node(0).writes_stopped(), "heartbeat/0: "));
  EXPECT_TRUE(mentions(w.node(0).writes_stopped(), "a newer node, writer epoch 2"))
      << w.node(0).writes_stopped();
  expect_refuses_writes(w, w.node(0));
  ASSERT_EQ(w.observer(0).durability.size(), 1u);
  EXPECT_TRUE(mentions(w.observer(0).durability[0], "another node is writing as region a: "))
      << w.observer(0).durability[0];
  // The new one read the old one's records appended after it started and reported it once.
  EXPECT_GT(second.node.counters().writer_conflicts, 0u);
  ASSERT_EQ(second.observer.durability.size(), 1u);
  EXPECT_TRUE(mentions(second.observer.durability[0], "an older node, writer epoch 1"))
      << second.observer.durability[0];
  // It had issued nothing then, so nothing was lost: it numbers its writes after the old one's.
  for (const auto& r : from_first) {
    ASSERT_TRUE(r->done);
    EXPECT_TRUE(r->r.status.is_ok()) << r->r.status.to_string();
  }
  EXPECT_EQ(second.node.counters().writer_collisions, 0u);
  EXPECT_EQ(w.node(0).counters().writer_collisions, 0u);
  expect_takes_writes(w, second.node);
  for (int i = 0; i < 16; ++i) {
    EXPECT_TRUE(w.node(1).collection(kColl)->get("first" + std::to_string(i)).has_value()) << i;
  }
  expect_regions_agree(w, second.node);
}

TEST(RegionNodeSplitBrain, WritersOfTheSameEpochAreOrderedByTheirNonce) {
  for (uint64_t seed : {7, 8, 9}) {
    SCOPED_TRACE(seed);
    Nodes w(2);
    // Started together on an empty log: neither saw the other before it took its epoch.
    SecondNode second(w, 0, /*stamps=*/true, seed);
    w.run_for(500 * kMillisecond);
    ASSERT_EQ(node::writer_epoch(w.node(0).writer_id()),
              node::writer_epoch(second.node.writer_id()));
    ASSERT_NE(w.node(0).writer_id(), second.node.writer_id());
    write_from_both(w, second.node);
    const bool first_newer = w.node(0).writer_id() > second.node.writer_id();
    node::RegionNode& newer = first_newer ? w.node(0) : second.node;
    node::RegionNode& older = first_newer ? second.node : w.node(0);
    EXPECT_TRUE(mentions(older.writes_stopped(), "a newer node, writer epoch 1"))
        << older.writes_stopped();
    expect_refuses_writes(w, older);
    expect_takes_writes(w, newer);
    expect_regions_agree(w, second.node);
  }
}

// Two nodes that write before either has read the other's heartbeat number their writes from
// the same point: where both wrote a shard's sequence, every region keeps the first copy and
// drops the other as a duplicate. Each node counts exactly those writes (writer_collisions).
TEST(RegionNodeSplitBrain, WritesBothTookBeforeTheyMetAreCountedAsCollisions) {
  Nodes w(2);
  SecondNode second(w, 0);  // started together: both take writes at once, on an empty log
  std::vector<std::pair<std::string, std::shared_ptr<Reply<node::WriteResponse>>>> writes;
  for (int i = 0; i < 16; ++i) {
    const std::string first = "first" + std::to_string(i), other = "second" + std::to_string(i);
    writes.emplace_back(first, w.write(0, upsert(first, 1)));
    writes.emplace_back(other, write_to(w, second.node, upsert(other, 2)));
  }
  w.run_for(1 * kSecond);
  uint64_t lost = 0;
  for (const auto& [id, reply] : writes) {
    ASSERT_TRUE(reply->done);
    ASSERT_TRUE(reply->r.status.is_ok()) << id << ": " << reply->r.status.to_string();
    lost += w.node(1).collection(kColl)->get(id).has_value() ? 0 : 1;
  }
  EXPECT_GT(lost, 0u);
  EXPECT_EQ(w.node(0).counters().writer_collisions, lost);
  EXPECT_EQ(second.node.counters().writer_collisions, lost);
  expect_regions_agree(w, second.node);
}

TEST(RegionNodeSplitBrain, AWriterWithoutAnIdStopsTheNodesThatReadItsRecords) {
  Nodes w(2);
  w.run_for(500 * kMillisecond);
  SecondNode legacy(w, 0, /*stamps=*/false);  // a build that predates writer ids
  w.run_for(500 * kMillisecond);
  write_from_both(w, legacy.node);
  // The first node cannot tell whether that writer is newer: it stops, as before writer ids.
  EXPECT_TRUE(mentions(w.node(0).writes_stopped(), "by a node without a writer id"))
      << w.node(0).writes_stopped();
  expect_refuses_writes(w, w.node(0));
  // The legacy node's own rule (here: its records are read back as any node's) does not matter
  // for region a's other node; the regions still agree.
  expect_regions_agree(w, legacy.node);
}

TEST(RegionNodeSplitBrain, RestartsAndResendsAfterAnOutageAreNotASecondWriter) {
  Nodes w(2);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 40; ++i) w.write(0, upsert("v" + std::to_string(i), float(round)));
    // The log goes down with appends in flight: they fail and are re-sent once it is back.
    w.run_for(1 * kMillisecond);
    w.log(0).set_available(false);
    w.run_for(300 * kMillisecond);
    w.log(0).set_available(true);
    w.run_for(1 * kSecond);
    w.crash_and_restart(0);
    w.run_for(1 * kSecond);
  }
  auto ok = w.write(0, upsert("last", 1));
  w.run_for(1 * kSecond);
  ASSERT_TRUE(ok->done);
  EXPECT_TRUE(ok->r.status.is_ok()) << ok->r.status.to_string();
  EXPECT_GT(w.node(0).counters().writes_acknowledged, 0u);
  EXPECT_EQ(w.node(0).counters().writer_conflicts, 0u);
  EXPECT_EQ(w.node(0).writes_stopped(), "");
  EXPECT_TRUE(w.observer(0).durability.empty());
  // Each restart read its predecessor's heartbeats and took the next epoch.
  EXPECT_EQ(node::writer_epoch(w.node(0).writer_id()), 4u);
  EXPECT_TRUE(w.node(0).collection(kColl)->same_state_as(*w.node(1).collection(kColl)));
}

}  // namespace
}  // namespace meridian::sim::node_test
