#include "sim/sim_log.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace meridian::sim {
namespace {

using env::kMicrosecond;
using env::kMillisecond;
using env::kSecond;

SimLogSpec exact_spec() {
  SimLogSpec s;
  s.ack_jitter_ns = 0;  // exact timing
  return s;
}

struct Produced {
  std::string value;
  bool ok = false;
  uint64_t offset = 0;
  TimeNs at = -1;
  std::string error;
};

struct Delivered {
  uint64_t offset;
  std::string value;
  TimeNs at;
};

// One region: a scheduler, the brokers' disk and the cluster, topic "wal" with 4 partitions.
struct Cluster {
  Scheduler scheduler;
  SimDisk disk;
  SimLogCluster log;
  std::vector<Produced> produced;
  std::vector<Delivered> delivered;

  explicit Cluster(const SimLogSpec& spec = exact_spec(), uint64_t seed = 1)
      : disk(scheduler, SimDiskSpec{}),
        log(scheduler, disk, "r1", spec, Rng::derive(seed, "log/r1")) {
    EXPECT_TRUE(log.create_topic("wal", 4).is_ok());
  }
  size_t produce(uint32_t partition, std::string value) {
    const size_t i = produced.size();
    Produced p;
    p.value = value;
    produced.push_back(std::move(p));
    log.produce("wal", partition, "key", std::move(value), [this, i](Status s, uint64_t offset) {
      EXPECT_EQ(produced[i].at, -1) << "done ran twice";
      produced[i].ok = s.is_ok();
      produced[i].offset = offset;
      produced[i].at = scheduler.now();
      produced[i].error = s.message();
    });
    return i;
  }
  void subscribe(uint32_t partition, uint64_t from) {
    log.subscribe("wal", partition, from, [this](const env::LogRecord& r) {
      delivered.push_back(Delivered{r.offset, r.value, scheduler.now()});
    });
  }
  std::vector<std::string> values(uint32_t partition) const {
    std::vector<std::string> out;
    for (const env::LogRecord& r : log.records("wal", partition)) out.push_back(r.value);
    return out;
  }
  // Disk + ack time of one record alone on an idle cluster.
  TimeNs produce_latency(size_t value_bytes) const {
    const SimDiskSpec& d = disk.spec();
    const size_t bytes = 3 + value_bytes + log.spec().record_overhead_bytes;
    return d.write_latency_ns + TimeNs(std::ceil(double(bytes) * 1e9 / d.throughput_bytes_per_s)) +
           d.fsync_latency_ns + log.spec().ack_latency_ns;
  }
};

TEST(SimLog, ProduceIsAcknowledgedAfterDiskAndQuorum) {
  Cluster c;
  c.produce(0, std::string(100, 'x'));
  EXPECT_EQ(c.produced[0].at, -1);  // never synchronous
  EXPECT_EQ(c.log.end_offset("wal", 0), 0u);
  c.scheduler.run_until(kSecond);
  ASSERT_TRUE(c.produced[0].ok);
  EXPECT_EQ(c.produced[0].offset, 0u);
  EXPECT_EQ(c.produced[0].at, c.produce_latency(100));
  EXPECT_EQ(c.log.end_offset("wal", 0), 1u);
  EXPECT_EQ(c.log.records("wal", 0).front().value, std::string(100, 'x'));
  EXPECT_EQ(c.log.stats().appended, 1u);
}

TEST(SimLog, ConcurrentProducesKeepOrderPerPartitionDespiteJitter) {
  SimLogSpec spec;
  spec.ack_jitter_ns = 5 * kMillisecond;  // far larger than the gaps between produces
  Cluster c(spec);
  for (int i = 0; i < 200; ++i) c.produce(uint32_t(i % 3), std::to_string(i));
  c.scheduler.run_until(kSecond);
  std::vector<uint64_t> next_offset(3, 0);
  std::vector<TimeNs> last_ack(3, 0);
  for (int i = 0; i < 200; ++i) {
    const Produced& p = c.produced[size_t(i)];
    ASSERT_TRUE(p.ok) << p.error;
    const uint32_t part = uint32_t(i % 3);
    EXPECT_EQ(p.offset, next_offset[part]++);  // offsets in produce order
    EXPECT_GE(p.at, last_ack[part]);           // acks in produce order
    last_ack[part] = p.at;
    EXPECT_EQ(c.log.records("wal", part)[p.offset].value, std::to_string(i));
  }
}

TEST(SimLog, SubscribeDeliversInOrderFromAnOffset) {
  Cluster c;
  for (int i = 0; i < 10; ++i) c.produce(1, "v" + std::to_string(i));
  c.scheduler.run_until(100 * kMillisecond);
  c.subscribe(1, 4);
  EXPECT_TRUE(c.delivered.empty());  // never synchronous
  c.scheduler.run_until(200 * kMillisecond);
  for (int i = 10; i < 15; ++i) c.produce(1, "v" + std::to_string(i));
  c.scheduler.run_until(300 * kMillisecond);
  ASSERT_EQ(c.delivered.size(), 11u);
  for (size_t i = 0; i < c.delivered.size(); ++i) {
    EXPECT_EQ(c.delivered[i].offset, 4 + i);
    EXPECT_EQ(c.delivered[i].value, "v" + std::to_string(4 + i));
  }
}

TEST(SimLog, SubscriptionBeforeTheTopicExists) {
  Cluster c;
  std::vector<std::string> got;
  c.log.subscribe("later", 0, 0, [&](const env::LogRecord& r) { got.push_back(r.value); });
  c.scheduler.run_until(10 * kMillisecond);
  ASSERT_TRUE(c.log.create_topic("later", 1).is_ok());
  c.log.produce("later", 0, "k", "hello", nullptr);
  c.scheduler.run_until(20 * kMillisecond);
  EXPECT_EQ(got, std::vector<std::string>{"hello"});
}

TEST(SimLog, ANewSubscriptionFetchesAfterItsSetUpAndSaysWhenItReads) {
  SimLogSpec spec = exact_spec();
  spec.subscribe_setup_ns = 30 * kMillisecond;
  Cluster c(spec);
  c.produce(1, "before");
  c.subscribe(1, 0);
  TimeNs ready_at = -1;
  c.log.when_reading("wal", 1, [&] { ready_at = c.scheduler.now(); });
  c.scheduler.run_until(29 * kMillisecond);
  EXPECT_EQ(ready_at, -1);
  EXPECT_TRUE(c.delivered.empty()) << "fetched during the set-up";
  c.scheduler.run_until(100 * kMillisecond);
  EXPECT_EQ(ready_at, 30 * kMillisecond);
  ASSERT_EQ(c.delivered.size(), 1u);
  EXPECT_EQ(c.delivered[0].at, 30 * kMillisecond + spec.fetch_latency_ns);
  // Asked again once reading: at once.
  bool again = false;
  c.log.when_reading("wal", 1, [&] { again = true; });
  EXPECT_TRUE(again);

  // Down at the end of the set-up: reading only once the cluster is back.
  c.subscribe(2, 0);
  TimeNs ready2 = -1;
  c.log.when_reading("wal", 2, [&] { ready2 = c.scheduler.now(); });
  c.log.set_available(false);
  c.scheduler.run_until(200 * kMillisecond);
  EXPECT_EQ(ready2, -1);
  c.log.set_available(true);
  c.scheduler.run_until(201 * kMillisecond);
  EXPECT_EQ(ready2, 200 * kMillisecond);

  // A crashed client's callback never runs.
  c.subscribe(3, 0);
  bool crashed_ran = false;
  c.log.when_reading("wal", 3, [&] { crashed_ran = true; });
  c.log.drop_clients();
  c.scheduler.run_until(400 * kMillisecond);
  EXPECT_FALSE(crashed_ran);
}

TEST(SimLog, CaughtUpSubscriberSeesRecordsWithinFetchLatency) {
  Cluster c;
  c.subscribe(2, 0);
  Rng rng(7);
  TimeNs t = 0;
  for (int i = 0; i < 100; ++i) {
    t += TimeNs(rng.below(3 * kMillisecond));
    c.scheduler.at(t, [&c, i] { c.produce(2, std::to_string(i)); });
  }
  c.scheduler.run_until(10 * kSecond);
  ASSERT_EQ(c.delivered.size(), 100u);
  for (size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(c.delivered[i].offset, i);
    const TimeNs acked = c.produced[i].at;
    EXPECT_GE(c.delivered[i].at, acked);
    EXPECT_LE(c.delivered[i].at, acked + c.log.spec().fetch_latency_ns);
  }
}

TEST(SimLog, FetchMinRecordsBatchesWithinFetchWait) {
  SimLogSpec spec = exact_spec();
  spec.fetch_min_records = 10;
  spec.fetch_wait_ns = 5 * kMillisecond;
  Cluster c(spec);
  c.subscribe(0, 0);
  for (int i = 0; i < 3; ++i) c.produce(0, std::to_string(i));
  c.scheduler.run_until(kSecond);
  ASSERT_EQ(c.delivered.size(), 3u);
  // Batched: all three in one response, fetch_wait after the first became durable.
  const TimeNs first_durable = c.produced[0].at;
  for (const Delivered& d : c.delivered) {
    EXPECT_EQ(d.at, first_durable + spec.fetch_wait_ns + spec.fetch_latency_ns);
  }
  // Ten records at once satisfy the fetch without waiting.
  for (int i = 0; i < 10; ++i) c.produce(0, std::to_string(i));
  c.scheduler.run_until(2 * kSecond);
  ASSERT_EQ(c.delivered.size(), 13u);
  EXPECT_EQ(c.delivered.back().at, c.produced.back().at + spec.fetch_latency_ns);
}

TEST(SimLog, FetchMaxRecordsBoundsOneResponse) {
  SimLogSpec spec = exact_spec();
  spec.fetch_max_records = 4;
  Cluster c(spec);
  for (int i = 0; i < 10; ++i) c.produce(0, std::to_string(i));
  c.scheduler.run_until(kSecond);
  c.subscribe(0, 0);
  c.scheduler.run_until(2 * kSecond);
  ASSERT_EQ(c.delivered.size(), 10u);
  // Responses of 4, 4 and 2 records, one fetch_latency apart.
  EXPECT_EQ(c.delivered[3].at, c.delivered[0].at);
  EXPECT_EQ(c.delivered[4].at, c.delivered[0].at + spec.fetch_latency_ns);
  EXPECT_EQ(c.delivered[9].at, c.delivered[0].at + 2 * spec.fetch_latency_ns);
}

TEST(SimLog, LongOutageFailsProducesAtTheirTimeoutAndAppendsNothing) {
  Cluster c;
  c.subscribe(0, 0);
  c.log.set_available(false);
  c.produce(0, "lost");
  c.scheduler.run_until(8 * kSecond);
  ASSERT_NE(c.produced[0].at, -1);
  EXPECT_FALSE(c.produced[0].ok);
  EXPECT_EQ(c.produced[0].at, c.log.spec().produce_timeout_ns);
  EXPECT_NE(c.produced[0].error.find("not durable"), std::string::npos);
  c.log.set_available(true);
  c.scheduler.run_until(10 * kSecond);
  EXPECT_EQ(c.log.end_offset("wal", 0), 0u);
  EXPECT_TRUE(c.delivered.empty());
  EXPECT_EQ(c.log.stats().failed, 1u);
}

TEST(SimLog, ShortOutageFailsProducesWhenTheClusterIsBack) {
  Cluster c;
  c.subscribe(0, 0);
  c.log.set_available(false);
  c.produce(0, "lost");
  c.scheduler.run_until(kSecond);
  EXPECT_EQ(c.produced[0].at, -1);
  c.log.set_available(true);  // back before the deadline: the record is still lost
  c.scheduler.run_until(10 * kSecond);
  EXPECT_FALSE(c.produced[0].ok);
  EXPECT_EQ(c.produced[0].at, kSecond);
  EXPECT_NE(c.produced[0].error.find("outage"), std::string::npos);
  EXPECT_EQ(c.log.end_offset("wal", 0), 0u);
  // After the failure is reported, the partition accepts records again.
  c.produce(0, "fine");
  c.scheduler.run_until(11 * kSecond);
  EXPECT_TRUE(c.produced[1].ok);
  ASSERT_EQ(c.delivered.size(), 1u);
  EXPECT_EQ(c.delivered[0].value, "fine");
}

TEST(SimLog, RecordLostInOutageTakesLaterRecordsOfItsPartitionWithIt) {
  Cluster c;
  c.produce(0, "a");  // reaches the disk, dies before the quorum acknowledges
  c.scheduler.run_until(500 * kMicrosecond);
  c.log.set_available(false);
  c.scheduler.run_until(2 * kMillisecond);
  c.produce(0, "b");  // lost: produced while down
  c.produce(1, "c");  // lost too, on its own
  c.scheduler.run_until(3 * kMillisecond);
  c.log.set_available(true);
  c.scheduler.run_until(4 * kMillisecond);
  c.produce(0, "d");  // after the loss was reported: fine
  c.scheduler.run_until(10 * kSecond);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(c.produced[i].ok) << i;
    EXPECT_EQ(c.produced[i].at, 3 * kMillisecond) << i;  // reported together, on reconnect
  }
  EXPECT_TRUE(c.produced[3].ok);
  EXPECT_EQ(c.values(0), std::vector<std::string>{"d"});
  EXPECT_TRUE(c.values(1).empty());
}

TEST(SimLog, SubscribersReceiveNothingWhileDownAndResumeAfter) {
  Cluster c;
  c.subscribe(3, 0);
  c.produce(3, "before");
  c.scheduler.run_until(100 * kMillisecond);
  c.log.set_available(false);
  c.scheduler.run_until(2 * kSecond);
  EXPECT_EQ(c.delivered.size(), 1u);
  c.log.set_available(true);
  c.produce(3, "after");
  c.scheduler.run_until(3 * kSecond);
  ASSERT_EQ(c.delivered.size(), 2u);
  EXPECT_EQ(c.delivered[1].value, "after");
}

TEST(SimLog, DiskStallTimesProducesOut) {
  Cluster c;
  c.disk.set_stalled(true);
  c.produce(0, "x");
  c.scheduler.run_until(10 * kSecond);
  EXPECT_FALSE(c.produced[0].ok);
  c.disk.set_stalled(false);  // the write completes late: the record must not appear
  c.scheduler.run_until(11 * kSecond);
  EXPECT_EQ(c.log.end_offset("wal", 0), 0u);
}

TEST(SimLog, BufferFullRejectsAtOnce) {
  SimLogSpec spec = exact_spec();
  spec.producer_buffer_records = 3;
  Cluster c(spec);
  for (int i = 0; i < 4; ++i) c.produce(uint32_t(i), std::to_string(i));
  EXPECT_EQ(c.produced[3].at, -1);  // rejected from an event, not inside produce()
  c.scheduler.run_until(0);
  EXPECT_EQ(c.produced[3].at, 0);
  EXPECT_FALSE(c.produced[3].ok);
  EXPECT_NE(c.produced[3].error.find("producer buffer full"), std::string::npos);
  EXPECT_EQ(c.log.stats().rejected_buffer_full, 1u);
  c.scheduler.run_until(kSecond);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(c.produced[size_t(i)].ok);
  c.produce(0, "room again");
  c.scheduler.run_until(2 * kSecond);
  EXPECT_TRUE(c.produced[4].ok);
}

TEST(SimLog, UnknownTopicOrPartitionFails) {
  Cluster c;
  Status got;
  c.log.produce("nope", 0, "k", "v", [&](Status s, uint64_t) { got = s; });
  c.log.produce("wal", 9, "k", "v", nullptr);
  c.scheduler.run_until(kMillisecond);
  EXPECT_EQ(got.code(), StatusCode::kNotFound);
  EXPECT_EQ(c.log.stats().rejected_unknown_topic, 2u);
  EXPECT_TRUE(c.log.create_topic("wal", 4).is_ok());  // idempotent
  EXPECT_FALSE(c.log.create_topic("wal", 5).is_ok());
}

TEST(SimLog, RetentionDeletesOldRecordsAndReportsOutOfRange) {
  SimLogSpec spec = exact_spec();
  spec.retention_ns = kSecond;
  Cluster c(spec);
  for (int i = 0; i < 5; ++i) c.produce(0, "old" + std::to_string(i));
  c.scheduler.run_until(2 * kSecond);
  for (int i = 0; i < 5; ++i) c.produce(0, "new" + std::to_string(i));
  c.scheduler.run_until(3 * kSecond);
  EXPECT_EQ(c.log.start_offset("wal", 0), 5u);
  EXPECT_EQ(c.log.end_offset("wal", 0), 10u);
  EXPECT_EQ(c.log.records("wal", 0).front().offset, 5u);
  std::vector<std::pair<uint64_t, uint64_t>> resets;
  c.log.set_out_of_range_handler([&](const std::string&, uint32_t, uint64_t req, uint64_t start) {
    resets.emplace_back(req, start);
  });
  c.subscribe(0, 2);
  c.scheduler.run_until(3 * kSecond + 100 * kMillisecond);
  ASSERT_EQ(resets.size(), 1u);
  EXPECT_EQ(resets[0], std::make_pair(uint64_t{2}, uint64_t{5}));
  ASSERT_EQ(c.delivered.size(), 5u);
  EXPECT_EQ(c.delivered[0].value, "new0");
  // enforce_retention deletes expired records without new appends.
  c.scheduler.run_until(5 * kSecond);
  c.log.enforce_retention();
  EXPECT_EQ(c.log.start_offset("wal", 0), 10u);
  EXPECT_TRUE(c.log.records("wal", 0).empty());
  EXPECT_EQ(c.log.stats().deleted_by_retention, 10u);
}

TEST(SimLog, CrashedClientNeverHearsBackButRecordsMayLand) {
  Cluster c;
  c.subscribe(0, 0);
  c.produce(0, "in flight");
  c.scheduler.run_until(100 * kMicrosecond);
  c.log.drop_clients();
  c.scheduler.run_until(kSecond);
  EXPECT_EQ(c.produced[0].at, -1);
  EXPECT_EQ(c.log.end_offset("wal", 0), 1u);  // the brokers had it
  EXPECT_TRUE(c.delivered.empty());           // the subscription died with the process
  EXPECT_EQ(c.log.stats().orphaned, 1u);
  c.produce(0, "restarted");  // a fresh producer
  c.scheduler.run_until(2 * kSecond);
  EXPECT_TRUE(c.produced[1].ok);
  EXPECT_EQ(c.produced[1].offset, 1u);
}

// Same seed → same events at the same times; the run is a function of the seed.
std::vector<std::pair<TimeNs, uint64_t>> run_trace(uint64_t seed) {
  SimLogSpec spec;
  spec.ack_jitter_ns = 2 * kMillisecond;
  Cluster c(spec, seed);
  c.subscribe(0, 0);
  Rng workload = Rng::derive(seed, "workload");
  TimeNs t = 0;
  for (int i = 0; i < 300; ++i) {
    t += TimeNs(workload.below(kMillisecond));
    const uint32_t p = uint32_t(workload.below(2));
    c.scheduler.at(t, [&c, p, i] { c.produce(p, std::to_string(i)); });
  }
  c.scheduler.at(100 * kMillisecond, [&c] { c.log.set_available(false); });
  c.scheduler.at(150 * kMillisecond, [&c] { c.log.set_available(true); });
  c.scheduler.run_until(20 * kSecond);
  std::vector<std::pair<TimeNs, uint64_t>> events;
  for (const Produced& p : c.produced) events.emplace_back(p.at, p.ok ? p.offset : ~0ull);
  for (const Delivered& d : c.delivered) events.emplace_back(d.at, d.offset);
  return events;
}

TEST(SimLog, DeterministicForASeed) {
  const auto a = run_trace(42);
  EXPECT_EQ(a, run_trace(42));
  EXPECT_NE(a, run_trace(43));
}

}  // namespace
}  // namespace meridian::sim
