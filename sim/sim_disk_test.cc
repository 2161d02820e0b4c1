#include "sim/sim_disk.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace meridian::sim {
namespace {

using env::kMicrosecond;
using env::kMillisecond;

SimDiskSpec spec_1gb() {
  SimDiskSpec s;
  s.write_latency_ns = 20 * kMicrosecond;
  s.fsync_latency_ns = 100 * kMicrosecond;
  s.throughput_bytes_per_s = 1e9;  // 1 byte per ns
  return s;
}

// A disk whose completions are recorded as (write index, completion time).
struct Disk {
  Scheduler scheduler;
  SimDisk disk;
  std::vector<std::pair<size_t, TimeNs>> completions;

  explicit Disk(const SimDiskSpec& spec = spec_1gb()) : disk(scheduler, spec) {}
  size_t write(size_t bytes, bool fsync) {
    const size_t i = submitted++;
    disk.write(bytes, fsync, [this, i] { completions.emplace_back(i, scheduler.now()); });
    return i;
  }
  TimeNs completed_at(size_t i) const {
    for (const auto& [index, at] : completions) {
      if (index == i) return at;
    }
    return -1;
  }
  size_t submitted = 0;
};

TEST(SimDisk, WriteCompletesAfterLatencyTransferAndFsync) {
  Disk d;
  d.write(1000, /*fsync=*/true);
  d.write(1000, /*fsync=*/false);
  EXPECT_TRUE(d.completions.empty());  // never synchronous
  d.scheduler.run_until(kMillisecond);
  ASSERT_EQ(d.completions.size(), 2u);
  EXPECT_EQ(d.completed_at(0), 1000 + 20 * kMicrosecond + 100 * kMicrosecond);
  // The second transfer starts when the first ends (bandwidth is shared) and needs no fsync,
  // so it would be ready at 22 µs, but it cannot complete before the first (FIFO).
  EXPECT_EQ(d.completed_at(1), d.completed_at(0));
  EXPECT_EQ(d.disk.stats().writes_completed, 2u);
  EXPECT_EQ(d.disk.stats().fsyncs_completed, 1u);
  EXPECT_EQ(d.disk.stats().bytes_completed, 2000u);
}

TEST(SimDisk, ThroughputSerialisesLargeWrites) {
  Disk d;
  d.write(1'000'000, false);  // 1 ms of transfer each
  d.write(1'000'000, false);
  d.scheduler.run_until(10 * kMillisecond);
  EXPECT_EQ(d.completed_at(0), kMillisecond + 20 * kMicrosecond);
  EXPECT_EQ(d.completed_at(1), 2 * kMillisecond + 20 * kMicrosecond);
}

TEST(SimDisk, WritesCompleteInSubmissionOrder) {
  Disk d;
  d.write(10, /*fsync=*/true);   // slow: fsync
  d.write(10, /*fsync=*/false);  // fast, but must wait for the first
  d.write(5'000'000, false);     // large
  d.write(1, false);
  d.scheduler.run_until(kMillisecond * 100);
  ASSERT_EQ(d.completions.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(d.completions[i].first, i);
  for (size_t i = 1; i < 4; ++i) EXPECT_GE(d.completions[i].second, d.completions[i - 1].second);
}

TEST(SimDisk, StallDelaysQueuedAndNewWrites) {
  Disk d;
  d.write(1000, true);
  d.disk.stall_until(5 * kMillisecond);
  d.write(1000, true);
  d.disk.stall_until(kMillisecond);  // shorter: no effect
  d.scheduler.run_until(20 * kMillisecond);
  EXPECT_EQ(d.completed_at(0), 5 * kMillisecond);
  EXPECT_EQ(d.completed_at(1), 5 * kMillisecond);
  // After the stall, writes take their normal time again.
  d.write(0, false);
  d.scheduler.run_until(30 * kMillisecond);
  EXPECT_EQ(d.completed_at(2), 20 * kMillisecond + 20 * kMicrosecond);
}

TEST(SimDisk, OpenEndedStallHoldsUntilReleased) {
  Disk d;
  d.disk.set_stalled(true);
  d.write(0, true);
  d.scheduler.run_until(50 * kMillisecond);
  EXPECT_TRUE(d.completions.empty());
  d.disk.set_stalled(false);
  d.scheduler.run_until(60 * kMillisecond);
  EXPECT_EQ(d.completed_at(0), 50 * kMillisecond);
}

TEST(SimDisk, SlowdownAppliesToLaterWrites) {
  Disk d;
  d.disk.set_slowdown(10.0);
  d.write(1000, false);
  d.scheduler.run_until(kMillisecond);
  EXPECT_EQ(d.completed_at(0), 10 * (1000 + 20 * kMicrosecond));
  d.disk.set_slowdown(1.0);
  d.write(1000, false);
  d.scheduler.run_until(2 * kMillisecond);
  EXPECT_EQ(d.completed_at(1), kMillisecond + 1000 + 20 * kMicrosecond);
}

TEST(SimDisk, CrashDropsPendingCallbacksAndKeepsServing) {
  Disk d;
  d.write(100, true);
  d.write(100, true);
  d.write(100, false);
  d.scheduler.run_until(10 * kMicrosecond);
  EXPECT_EQ(d.disk.crash(), 3u);
  d.scheduler.run_until(kMillisecond);
  EXPECT_TRUE(d.completions.empty());
  EXPECT_EQ(d.disk.stats().callbacks_dropped_by_crash, 3u);
  EXPECT_EQ(d.disk.pending_writes(), 0u);
  // The restarted process writes again.
  d.write(100, true);
  d.scheduler.run_until(2 * kMillisecond);
  EXPECT_EQ(d.completions.size(), 1u);
  EXPECT_EQ(d.disk.last_synced_write(), 4u);
}

TEST(SimDisk, LastSyncedWriteTracksFsyncCompletions) {
  Disk d;
  const SimDisk::WriteId a = d.disk.write(10, true, nullptr);
  const SimDisk::WriteId b = d.disk.write(10, false, nullptr);
  EXPECT_EQ(a + 1, b);
  EXPECT_EQ(d.disk.last_synced_write(), 0u);
  d.scheduler.run_until(kMillisecond);
  EXPECT_EQ(d.disk.last_synced_write(), a);  // b completed but is not durable
}

TEST(SimDisk, CallbackMaySubmitMoreWrites) {
  Disk d;
  std::vector<TimeNs> chain;
  std::function<void()> next = [&] {
    chain.push_back(d.scheduler.now());
    if (chain.size() < 3) d.disk.write(0, false, next);
  };
  d.disk.write(0, false, next);
  d.scheduler.run_until(kMillisecond);
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[2], 3 * 20 * kMicrosecond);
}

}  // namespace
}  // namespace meridian::sim
