#include "sim/sim_mirror.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace meridian::sim {
namespace {

using env::kMillisecond;
using env::kSecond;

constexpr TimeNs kOneWay = 30 * kMillisecond;

// Two regions "a" and "b" 30 ms apart, each with its cluster; topic "wal" of "a" mirrored to "b".
struct TwoRegions {
  Scheduler scheduler;
  Network network;
  RegionIndex a, b;
  SimDisk disk_a, disk_b;
  SimLogCluster log_a, log_b;
  SimMirror mirror;
  std::map<std::string, TimeNs> acked_at;  // value → when "a" acknowledged it

  explicit TwoRegions(uint64_t seed = 1, double loss = 0.0)
      : network(scheduler, Rng::derive(seed, "network")),
        a(network.add_region("a", LinkSpec{kOneWay, 0, loss, 0})),
        b(network.add_region("b", LinkSpec{kOneWay, 0, loss, 0})),
        disk_a(scheduler),
        disk_b(scheduler),
        log_a(scheduler, disk_a, "a", SimLogSpec{}, Rng::derive(seed, "log/a")),
        log_b(scheduler, disk_b, "b", SimLogSpec{}, Rng::derive(seed, "log/b")),
        mirror(scheduler, network, log_a, a, log_b, b, "wal", SimMirrorSpec{},
               Rng::derive(seed, "mirror/a->b/wal")) {}

  void produce(uint32_t partition, const std::string& value) {
    log_a.produce("wal", partition, "k", value, [this, value](Status s, uint64_t) {
      if (s.is_ok()) acked_at[value] = scheduler.now();
    });
  }
  // Produces "p<partition>-<i>" every `every` from `from` to `until` on each of `partitions`.
  void steady_writes(uint32_t partitions, TimeNs from, TimeNs until, TimeNs every) {
    int i = 0;
    for (TimeNs t = from; t < until; t += every, ++i) {
      for (uint32_t p = 0; p < partitions; ++p) {
        const std::string v = "p" + std::to_string(p) + "-" + std::to_string(i);
        scheduler.at(t, [this, p, v] { produce(p, v); });
      }
    }
  }
  std::vector<std::string> values(const SimLogCluster& log, const std::string& topic,
                                  uint32_t p) const {
    std::vector<std::string> out;
    for (const env::LogRecord& r : log.records(topic, p)) out.push_back(r.value);
    return out;
  }
};

// The target's copy is the source's sequence, possibly with records repeated after a retry, but
// never with a record before an earlier one appeared: removing repeats (keeping first
// occurrences) gives the source exactly, and every element is at most one past the furthest so far.
void expect_in_order_at_least_once(const std::vector<std::string>& source,
                                   const std::vector<std::string>& target) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < source.size(); ++i) index[source[i]] = i;
  size_t next = 0;  // first source index not seen yet in the target
  for (const std::string& v : target) {
    auto it = index.find(v);
    ASSERT_NE(it, index.end()) << "unknown record " << v;
    ASSERT_LE(it->second, next) << v << " appears before an earlier record";
    if (it->second == next) ++next;
  }
  EXPECT_EQ(next, source.size()) << "records missing from the target";
}

TEST(SimMirror, CopiesEveryPartitionInOrderAfterTheLinkLatency) {
  TwoRegions w;
  ASSERT_TRUE(w.log_a.create_topic("wal", 2).is_ok());
  w.mirror.start();
  w.steady_writes(2, 0, 200 * kMillisecond, kMillisecond);
  std::map<std::string, TimeNs> seen_at;
  for (uint32_t p = 0; p < 2; ++p) {
    w.log_b.subscribe("a.wal", p, 0,
                      [&](const env::LogRecord& r) { seen_at[r.value] = w.scheduler.now(); });
  }
  w.scheduler.run_until(2 * kSecond);
  EXPECT_EQ(w.mirror.target_topic(), "a.wal");
  ASSERT_EQ(w.log_b.partition_count("a.wal"), 2u);
  for (uint32_t p = 0; p < 2; ++p) {
    const auto source = w.values(w.log_a, "wal", p);
    EXPECT_EQ(source.size(), 200u);
    EXPECT_EQ(w.values(w.log_b, "a.wal", p), source);  // no faults: no duplicates either
    EXPECT_EQ(w.mirror.position(p), 200u);
  }
  ASSERT_EQ(seen_at.size(), 400u);
  for (const auto& [value, at] : seen_at) {
    const TimeNs lag = at - w.acked_at.at(value);
    EXPECT_GE(lag, kOneWay) << value;  // the response crossed the link
    // At most: a request just missed it (one RTT), a full cycle, and the target's produce.
    EXPECT_LE(lag, 3 * 2 * kOneWay + 20 * kMillisecond) << value;
  }
}

TEST(SimMirror, SourceTopicCreatedAfterTheMirrorStarts) {
  TwoRegions w;
  w.mirror.start();
  w.scheduler.run_until(kSecond);
  EXPECT_EQ(w.log_b.partition_count("a.wal"), 0u);
  ASSERT_TRUE(w.log_a.create_topic("wal", 3).is_ok());
  w.produce(2, "x");
  w.scheduler.run_until(2 * kSecond);
  EXPECT_EQ(w.log_b.partition_count("a.wal"), 3u);
  EXPECT_EQ(w.values(w.log_b, "a.wal", 2), std::vector<std::string>{"x"});
}

TEST(SimMirror, StallsUnderPartitionAndResumesAfterHealWithoutLossOrReordering) {
  TwoRegions w;
  ASSERT_TRUE(w.log_a.create_topic("wal", 2).is_ok());
  w.mirror.start();
  w.steady_writes(2, 0, 3 * kSecond, 2 * kMillisecond);
  w.scheduler.run_until(kSecond);
  w.network.partition(w.a, w.b);
  w.scheduler.run_until(kSecond + 200 * kMillisecond);  // what was in flight has landed
  const uint64_t frozen = w.log_b.end_offset("a.wal", 0);
  w.scheduler.run_until(2 * kSecond);
  EXPECT_EQ(w.log_b.end_offset("a.wal", 0), frozen);  // nothing crosses a partition
  EXPECT_GT(w.mirror.stats().timeouts, 0u);
  w.network.heal(w.a, w.b);
  w.scheduler.run_until(8 * kSecond);
  for (uint32_t p = 0; p < 2; ++p) {
    const auto source = w.values(w.log_a, "wal", p);
    EXPECT_EQ(source.size(), 1500u);
    expect_in_order_at_least_once(source, w.values(w.log_b, "a.wal", p));
  }
}

TEST(SimMirror, StallsWhileEitherClusterIsDown) {
  TwoRegions w;
  ASSERT_TRUE(w.log_a.create_topic("wal", 1).is_ok());
  w.mirror.start();
  w.steady_writes(1, 0, 4 * kSecond, 5 * kMillisecond);
  w.scheduler.at(500 * kMillisecond, [&] { w.log_a.set_available(false); });
  w.scheduler.at(kSecond, [&] { w.log_a.set_available(true); });
  w.scheduler.at(2 * kSecond, [&] { w.log_b.set_available(false); });
  w.scheduler.at(2 * kSecond + 500 * kMillisecond, [&] { w.log_b.set_available(true); });
  w.scheduler.run_until(20 * kSecond);
  const auto source = w.values(w.log_a, "wal", 0);
  EXPECT_GT(source.size(), 650u);  // of 800: only the source's outage lost writes
  expect_in_order_at_least_once(source, w.values(w.log_b, "a.wal", 0));
  EXPECT_GT(w.mirror.stats().records_failed, 0u);  // appends into the down target failed
}

TEST(SimMirror, RestartResumesFromTheLastCommitWithDuplicatesInOrder) {
  TwoRegions w;
  ASSERT_TRUE(w.log_a.create_topic("wal", 1).is_ok());
  w.mirror.start();
  w.steady_writes(1, 0, 25 * kSecond, 10 * kMillisecond);
  w.scheduler.at(15 * kSecond, [&] { w.mirror.restart(2 * kSecond); });
  w.scheduler.run_until(40 * kSecond);
  const auto source = w.values(w.log_a, "wal", 0);
  const auto target = w.values(w.log_b, "a.wal", 0);
  EXPECT_EQ(w.mirror.stats().restarts, 1u);
  // Resumed from the commit at ~10 s: about 5 s of records again.
  EXPECT_GT(target.size(), source.size() + 400);
  EXPECT_LT(target.size(), source.size() + 600);
  expect_in_order_at_least_once(source, target);
}

TEST(SimMirror, LossyLinkStillDeliversInOrder) {
  TwoRegions w(/*seed=*/3, /*loss=*/0.3);
  ASSERT_TRUE(w.log_a.create_topic("wal", 2).is_ok());
  w.mirror.start();
  w.steady_writes(2, 0, 2 * kSecond, 3 * kMillisecond);
  w.scheduler.run_until(30 * kSecond);
  EXPECT_GT(w.mirror.stats().timeouts, 0u);
  for (uint32_t p = 0; p < 2; ++p) {
    expect_in_order_at_least_once(w.values(w.log_a, "wal", p), w.values(w.log_b, "a.wal", p));
  }
}

TEST(SimMirror, LargeResponsesOnAThinLinkAreNotMistakenForLostOnes) {
  TwoRegions w;
  w.network.set_link(w.a, w.b, LinkSpec{kOneWay, 0, 0.0, 2e6});  // 2 MB/s
  ASSERT_TRUE(w.log_a.create_topic("wal", 1).is_ok());
  for (int i = 0; i < 300; ++i) {
    w.log_a.produce("wal", 0, "k", std::string(20'000, char('a' + i % 26)), nullptr);
  }
  w.mirror.start();
  w.scheduler.run_until(30 * kSecond);
  EXPECT_EQ(w.log_b.end_offset("a.wal", 0), 300u);
  EXPECT_EQ(w.mirror.stats().timeouts, 0u);
}

TEST(SimMirror, SkipsWhatTheSourceDeletedBeforeItWasCopied) {
  Scheduler scheduler;
  Network network(scheduler, Rng(1));
  const RegionIndex a = network.add_region("a", LinkSpec{kOneWay, 0, 0.0, 0});
  const RegionIndex b = network.add_region("b", LinkSpec{kOneWay, 0, 0.0, 0});
  SimDisk disk_a(scheduler), disk_b(scheduler);
  SimLogSpec short_retention;
  short_retention.retention_ns = kSecond;
  SimLogCluster log_a(scheduler, disk_a, "a", short_retention, Rng(2));
  SimLogCluster log_b(scheduler, disk_b, "b", SimLogSpec{}, Rng(3));
  SimMirror mirror(scheduler, network, log_a, a, log_b, b, "wal", SimMirrorSpec{}, Rng(4));
  ASSERT_TRUE(log_a.create_topic("wal", 1).is_ok());
  for (int i = 0; i < 5; ++i) log_a.produce("wal", 0, "k", "old", nullptr);
  scheduler.run_until(3 * kSecond);
  log_a.produce("wal", 0, "k", "new", nullptr);
  scheduler.run_until(3 * kSecond + 10 * kMillisecond);
  mirror.start();
  scheduler.run_until(5 * kSecond);
  EXPECT_EQ(mirror.stats().skipped_by_retention, 5u);
  ASSERT_EQ(log_b.end_offset("a.wal", 0), 1u);
  EXPECT_EQ(log_b.records("a.wal", 0).front().value, "new");
  EXPECT_EQ(mirror.position(0), 6u);
}

// Random outages, partitions, disk stalls and mirror restarts, then a healed liveness phase: the
// producer's and the mirror's promises hold for every seed.
TEST(SimMirror, RandomFaultsKeepEveryPromise) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    TwoRegions w(seed, /*loss=*/0.05);
    ASSERT_TRUE(w.log_a.create_topic("wal", 2).is_ok());
    w.mirror.start();
    struct Write {
      uint32_t partition;
      int index;
      TimeNs produced_at;
      TimeNs done_at = -1;
      bool ok = false;
    };
    std::vector<Write> writes;
    for (TimeNs t = 0; t < 4 * kSecond; t += 2 * kMillisecond) {
      for (uint32_t p = 0; p < 2; ++p) {
        w.scheduler.at(t, [&w, &writes, p] {
          const size_t i = writes.size();
          writes.push_back(Write{p, int(i), w.scheduler.now()});
          w.log_a.produce("wal", p, "k", std::to_string(i), [&w, &writes, i](Status s, uint64_t) {
            ASSERT_EQ(writes[i].done_at, -1) << "done twice";
            writes[i].done_at = w.scheduler.now();
            writes[i].ok = s.is_ok();
          });
        });
      }
    }
    Rng faults = Rng::derive(seed, "faults");
    for (int f = 0; f < 6; ++f) {
      const TimeNs at = TimeNs(faults.below(4 * kSecond));
      const TimeNs until = at + TimeNs(faults.below(2 * kSecond));
      switch (faults.below(5)) {
        case 0:
          w.scheduler.at(at, [&w] { w.log_a.set_available(false); });
          w.scheduler.at(until, [&w] { w.log_a.set_available(true); });
          break;
        case 1:
          w.scheduler.at(at, [&w] { w.log_b.set_available(false); });
          w.scheduler.at(until, [&w] { w.log_b.set_available(true); });
          break;
        case 2:
          w.scheduler.at(at, [&w] { w.network.partition(w.a, w.b); });
          w.scheduler.at(until, [&w] { w.network.heal(w.a, w.b); });
          break;
        case 3: w.scheduler.at(at, [&w, until] { w.disk_a.stall_until(until); }); break;
        default: w.scheduler.at(at, [&w, down = until - at] { w.mirror.restart(down); });
      }
    }
    w.scheduler.at(6 * kSecond, [&w] {
      w.log_a.set_available(true);
      w.log_b.set_available(true);
      w.network.heal_all();
    });
    w.scheduler.run_until(40 * kSecond);

    std::map<std::string, size_t> in_log;
    for (uint32_t p = 0; p < 2; ++p) {
      int last = -1;
      for (const env::LogRecord& r : w.log_a.records("wal", p)) {
        const int i = std::stoi(r.value);
        EXPECT_GT(i, last) << "source order";
        last = i;
        in_log[r.value] = p;
      }
    }
    for (const Write& x : writes) {
      ASSERT_NE(x.done_at, -1) << "never answered";
      EXPECT_EQ(x.ok, in_log.count(std::to_string(x.index)) == 1) << x.index;
      if (x.ok) continue;
      // Gapless: nothing produced to the partition after a lost record and before its loss was
      // reported is in the log.
      for (const Write& y : writes) {
        if (y.partition == x.partition && y.index > x.index && y.produced_at < x.done_at) {
          EXPECT_EQ(in_log.count(std::to_string(y.index)), 0u) << x.index << " then " << y.index;
        }
      }
    }
    for (uint32_t p = 0; p < 2; ++p) {
      expect_in_order_at_least_once(w.values(w.log_a, "wal", p), w.values(w.log_b, "a.wal", p));
    }
  }
}

std::vector<std::pair<TimeNs, std::string>> mirror_trace(uint64_t seed) {
  TwoRegions w(seed, /*loss=*/0.2);
  EXPECT_TRUE(w.log_a.create_topic("wal", 2).is_ok());
  w.mirror.start();
  w.steady_writes(2, 0, kSecond, 3 * kMillisecond);
  std::vector<std::pair<TimeNs, std::string>> events;
  for (uint32_t p = 0; p < 2; ++p) {
    w.log_b.subscribe("a.wal", p, 0, [&](const env::LogRecord& r) {
      events.emplace_back(w.scheduler.now(), r.value);
    });
  }
  w.scheduler.run_until(20 * kSecond);
  return events;
}

TEST(SimMirror, DeterministicForASeed) {
  const auto a = mirror_trace(9);
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, mirror_trace(9));
  EXPECT_NE(a, mirror_trace(10));
}

}  // namespace
}  // namespace meridian::sim
