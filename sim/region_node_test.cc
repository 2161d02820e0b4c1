// node::RegionNode on the simulator's pieces (scheduler, clocks, disks, Kafka-semantics logs,
// mirrors over a simulated network): the write path, admission, replication, duplicates and
// corrupt records. The read path (session, staleness, bounded) is in region_node_read_test.cc.
#include <cmath>
#include <limits>

#include "sim/region_node_test_fixture.h"

namespace meridian::sim::node_test {
namespace {

TEST(RegionNodeWrite, AcknowledgesOnlyDurableRecordsWithPerShardSequencesAndRisingStamps) {
  Nodes w(1);
  node::RegionNode& a = w.node(0);
  const SimLogCluster& log = w.log(0);
  const TimeNs ack_latency = log.spec().ack_latency_ns;
  struct Ack {
    node::WriteResponse r;
    TimeNs at = -1;
    bool durable_at_ack = false;
  };
  std::vector<std::string> ids;
  for (int i = 0; i < 16; ++i) ids.push_back("v" + std::to_string(i));
  std::vector<Ack> acks(ids.size() + 1);
  auto issue = [&](size_t i) {
    const TimeNs issued = w.scheduler.now();
    a.write(upsert(ids[i % ids.size()], float(i)), [&, i, issued](node::WriteResponse r) {
      Ack& ack = acks[i];
      EXPECT_EQ(ack.at, -1) << "acknowledged twice";
      ack.at = w.scheduler.now();
      EXPECT_GE(ack.at - issued, ack_latency) << ids[i % ids.size()];
      // At the moment of the ack the record is in the log, with the acknowledged stamp.
      for (const Mutation& m : decoded(log, node::wal_topic(kColl), r.shard)) {
        ack.durable_at_ack |= m.vector_id == ids[i % ids.size()] &&
                              m.origin_sequence == r.sequence && m.timestamp == r.timestamp;
      }
      ack.r = std::move(r);
    });
  };
  for (size_t i = 0; i < ids.size(); ++i) issue(i);
  w.scheduler.run_until(ack_latency - 1);
  for (const Ack& ack : acks) EXPECT_EQ(ack.at, -1) << "acknowledged before the log's ack latency";
  w.run_for(500 * kMillisecond);
  issue(ids.size());  // a second write of ids[0], later: its shard's sequence continues
  w.run_for(500 * kMillisecond);

  std::map<uint32_t, uint64_t> last_sequence;
  uint64_t last_timestamp = 0;
  for (size_t i = 0; i < acks.size(); ++i) {
    const Ack& ack = acks[i];
    ASSERT_NE(ack.at, -1) << i;
    ASSERT_TRUE(ack.r.status.is_ok()) << ack.r.status.to_string();
    EXPECT_TRUE(ack.durable_at_ack) << i;
    EXPECT_EQ(ack.r.origin, 1);
    EXPECT_EQ(ack.r.shard, a.collection(kColl)->shard_of(ids[i % ids.size()]));
    EXPECT_EQ(ack.r.sequence, ++last_sequence[ack.r.shard]) << i;  // 1, 2, 3, ... per shard
    EXPECT_GT(ack.r.timestamp, last_timestamp) << i;
    last_timestamp = ack.r.timestamp;
  }
  EXPECT_GE(last_sequence.size(), 2u);  // the ids spread over several shards
  EXPECT_EQ(a.counters().writes_acknowledged, acks.size());
  EXPECT_EQ(a.collection(kColl)->live_count(), ids.size());  // applied from its own log
}

TEST(RegionNodeWrite, RejectsInvalidWritesWithAMessageAndConsumesNoSequence) {
  Nodes w(1);
  node::RegionNode& a = w.node(0);
  const std::string id = "x";
  struct Case {
    node::WriteRequest request;
    StatusCode code;
    std::string message_part;
  };
  std::vector<Case> cases;
  cases.push_back({upsert(id, 1), StatusCode::kInvalidArgument, "dimensions"});
  cases.back().request.embedding.pop_back();
  cases.push_back({upsert(id, 1), StatusCode::kInvalidArgument, "not finite"});
  cases.back().request.embedding[2] = std::numeric_limits<float>::quiet_NaN();
  cases.push_back({upsert(id, 1), StatusCode::kNotFound, "no collection"});
  cases.back().request.collection = "nope";
  cases.push_back({upsert("", 1), StatusCode::kInvalidArgument, "vector id is empty"});
  cases.push_back({node::WriteRequest{}, StatusCode::kInvalidArgument, "patch changes nothing"});
  cases.back().request.op = Op::kPatch;
  cases.back().request.collection = kColl;
  cases.back().request.vector_id = id;
  for (Case& c : cases) {
    std::optional<node::WriteResponse> reply;
    a.write(c.request, [&](node::WriteResponse r) { reply = std::move(r); });
    ASSERT_TRUE(reply.has_value()) << "a rejection is immediate: " << c.message_part;
    EXPECT_EQ(reply->status.code(), c.code) << reply->status.to_string();
    EXPECT_NE(reply->status.message().find(c.message_part), std::string::npos)
        << reply->status.to_string();
  }
  EXPECT_EQ(a.counters().writes_rejected, cases.size());
  EXPECT_EQ(a.counters().writes_accepted, 0u);
  EXPECT_EQ(a.pending_writes(), 0u);
  w.run_for(kSecond);
  for (uint32_t s = 0; s < kShards; ++s) {
    EXPECT_TRUE(w.log(0).records(node::wal_topic(kColl), s).empty()) << "shard " << s;
  }
  auto first = w.write(0, upsert(id, 1));
  w.run_for(kSecond);
  ASSERT_TRUE(first->done && first->r.status.is_ok()) << first->r.status.to_string();
  EXPECT_EQ(first->r.sequence, 1u);
  EXPECT_EQ(a.shard_write_counts(kColl)[first->r.shard], 1u);
}

TEST(RegionNodeWrite, AdmissionBoundRefusesAtOnceAndPendingWritesSurviveALogOutage) {
  const size_t kBound = 5;
  const TimeNs kWriteTimeout = kSecond;
  Nodes w(1, [&](node::NodeOptions& o) {
    o.max_pending_writes = kBound;
    o.producer.write_timeout = kWriteTimeout;
  });
  node::RegionNode& a = w.node(0);
  w.run_for(10 * kMillisecond);
  w.log(0).set_available(false);
  const TimeNs down_at = w.scheduler.now();
  std::vector<std::shared_ptr<Reply<node::WriteResponse>>> pending;
  for (size_t i = 0; i < kBound; ++i) {
    pending.push_back(w.write(0, upsert("p" + std::to_string(i), 1)));
  }
  EXPECT_EQ(a.pending_writes(), kBound);
  const uint64_t full_before = Coverage::count("producer_buffer_full");
  auto refused = w.write(0, upsert("refused", 1));
  ASSERT_TRUE(refused->done) << "the write past the bound is refused at once";
  EXPECT_EQ(refused->r.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(Coverage::count("producer_buffer_full"), full_before + 1);

  w.scheduler.run_until(down_at + kWriteTimeout - 1);
  for (const auto& p : pending) EXPECT_FALSE(p->done);
  w.scheduler.run_until(down_at + kWriteTimeout);
  for (const auto& p : pending) {
    ASSERT_TRUE(p->done);
    EXPECT_EQ(p->r.status.code(), StatusCode::kUnavailable) << p->r.status.to_string();
  }
  // The replies do not drop the records: they are still pending, so admission still refuses.
  EXPECT_EQ(a.pending_writes(), kBound);
  EXPECT_EQ(w.write(0, upsert("refused2", 1))->r.status.code(), StatusCode::kUnavailable);

  w.run_for(2 * kSecond);
  w.log(0).set_available(true);
  w.run_for(10 * kSecond);
  EXPECT_EQ(a.pending_writes(), 0u);
  EXPECT_EQ(a.counters().writes_acknowledged, 0u);  // each client heard once: the error
  std::map<uint32_t, std::set<uint64_t>> sequences;
  size_t records = 0;
  for (uint32_t s = 0; s < kShards; ++s) {
    for (const Mutation& m : decoded(w.log(0), node::wal_topic(kColl), s)) {
      ++records;
      EXPECT_TRUE(sequences[s].insert(m.origin_sequence).second) << "duplicate " << m.vector_id;
    }
  }
  EXPECT_EQ(records, kBound);
  for (const auto& [shard, seqs] : sequences) {  // gapless: exactly 1..n in every shard
    EXPECT_EQ(*seqs.rbegin(), seqs.size()) << "shard " << shard;
  }
  for (size_t i = 0; i < kBound; ++i) {
    EXPECT_TRUE(a.collection(kColl)->get("p" + std::to_string(i)).has_value()) << i;
  }
  EXPECT_FALSE(a.collection(kColl)->get("refused").has_value());
  auto after = w.write(0, upsert("after", 1));  // admitted again, numbering continues
  w.run_for(kSecond);
  ASSERT_TRUE(after->r.status.is_ok()) << after->r.status.to_string();
  EXPECT_EQ(after->r.sequence, sequences[after->r.shard].size() + 1);
}

TEST(RegionNodeReplication, AppliesRemoteWritesAndCountsDuplicatesWithoutChangingState) {
  Nodes w(2);
  node::RegionNode& a = w.node(0);
  node::RegionNode& b = w.node(1);
  auto x = w.write(0, upsert("x", 3));
  w.run_for(10 * kMillisecond);
  ASSERT_TRUE(x->done && x->r.status.is_ok());
  EXPECT_FALSE(b.collection(kColl)->get("x").has_value()) << "before the mirror delivered it";
  w.run_for(kSecond);
  const std::optional<VectorView> seen = b.collection(kColl)->get("x");
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->embedding, embedding(3));
  EXPECT_EQ(seen->stamp, (Stamp{x->r.timestamp, 1}));
  EXPECT_EQ(b.counters().records_applied, 1u);
  EXPECT_EQ(b.counters().records_duplicate, 0u);
  const std::string vv = b.collection(kColl)->shard(x->r.shard).version_vector().to_string();

  // The same bytes appended again to A's topic (a producer retry that did land twice).
  const env::LogRecord original = w.log(0).records(node::wal_topic(kColl), x->r.shard).at(0);
  w.log(0).produce(node::wal_topic(kColl), x->r.shard, original.key, original.value,
                   [](Status s, uint64_t) { EXPECT_TRUE(s.is_ok()); });
  w.run_for(kSecond);
  EXPECT_EQ(a.counters().records_duplicate, 1u);
  EXPECT_EQ(b.counters().records_duplicate, 1u);
  // A mirror restart re-copies everything since its last offset commit.
  w.mirror("a", "b", node::wal_topic(kColl)).restart(100 * kMillisecond);
  w.run_for(2 * kSecond);
  EXPECT_EQ(b.counters().records_duplicate, 3u);  // both copies again
  EXPECT_EQ(b.counters().records_applied, 1u);
  EXPECT_EQ(b.collection(kColl)->get("x")->stamp, seen->stamp);
  EXPECT_EQ(b.collection(kColl)->live_count(), 1u);
  EXPECT_EQ(b.collection(kColl)->shard(x->r.shard).version_vector().to_string(), vv);
  size_t duplicates_observed = 0;
  for (const auto& ap : w.observer(1).applied) duplicates_observed += ap.duplicate;
  EXPECT_EQ(duplicates_observed, 3u);
  EXPECT_TRUE(a.collection(kColl)->same_state_as(*b.collection(kColl)));
}

TEST(RegionNodeReplication, CorruptRecordIsReportedAndNeverApplied) {
  Nodes w(2);
  node::RegionNode& b = w.node(1);
  const std::string topic = node::mirrored_topic("a", node::wal_topic(kColl));
  ASSERT_TRUE(w.log(1).create_topic(topic, kShards).is_ok());  // as the mirror creates it
  const uint32_t shard = b.collection(kColl)->shard_of("z");
  std::string valid;
  encode_mutation(mutation_from("a", "z", 1), &valid);
  std::string damaged = valid;
  damaged[damaged.size() - 3] ^= 0x40;  // inside the body: the CRC no longer matches
  const uint64_t covered = Coverage::count("corrupt_record_rejected");
  const SimLogCluster::ProducerId injector = w.log(1).new_producer(100);
  w.log(1).produce_as(injector, topic, shard, "z", damaged, [](Status, uint64_t) {});
  // A valid record in the wrong partition does not belong there either.
  w.log(1).produce_as(injector, topic, (shard + 1) % kShards, "z", valid, [](Status, uint64_t) {});
  w.run_for(kSecond);
  EXPECT_EQ(b.counters().records_corrupt, 2u);
  EXPECT_EQ(Coverage::count("corrupt_record_rejected"), covered + 2);
  ASSERT_EQ(w.observer(1).corrupt.size(), 2u);
  EXPECT_EQ(w.observer(1).corrupt[0].code(), StatusCode::kCorruption);
  EXPECT_EQ(w.observer(1).corrupt[1].code(), StatusCode::kCorruption);
  EXPECT_FALSE(b.collection(kColl)->get("z").has_value());
  EXPECT_FALSE(b.collection(kColl)->shard(shard).version_vector().contains(1, 1));
  EXPECT_TRUE(w.observer(1).applied.empty());
  // The undamaged record where it belongs is applied: the hole was kept open for it.
  w.log(1).produce_as(injector, topic, shard, "z", valid, [](Status, uint64_t) {});
  w.run_for(kSecond);
  EXPECT_TRUE(b.collection(kColl)->get("z").has_value());
  EXPECT_EQ(b.counters().records_applied, 1u);
}

// Regression: a record that passes the CRC and decodes but that Collection::apply rejects (an
// upsert whose dimension differs from the collection's, e.g. from a region configured
// differently mid-rollout) used to reach an assert and abort the node. It is now reported like a
// corrupt record and never applied.
TEST(RegionNodeReplication, WellFormedRecordTheCollectionRejectsIsReportedNotFatal) {
  Nodes w(2);
  node::RegionNode& b = w.node(1);
  const std::string topic = node::mirrored_topic("a", node::wal_topic(kColl));
  ASSERT_TRUE(w.log(1).create_topic(topic, kShards).is_ok());
  Mutation m = mutation_from("a", "z", 1);
  m.embedding.push_back(1);  // kDim + 1 dimensions: valid as a record, not for this collection
  std::string record;
  encode_mutation(m, &record);
  w.log(1).produce(topic, b.collection(kColl)->shard_of("z"), "z", record, [](Status, uint64_t) {});
  w.run_for(kSecond);
  EXPECT_EQ(b.counters().records_corrupt, 1u);
  EXPECT_EQ(b.counters().records_applied, 0u);
  EXPECT_EQ(w.observer(1).corrupt.size(), 1u);
  EXPECT_TRUE(w.observer(1).applied.empty());
}

}  // namespace
}  // namespace meridian::sim::node_test

namespace meridian::sim::node_test {
namespace {

// Lag per origin and shard: records the local log holds but the node has not consumed yet.
TEST(RegionNodeReplication, ReportsBacklogPerOriginAndShardUntilConsumed) {
  Nodes w(2);
  node::RegionNode& b = w.node(1);
  // Append a record straight into B's copy of A's topic: it is in B's log at once, and B's
  // subscription picks it up only after its next fetch.
  auto x = w.write(0, upsert("x", 3));
  w.run_for(kSecond);  // replicated: the mirror has created B's copy of A's topic
  ASSERT_TRUE(x->done && x->r.status.is_ok());
  const env::LogRecord record = w.log(0).records(node::wal_topic(kColl), x->r.shard).at(0);
  const std::string mirrored = node::mirrored_topic("a", node::wal_topic(kColl));
  bool appended = false, answered = false;
  w.log(1).produce(mirrored, x->r.shard, record.key, record.value, [&](Status s, uint64_t) {
    answered = true;
    appended = s.is_ok();
  });
  auto backlog_of = [&](RegionId origin, uint32_t shard) {
    for (const auto& lag : b.replication_lag()) {
      if (lag.collection == kColl && lag.origin == origin && lag.shard == shard) {
        return lag.backlog();
      }
    }
    ADD_FAILURE() << "no lag entry for origin " << origin << " shard " << shard;
    return uint64_t(0);
  };
  // Run until the append is durable but before the subscriber's next delivery.
  while (!answered) ASSERT_TRUE(w.scheduler.step());
  ASSERT_TRUE(appended);
  EXPECT_GE(backlog_of(1, x->r.shard), 1u);
  w.run_for(kSecond);
  EXPECT_EQ(backlog_of(1, x->r.shard), 0u);
  EXPECT_EQ(b.replication_lag().size(), 2u * 4u);  // 2 origins x 4 shards of one collection
}

}  // namespace
}  // namespace meridian::sim::node_test
