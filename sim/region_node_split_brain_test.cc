// Two live nodes of one region writing to the same log (split brain: a node cut off for a while
// comes back next to its replacement, on another host, where Kafka does not fence it). Both
// must notice the other's records in their own partitions, report it and refuse writes from then
// on, while every region still applies the log as it is and stays equal. And the ordinary cases
// (a restart, re-sent records) must never look like a second writer.
#include "sim/region_node_test_fixture.h"

namespace meridian::sim::node_test {
namespace {

bool mentions(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The second node's client of region r's log: its own producer, and its own consumer (the
// simulated cluster serves one subscription per partition, the first node's), which polls the
// records the cluster holds every millisecond.
class SecondClientLog final : public env::Log {
 public:
  SecondClientLog(SimLogCluster& log, env::Timers& timers)
      : log_(log), timers_(timers), producer_(log.new_producer(10'000)) {}
  void produce(const std::string& topic, uint32_t partition, std::string key, std::string value,
               ProduceDone done) override {
    log_.produce_as(producer_, topic, partition, std::move(key), std::move(value), std::move(done));
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
};

// A second node of region `r`, started next to the one the fixture runs, on the same log.
struct SecondNode {
  SecondNode(Nodes& w, size_t r)
      : clock(w.scheduler),
        timers(w.scheduler),
        rng(Rng::derive(7, "node/second")),
        log(w.log(r), timers),
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

TEST(RegionNodeSplitBrain, BothWritersNoticeTheOtherAndStopTakingWrites) {
  Nodes w(2);
  for (int i = 0; i < 8; ++i) w.write(0, upsert("before" + std::to_string(i), float(i)));
  w.run_for(500 * kMillisecond);

  // The replacement starts while the old node still runs: it replays the log, then both write.
  SecondNode second(w, 0);
  w.run_for(500 * kMillisecond);
  ASSERT_TRUE(second.node.recovered());
  std::vector<std::shared_ptr<Reply<node::WriteResponse>>> from_first, from_second;
  for (int i = 0; i < 16; ++i) {
    from_first.push_back(w.write(0, upsert("first" + std::to_string(i), 1)));
    from_second.push_back(write_to(w, second.node, upsert("second" + std::to_string(i), 2)));
  }
  w.run_for(1 * kSecond);

  for (node::RegionNode* n : {&w.node(0), &second.node}) {
    EXPECT_GT(n->counters().writer_conflicts, 0u);
    EXPECT_TRUE(mentions(n->writes_stopped(), "wal.c/")) << n->writes_stopped();
    auto refused = write_to(w, *n, upsert("after", 3));
    w.run_for(1 * kMillisecond);
    ASSERT_TRUE(refused->done);
    EXPECT_EQ(refused->r.status.code(), StatusCode::kUnavailable);
    EXPECT_TRUE(mentions(refused->r.status.message(), "another node is writing as region a"))
        << refused->r.status.to_string();
  }
  for (const Recorder* o : {&w.observer(0), &second.observer}) {
    ASSERT_EQ(o->durability.size(), 1u);  // reported once, counted every time
    EXPECT_TRUE(mentions(o->durability[0], "another node is writing as region a: wal.c/"))
        << o->durability[0];
  }
  // The regions still agree: everyone applies the log as it is (the second copy of a sequence
  // is a duplicate everywhere), so the writes that lost are lost the same way in every region.
  w.run_for(1 * kSecond);
  EXPECT_TRUE(w.node(0).collection(kColl)->same_state_as(*w.node(1).collection(kColl)));
  EXPECT_TRUE(second.node.collection(kColl)->same_state_as(*w.node(1).collection(kColl)));
  EXPECT_EQ(w.node(1).counters().writer_conflicts, 0u);  // region b has its own log to itself
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
  EXPECT_TRUE(w.node(0).collection(kColl)->same_state_as(*w.node(1).collection(kColl)));
}

}  // namespace
}  // namespace meridian::sim::node_test
