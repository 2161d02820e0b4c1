// KafkaLog against real brokers (ctest label `integration`; docs/kafka.md). One broker serves
// most tests (each uses its own topics); the broker-kill test starts its own.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/real/event_loop.h"
#include "engine/real/kafka/kafka_admin.h"
#include "engine/real/kafka/kafka_log.h"
#include "engine/real/kafka/kafka_test_cluster.h"

namespace meridian::real {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::TestBroker;

TestBroker* shared_broker = nullptr;

class SharedBrokerEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    auto broker = TestBroker::start("itest");
    ASSERT_TRUE(broker.is_ok()) << broker.status().to_string();
    broker_ = std::move(broker).value();
    shared_broker = broker_.get();
  }
  void TearDown() override {
    shared_broker = nullptr;
    broker_.reset();
  }

 private:
  std::unique_ptr<TestBroker> broker_;
};

[[maybe_unused]] const auto* const environment =
    ::testing::AddGlobalTestEnvironment(new SharedBrokerEnvironment);

KafkaLogOptions options_for(const TestBroker& broker, const std::string& client) {
  KafkaLogOptions options;
  options.bootstrap_servers = broker.bootstrap();
  options.client_id = client;
  options.message_timeout_ms = 5'000;
  return options;
}

std::unique_ptr<KafkaLog> make_log(EventLoop& loop, const KafkaLogOptions& options) {
  auto log = KafkaLog::create(loop, options);
  EXPECT_TRUE(log.is_ok()) << log.status().to_string();
  return log.is_ok() ? std::move(log).value() : nullptr;
}

void create(const TestBroker& broker, const std::string& topic, int partitions) {
  Status status = create_topics(options_for(broker, "admin"), {{topic, partitions}});
  ASSERT_TRUE(status.is_ok()) << status.to_string();
}

// Binary-safe values: every byte value, NULs included.
std::string value_for(int i) {
  std::string value = "value-" + std::to_string(i) + "-";
  for (int b = 0; b < 256; ++b) value.push_back(char((b + i) & 0xff));
  return value;
}

struct Ack {
  bool done = false;
  Status status;
  uint64_t offset = 0;
};

// Produces `count` records (keys "k<first+i>"), returns their acks once all are reported.
std::vector<Ack> produce_all(EventLoop& loop, KafkaLog& log, const std::string& topic,
                             uint32_t partition, int first, int count,
                             milliseconds timeout = seconds(30)) {
  auto acks = std::make_shared<std::vector<Ack>>(size_t(count));
  for (int i = 0; i < count; ++i) {
    log.produce(topic, partition, "k" + std::to_string(first + i), value_for(first + i),
                [acks, i](Status status, uint64_t offset) {
                  Ack& ack = (*acks)[size_t(i)];
                  EXPECT_FALSE(ack.done) << "done ran twice";
                  ack = {true, std::move(status), offset};
                });
  }
  loop.run_until(
      [&] {
        for (const Ack& ack : *acks) {
          if (!ack.done) return false;
        }
        return true;
      },
      timeout);
  return *acks;
}

TEST(KafkaLog, ProducedRecordsAreAckedInOrderAndReadBackExactly) {
  create(*shared_broker, "order", 2);
  EventLoop loop;
  auto log = make_log(loop, options_for(*shared_broker, "order"));
  ASSERT_NE(log, nullptr);
  const std::vector<Ack> acks = produce_all(loop, *log, "order", 1, 0, 300);
  for (size_t i = 0; i < acks.size(); ++i) {
    ASSERT_TRUE(acks[i].done) << i;
    ASSERT_TRUE(acks[i].status.is_ok()) << i << ": " << acks[i].status.to_string();
    EXPECT_EQ(acks[i].offset, i);  // a fresh partition, one producer: offsets 0, 1, 2, ...
  }
  EXPECT_EQ(log->stats().produce_acked, 300u);

  std::vector<env::LogRecord> seen;
  log->subscribe("order", 1, 0, [&](const env::LogRecord& r) { seen.push_back(r); });
  log->subscribe("order", 0, 0, [&](const env::LogRecord& r) { ADD_FAILURE() << r.offset; });
  ASSERT_TRUE(loop.run_until([&] { return seen.size() >= 300; }, seconds(30))) << seen.size();
  loop.run_until([] { return false; }, milliseconds(300));  // nothing more arrives
  ASSERT_EQ(seen.size(), 300u);
  for (int i = 0; i < 300; ++i) {
    const env::LogRecord& r = seen[size_t(i)];
    EXPECT_EQ(r.topic, "order");
    EXPECT_EQ(r.partition, 1u);
    EXPECT_EQ(r.offset, uint64_t(i));
    EXPECT_EQ(r.key, "k" + std::to_string(i));
    EXPECT_EQ(r.value, value_for(i));
  }
}

TEST(KafkaLog, RecordsCarryTheWriterIdTheyWereProducedWith) {
  create(*shared_broker, "writers", 1);
  EventLoop loop;
  auto log = make_log(loop, options_for(*shared_broker, "writers"));
  ASSERT_NE(log, nullptr);
  constexpr uint64_t kWriter = (uint64_t(3) << 32) | 0xfeedbeef;  // every byte distinct from 0
  for (const Ack& ack : produce_all(loop, *log, "writers", 0, 0, 3))
    ASSERT_TRUE(ack.status.is_ok());
  log->set_writer(kWriter);
  for (const Ack& ack : produce_all(loop, *log, "writers", 0, 3, 3))
    ASSERT_TRUE(ack.status.is_ok());
  std::vector<uint64_t> writers;
  log->subscribe("writers", 0, 0, [&](const env::LogRecord& r) { writers.push_back(r.writer); });
  ASSERT_TRUE(loop.run_until([&] { return writers.size() >= 6; }, seconds(30))) << writers.size();
  EXPECT_EQ(writers, (std::vector<uint64_t>{0, 0, 0, kWriter, kWriter, kWriter}));
}

TEST(KafkaLog, SubscriptionFromAMiddleOffsetSeesTheRestAndTheTail) {
  create(*shared_broker, "middle", 1);
  EventLoop loop;
  auto log = make_log(loop, options_for(*shared_broker, "middle"));
  ASSERT_NE(log, nullptr);
  for (const Ack& ack : produce_all(loop, *log, "middle", 0, 0, 50)) {
    ASSERT_TRUE(ack.status.is_ok()) << ack.status.to_string();
  }
  std::vector<uint64_t> offsets;
  log->subscribe("middle", 0, 20, [&](const env::LogRecord& r) {
    EXPECT_EQ(r.value, value_for(int(r.offset)));
    offsets.push_back(r.offset);
  });
  ASSERT_TRUE(loop.run_until([&] { return offsets.size() >= 30; }, seconds(30)));
  // Records appended after the subscription caught up arrive too (the live tail).
  for (const Ack& ack : produce_all(loop, *log, "middle", 0, 50, 10)) {
    ASSERT_TRUE(ack.status.is_ok()) << ack.status.to_string();
  }
  ASSERT_TRUE(loop.run_until([&] { return offsets.size() >= 40; }, seconds(30)));
  ASSERT_EQ(offsets.size(), 40u);
  for (size_t i = 0; i < offsets.size(); ++i) EXPECT_EQ(offsets[i], 20 + i);
}

// How a node reads another region's cluster directly (OriginRoutedLog): records and offsets as
// a full log sees them, and a produce refused with a status, never sent.
TEST(KafkaLog, AReadOnlyLogReadsAndRefusesProduces) {
  create(*shared_broker, "readonly", 1);
  EventLoop loop;
  auto writer = make_log(loop, options_for(*shared_broker, "readonly-writer"));
  KafkaLogOptions options = options_for(*shared_broker, "readonly-reader");
  options.read_only = true;
  auto reader = make_log(loop, options);
  ASSERT_NE(writer, nullptr);
  ASSERT_NE(reader, nullptr);
  for (const Ack& ack : produce_all(loop, *writer, "readonly", 0, 0, 5)) {
    ASSERT_TRUE(ack.status.is_ok()) << ack.status.to_string();
  }
  std::vector<std::string> keys;
  reader->subscribe("readonly", 0, 2, [&](const env::LogRecord& r) { keys.push_back(r.key); });
  ASSERT_TRUE(loop.run_until([&] { return keys.size() >= 3; }, seconds(30)));
  EXPECT_EQ(keys, (std::vector<std::string>{"k2", "k3", "k4"}));
  ASSERT_TRUE(loop.run_until([&] { return reader->end_offset("readonly", 0) == 5; }, seconds(10)));

  const std::vector<Ack> refused = produce_all(loop, *reader, "readonly", 0, 5, 2, seconds(5));
  for (const Ack& ack : refused) {
    ASSERT_TRUE(ack.done);
    EXPECT_EQ(ack.status.code(), StatusCode::kUnsupported) << ack.status.to_string();
    EXPECT_NE(ack.status.message().find("read-only"), std::string::npos);
  }
  EXPECT_EQ(reader->stats().produce_failed, 2u);
  // Nothing was appended: after two watermark refreshes the end is still 5, nothing arrived.
  loop.run_until([] { return false; }, milliseconds(1200));
  EXPECT_EQ(reader->end_offset("readonly", 0), 5u);
  EXPECT_EQ(keys.size(), 3u);
}

TEST(KafkaLog, SubscriptionToATopicCreatedLaterStartsOnceItExists) {
  EventLoop loop;
  auto log = make_log(loop, options_for(*shared_broker, "late"));
  ASSERT_NE(log, nullptr);
  std::vector<env::LogRecord> seen;
  log->subscribe("late.topic", 2, 0, [&](const env::LogRecord& r) { seen.push_back(r); });
  loop.run_until([] { return false; }, milliseconds(1500));
  EXPECT_EQ(log->pending_subscriptions(), 1u);
  EXPECT_TRUE(seen.empty());

  create(*shared_broker, "late.topic", 3);  // appears later, as a mirrored topic would
  for (const Ack& ack : produce_all(loop, *log, "late.topic", 2, 0, 5)) {
    ASSERT_TRUE(ack.status.is_ok()) << ack.status.to_string();
  }
  ASSERT_TRUE(loop.run_until([&] { return seen.size() >= 5; }, seconds(30))) << seen.size();
  EXPECT_EQ(log->pending_subscriptions(), 0u);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].offset, i);
    EXPECT_EQ(seen[i].key, "k" + std::to_string(i));
  }
}

// What a node waits for before it takes writes (RegionNode::await_reading): the consumer has
// fetched from the partition, also when the partition is empty.
TEST(KafkaLog, WhenReadingRunsOnceThePartitionIsFetchedNotBefore) {
  EventLoop loop;
  auto log = make_log(loop, options_for(*shared_broker, "reading"));
  ASSERT_NE(log, nullptr);
  log->subscribe("reading.late", 0, 0, [](const env::LogRecord&) {});
  int ready = 0;
  log->when_reading("reading.late", 0, [&] { ++ready; });
  loop.run_until([] { return false; }, milliseconds(1500));
  EXPECT_EQ(ready, 0);  // the topic does not exist yet: nothing can be fetched

  create(*shared_broker, "reading.late", 1);  // empty: only a partition EOF can say so
  ASSERT_TRUE(loop.run_until([&] { return ready > 0; }, seconds(30)));
  EXPECT_EQ(ready, 1);
  // Asked again once reading: from the next poll, never inside the call.
  log->when_reading("reading.late", 0, [&] { ++ready; });
  EXPECT_EQ(ready, 1);
  ASSERT_TRUE(loop.run_until([&] { return ready == 2; }, seconds(5)));
}

// Without prepare_produce, librdkafka learns the topic's partitions at its next one-second
// topic scan; with it, the first record goes out at once.
TEST(KafkaLog, APreparedProducerSendsItsFirstRecordBeforeTheTopicScan) {
  create(*shared_broker, "prepared", 2);
  EventLoop loop;
  auto log = make_log(loop, options_for(*shared_broker, "prepared"));
  ASSERT_NE(log, nullptr);
  // As a node starts: the producer connects (its first metadata request names no topic) while
  // the node reads its log; only then comes the first produce.
  loop.run_until([] { return false; }, milliseconds(1500));
  ASSERT_TRUE(log->prepare_produce({"prepared"}, seconds(10)).is_ok());
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Ack> acks = produce_all(loop, *log, "prepared", 1, 0, 1);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(acks[0].status.is_ok()) << acks[0].status.to_string();
  // Unprepared, this first ack comes at the topic scan: ~530 ms after the produce here (the
  // scan runs each second from the handle's start; the produce is 1.5 s in); prepared, 20-28 ms.
  EXPECT_LT(took, milliseconds(300)) << std::chrono::duration_cast<milliseconds>(took).count();
  EXPECT_EQ(log->prepare_produce({"prepared.missing"}, seconds(10)).code(), StatusCode::kNotFound);
}

// The consumer's side of the same scan: a partition assigned before the consumer knows its
// topic's leaders would be fetched only at the next scan; the background thread asks for the
// topic's metadata on the consumer handle first (a restarting node reads its log that much
// sooner).
TEST(KafkaLog, ASubscriptionFetchesBeforeTheTopicScan) {
  create(*shared_broker, "primed", 1);
  EventLoop loop;
  {
    auto writer = make_log(loop, options_for(*shared_broker, "primed-writer"));
    ASSERT_NE(writer, nullptr);
    for (const Ack& ack : produce_all(loop, *writer, "primed", 0, 0, 3))
      ASSERT_TRUE(ack.status.is_ok());
  }
  auto log = make_log(loop, options_for(*shared_broker, "primed"));
  ASSERT_NE(log, nullptr);
  loop.run_until([] { return false; }, milliseconds(1500));  // connected, no topic known
  size_t seen = 0;
  const auto start = std::chrono::steady_clock::now();
  log->subscribe("primed", 0, 0, [&](const env::LogRecord&) { ++seen; });
  ASSERT_TRUE(loop.run_until([&] { return seen == 3; }, seconds(30)));
  const auto took = std::chrono::steady_clock::now() - start;
  // Unprimed: ~500 ms here (the next scan); primed: tens of ms.
  EXPECT_LT(took, milliseconds(300)) << std::chrono::duration_cast<milliseconds>(took).count();
}

TEST(KafkaLog, EndOffsetReflectsTheHighWatermark) {
  create(*shared_broker, "watermark", 2);
  EventLoop loop;
  auto log = make_log(loop, options_for(*shared_broker, "watermark"));
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->end_offset("watermark", 0), 0u);
  for (const Ack& ack : produce_all(loop, *log, "watermark", 0, 0, 30)) {
    ASSERT_TRUE(ack.status.is_ok()) << ack.status.to_string();
  }
  // Not subscribed: from the background refresh.
  EXPECT_TRUE(loop.run_until([&] { return log->end_offset("watermark", 0) == 30; }, seconds(10)))
      << log->end_offset("watermark", 0);
  EXPECT_EQ(log->end_offset("watermark", 1), 0u);
  // Subscribed: also from fetch responses.
  size_t seen = 0;
  log->subscribe("watermark", 0, 0, [&](const env::LogRecord&) { ++seen; });
  for (const Ack& ack : produce_all(loop, *log, "watermark", 0, 30, 12)) {
    ASSERT_TRUE(ack.status.is_ok()) << ack.status.to_string();
  }
  EXPECT_TRUE(loop.run_until([&] { return log->end_offset("watermark", 0) == 42; }, seconds(10)))
      << log->end_offset("watermark", 0);
  EXPECT_TRUE(loop.run_until([&] { return seen == 42; }, seconds(10)));
  EXPECT_EQ(log->end_offset("no.such.topic", 0), 0u);

  // A new client knows the end right away after load_end_offsets (what a restarting node needs).
  EventLoop fresh_loop;
  auto fresh = make_log(fresh_loop, options_for(*shared_broker, "watermark-fresh"));
  ASSERT_NE(fresh, nullptr);
  Status loaded = fresh->load_end_offsets({{"watermark", 0}, {"watermark", 1}}, seconds(10));
  ASSERT_TRUE(loaded.is_ok()) << loaded.to_string();
  EXPECT_EQ(fresh->end_offset("watermark", 0), 42u);
  EXPECT_EQ(fresh->end_offset("watermark", 1), 0u);
  EXPECT_EQ(fresh->load_end_offsets({{"watermark", 7}}, seconds(10)).code(), StatusCode::kNotFound);
  EXPECT_EQ(fresh->load_end_offsets({{"no.such.topic", 0}}, seconds(10)).code(),
            StatusCode::kNotFound);
}

TEST(KafkaLog, ProduceToAMissingTopicFailsWithinTheMessageTimeout) {
  EventLoop loop;
  KafkaLogOptions options = options_for(*shared_broker, "missing");
  options.message_timeout_ms = 1'500;
  auto log = make_log(loop, options);
  ASSERT_NE(log, nullptr);
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Ack> acks = produce_all(loop, *log, "no.such.topic", 0, 0, 3, seconds(20));
  for (const Ack& ack : acks) {
    ASSERT_TRUE(ack.done);
    EXPECT_EQ(ack.status.code(), StatusCode::kUnavailable) << ack.status.to_string();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
}

TEST(KafkaAdmin, CreateTopicsIsIdempotentAndChecksPartitionCounts) {
  const KafkaLogOptions options = options_for(*shared_broker, "admin");
  CollectionConfig docs;
  docs.name = "docs";
  docs.num_shards = 4;
  auto topics = region_topics({docs});
  ASSERT_EQ(topics.size(), 2u);
  EXPECT_EQ(topics[0].name, "wal.docs");
  EXPECT_EQ(topics[0].partitions, 4);
  EXPECT_EQ(topics[1].name, "heartbeat");
  EXPECT_EQ(topics[1].partitions, 1);
  Status first = create_topics(options, topics);
  ASSERT_TRUE(first.is_ok()) << first.to_string();
  Status again = create_topics(options, topics);
  EXPECT_TRUE(again.is_ok()) << again.to_string();
  Status mismatch = create_topics(options, {{"wal.docs", 8}});
  EXPECT_EQ(mismatch.code(), StatusCode::kInvalidArgument) << mismatch.to_string();
}

// DeleteRecords (what retention does, at once): the partition keeps its offsets but no record;
// a client reading from 0 gets only what is appended afterwards, and load_end_offsets shows
// start == end (what a restarting node reads to know that its own log cannot be replayed).
TEST(KafkaAdmin, DeleteRecordsEmptiesPartitionsUpToTheirEnd) {
  create(*shared_broker, "deleted", 2);
  EventLoop loop;
  auto log = make_log(loop, options_for(*shared_broker, "deleted"));
  ASSERT_NE(log, nullptr);
  for (const Ack& ack : produce_all(loop, *log, "deleted", 0, 0, 20)) {
    ASSERT_TRUE(ack.status.is_ok()) << ack.status.to_string();
  }
  for (const Ack& ack : produce_all(loop, *log, "deleted", 1, 0, 5)) {
    ASSERT_TRUE(ack.status.is_ok()) << ack.status.to_string();
  }
  const KafkaLogOptions admin = options_for(*shared_broker, "admin");
  Result<std::vector<uint64_t>> starts = delete_records(admin, {{"deleted", 0}});
  ASSERT_TRUE(starts.is_ok()) << starts.status().to_string();
  EXPECT_EQ(*starts, std::vector<uint64_t>({20}));

  EventLoop fresh_loop;
  auto fresh = make_log(fresh_loop, options_for(*shared_broker, "deleted-fresh"));
  ASSERT_NE(fresh, nullptr);
  Status loaded = fresh->load_end_offsets({{"deleted", 0}, {"deleted", 1}}, seconds(10));
  ASSERT_TRUE(loaded.is_ok()) << loaded.to_string();
  EXPECT_EQ(fresh->start_offset("deleted", 0), 20u);
  EXPECT_EQ(fresh->end_offset("deleted", 0), 20u);
  EXPECT_EQ(fresh->start_offset("deleted", 1), 0u);  // untouched
  EXPECT_EQ(fresh->end_offset("deleted", 1), 5u);
  std::vector<uint64_t> seen;
  fresh->subscribe("deleted", 0, 0, [&](const env::LogRecord& r) { seen.push_back(r.offset); });
  for (const Ack& ack : produce_all(fresh_loop, *fresh, "deleted", 0, 20, 1)) {
    ASSERT_TRUE(ack.status.is_ok()) << ack.status.to_string();
  }
  EXPECT_TRUE(fresh_loop.run_until([&] { return !seen.empty(); }, seconds(10)));
  EXPECT_EQ(seen, std::vector<uint64_t>({20}));

  Result<std::vector<uint64_t>> missing = delete_records(admin, {{"no.such.topic", 0}});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().to_string();
  EXPECT_EQ(delete_records(admin, {{"deleted", 7}}).status().code(), StatusCode::kNotFound);
}

// Kill -9 the broker: produces fail (never a false ack); after a restart on the same data
// producing works again and every acknowledged record is in the log at its offset.
TEST(KafkaLog, BrokerKillFailsProducesAndLosesNothingAcknowledged) {
  auto started = TestBroker::start("kill");
  ASSERT_TRUE(started.is_ok()) << started.status().to_string();
  TestBroker& broker = *started.value();
  create(broker, "wal.kill", 1);
  EventLoop loop;
  KafkaLogOptions options = options_for(broker, "kill");
  options.message_timeout_ms = 3'000;
  auto log = make_log(loop, options);
  ASSERT_NE(log, nullptr);

  std::map<uint64_t, std::string> acked;  // offset → value
  auto note = [&](const std::vector<Ack>& acks, int first) {
    for (size_t i = 0; i < acks.size(); ++i) {
      if (acks[i].status.is_ok()) {
        EXPECT_EQ(acked.count(acks[i].offset), 0u) << "offset acked twice";
        acked[acks[i].offset] = value_for(first + int(i));
      }
    }
  };
  const std::vector<Ack> before = produce_all(loop, *log, "wal.kill", 0, 0, 100);
  for (const Ack& ack : before) ASSERT_TRUE(ack.status.is_ok()) << ack.status.to_string();
  note(before, 0);
  // A subscription that lives through the outage.
  std::vector<uint64_t> tail;
  log->subscribe("wal.kill", 0, 0, [&](const env::LogRecord& r) { tail.push_back(r.offset); });
  ASSERT_TRUE(loop.run_until([&] { return tail.size() >= 100; }, seconds(30)));

  ASSERT_TRUE(broker.kill().is_ok());
  const auto killed_at = std::chrono::steady_clock::now();
  const std::vector<Ack> during = produce_all(loop, *log, "wal.kill", 0, 100, 20, seconds(20));
  const auto failed_after = std::chrono::steady_clock::now() - killed_at;
  for (const Ack& ack : during) {
    ASSERT_TRUE(ack.done) << "no report within 20 s";
    EXPECT_FALSE(ack.status.is_ok()) << "acknowledged while the broker was dead";
    EXPECT_EQ(ack.status.code(), StatusCode::kUnavailable);
  }
  EXPECT_LT(failed_after, milliseconds(options.message_timeout_ms + 3'000));
  std::fprintf(stderr, "produces failed %.1f s after the kill (message timeout %.1f s): %s\n",
               std::chrono::duration<double>(failed_after).count(),
               options.message_timeout_ms / 1000.0, during.front().status.to_string().c_str());

  {  // Closing a log while its cluster is down does not hang.
    EventLoop doomed_loop;
    auto doomed = make_log(doomed_loop, options_for(broker, "doomed"));
    ASSERT_NE(doomed, nullptr);
    doomed->subscribe("wal.kill", 0, 0, [](const env::LogRecord&) {});
    doomed->produce("wal.kill", 0, "k", "v", [](Status, uint64_t) {});
    doomed_loop.run_until([] { return false; }, milliseconds(500));
    const auto closing = std::chrono::steady_clock::now();
    doomed.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - closing, seconds(5));
  }

  ASSERT_TRUE(broker.restart().is_ok());
  // Producing works again (the first attempts may still fail while the client reconnects).
  bool recovered = false;
  for (int attempt = 0; attempt < 20 && !recovered; ++attempt) {
    const std::vector<Ack> probe = produce_all(loop, *log, "wal.kill", 0, 1000 + attempt, 1);
    note(probe, 1000 + attempt);
    recovered = probe[0].status.is_ok();
  }
  ASSERT_TRUE(recovered);
  const std::vector<Ack> after = produce_all(loop, *log, "wal.kill", 0, 200, 100);
  for (const Ack& ack : after) ASSERT_TRUE(ack.status.is_ok()) << ack.status.to_string();
  note(after, 200);
  std::fprintf(stderr, "producer recreated %llu times\n",
               static_cast<unsigned long long>(log->stats().producer_recreated));
  EXPECT_GE(log->stats().producer_recreated, 1u);  // the timed-out producer was abandoned

  // The subscription resumed after the restart, in offset order.
  const uint64_t newest = acked.rbegin()->first;
  EXPECT_TRUE(loop.run_until([&] { return !tail.empty() && tail.back() >= newest; }, seconds(30)))
      << (tail.empty() ? 0 : tail.back()) << " < " << newest;
  for (size_t i = 1; i < tail.size(); ++i) ASSERT_GT(tail[i], tail[i - 1]);

  // Read everything back with a fresh client.
  EventLoop reader_loop;
  auto reader = make_log(reader_loop, options_for(broker, "kill-reader"));
  ASSERT_NE(reader, nullptr);
  std::map<uint64_t, std::string> log_contents;
  uint64_t last = 0;
  reader->subscribe("wal.kill", 0, 0, [&](const env::LogRecord& r) {
    if (!log_contents.empty()) {
      EXPECT_GT(r.offset, last);
    }
    last = r.offset;
    log_contents[r.offset] = r.value;
  });
  const uint64_t highest_acked = acked.rbegin()->first;
  ASSERT_TRUE(
      reader_loop.run_until([&] { return log_contents.count(highest_acked) > 0; }, seconds(30)));
  for (const auto& [offset, value] : acked) {
    auto it = log_contents.find(offset);
    ASSERT_NE(it, log_contents.end()) << "acknowledged offset " << offset << " missing";
    EXPECT_EQ(it->second, value) << "offset " << offset;
  }
}

}  // namespace
}  // namespace meridian::real
