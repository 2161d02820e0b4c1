#include "engine/core/hlc.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <deque>
#include <random>
#include <vector>

namespace meridian {
namespace {

TEST(HlcEncodingTest, PacksPhysicalAboveLogical) {
  EXPECT_EQ(hlc_make(1, 0), uint64_t{1} << 16);
  EXPECT_EQ(hlc_make(0x123456789ABCu, 0xDEF0), 0x123456789ABCDEF0u);
  EXPECT_EQ(hlc_physical_ms(0x123456789ABCDEF0u), 0x123456789ABCu);
  EXPECT_EQ(hlc_logical(0x123456789ABCDEF0u), 0xDEF0);
  EXPECT_EQ(hlc_physical_ms(hlc_make(kHlcMaxPhysicalMs, 7)), kHlcMaxPhysicalMs);
  // Integer order is (physical, logical) order.
  EXPECT_LT(hlc_make(5, 0xFFFF), hlc_make(6, 0));
}

TEST(HlcTest, NeverReturnsZero) {
  HybridLogicalClock a;
  EXPECT_EQ(a.last(), 0u);
  EXPECT_EQ(a.tick(0), 1u);
  EXPECT_EQ(a.tick(0), 2u);
  HybridLogicalClock b;
  EXPECT_EQ(b.observe(0, 0), 1u);
}

TEST(HlcTest, TickFollowsTheWallClockWhenItAdvances) {
  HybridLogicalClock clock;
  EXPECT_EQ(clock.tick(100), hlc_make(100, 0));
  EXPECT_EQ(clock.tick(100), hlc_make(100, 1));
  EXPECT_EQ(clock.tick(101), hlc_make(101, 0));
  EXPECT_EQ(clock.tick(250), hlc_make(250, 0));
  EXPECT_EQ(clock.last(), hlc_make(250, 0));
}

TEST(HlcTest, MonotonicWhenTheWallClockGoesBackwards) {
  HybridLogicalClock clock;
  EXPECT_EQ(clock.tick(100), hlc_make(100, 0));
  EXPECT_EQ(clock.tick(90), hlc_make(100, 1));  // e.g. an NTP step back
  EXPECT_EQ(clock.tick(50), hlc_make(100, 2));
  EXPECT_EQ(clock.tick(100), hlc_make(100, 3));
  EXPECT_EQ(clock.tick(101), hlc_make(101, 0));  // wall clock caught up: back to logical 0
}

TEST(HlcTest, ObserveRemoteAheadAdoptsRemote) {
  HybridLogicalClock clock;
  clock.tick(100);
  clock.tick(100);  // (100, 1)
  EXPECT_EQ(clock.observe(hlc_make(200, 7), 150), hlc_make(200, 8));
  EXPECT_EQ(clock.tick(150), hlc_make(200, 9));  // rides on the observed time until 200 ms
  EXPECT_EQ(clock.tick(201), hlc_make(201, 0));
}

TEST(HlcTest, ObserveRemoteBehindKeepsLocal) {
  HybridLogicalClock clock;
  for (int i = 0; i < 4; ++i) clock.tick(100);  // (100, 3)
  // Wall clock ahead of both: jump to it.
  HybridLogicalClock copy = clock;
  EXPECT_EQ(copy.observe(hlc_make(50, 9), 120), hlc_make(120, 0));
  // Last local timestamp ahead of both: increment it.
  EXPECT_EQ(clock.observe(hlc_make(50, 9), 90), hlc_make(100, 4));
  EXPECT_EQ(clock.skew_violations(), 0u);
  EXPECT_EQ(clock.max_observed_forward_skew_ms(), 0u);
}

TEST(HlcTest, ObserveEqualPhysicalTakesLargerLogicalPlusOne) {
  HybridLogicalClock clock;
  for (int i = 0; i < 4; ++i) clock.tick(100);                         // (100, 3)
  EXPECT_EQ(clock.observe(hlc_make(100, 7), 100), hlc_make(100, 8));   // remote logical larger
  EXPECT_EQ(clock.observe(hlc_make(100, 2), 100), hlc_make(100, 9));   // local logical larger
  EXPECT_EQ(clock.observe(hlc_make(100, 9), 100), hlc_make(100, 10));  // equal to last()
  EXPECT_EQ(clock.observe(hlc_make(100, 50), 101), hlc_make(101, 0));  // wall clock moved on
}

TEST(HlcTest, LogicalOverflowCarriesIntoPhysical) {
  HybridLogicalClock clock;
  EXPECT_EQ(clock.observe(hlc_make(100, 0xFFFE), 0), hlc_make(100, 0xFFFF));
  EXPECT_EQ(clock.tick(100), hlc_make(101, 0));
  EXPECT_EQ(clock.tick(100), hlc_make(101, 1));

  HybridLogicalClock remote_full;
  EXPECT_EQ(remote_full.observe(hlc_make(100, 0xFFFF), 50), hlc_make(101, 0));

  // 2^16 events in one millisecond exhaust the counter; the next lands in the next millisecond.
  HybridLogicalClock busy;
  uint64_t ts = 0;
  for (uint32_t i = 0; i <= kHlcMaxLogical; ++i) ts = busy.tick(7);
  EXPECT_EQ(ts, hlc_make(7, 0xFFFF));
  EXPECT_EQ(busy.tick(7), hlc_make(8, 0));
}

TEST(HlcTest, SkewIsAccountedButRemoteIsStillMerged) {
  HybridLogicalClock clock(/*max_forward_skew_ms=*/1000);
  EXPECT_EQ(clock.max_forward_skew_ms(), 1000u);

  // 2000 ms ahead: a violation, yet merged (the record is already committed at its origin).
  EXPECT_EQ(clock.observe(hlc_make(5000, 3), 3000), hlc_make(5000, 4));
  EXPECT_EQ(clock.skew_violations(), 1u);
  EXPECT_EQ(clock.max_observed_forward_skew_ms(), 2000u);

  // Exactly at the limit and below it: recorded as skew, not violations; the maximum stays.
  clock.observe(hlc_make(4000, 0), 3000);
  clock.observe(hlc_make(3500, 0), 3000);
  EXPECT_EQ(clock.skew_violations(), 1u);
  EXPECT_EQ(clock.max_observed_forward_skew_ms(), 2000u);

  // Another, larger violation.
  EXPECT_EQ(clock.observe(hlc_make(9000, 0), 3000), hlc_make(9000, 1));
  EXPECT_EQ(clock.skew_violations(), 2u);
  EXPECT_EQ(clock.max_observed_forward_skew_ms(), 6000u);

  // Skew is measured against the wall clock passed in, not against last().
  clock.observe(hlc_make(100, 0), 3000);
  EXPECT_EQ(clock.skew_violations(), 2u);
}

TEST(HlcTest, DefaultSkewLimitIsFiveSeconds) {
  HybridLogicalClock clock;
  EXPECT_EQ(clock.max_forward_skew_ms(), 5000u);
  clock.observe(hlc_make(15000, 0), 10000);
  EXPECT_EQ(clock.skew_violations(), 0u);
  clock.observe(hlc_make(15001, 0), 10000);
  EXPECT_EQ(clock.skew_violations(), 1u);
  EXPECT_EQ(clock.max_observed_forward_skew_ms(), 5001u);
}

TEST(HlcTest, LaggingRegionRidesOnObservedTime) {
  // A writes, C (wall clock 2 s behind) receives and writes, B (3 s ahead) receives and writes,
  // A receives B's write and writes again: each write is later than the one it saw.
  HybridLogicalClock a, b, c;
  const uint64_t now = 1'700'000'000'000;
  const uint64_t x = a.tick(now);
  c.observe(x, now - 2000 + 1);
  const uint64_t y = c.tick(now - 2000 + 2);
  b.observe(y, now + 3000 + 3);
  const uint64_t z = b.tick(now + 3000 + 4);
  a.observe(z, now + 5);
  const uint64_t w = a.tick(now + 6);
  EXPECT_LT(x, y);
  EXPECT_LT(y, z);
  EXPECT_LT(z, w);
  EXPECT_EQ(y, hlc_make(now, 2));  // C did not go back in time; it counted on from A's stamp
  EXPECT_EQ(w, hlc_make(now + 3004, 2));
}

// Three regions with skewed, jittery wall clocks exchange messages at random (seeded). Every
// event records a vector clock; whenever one event happened before another, its HLC timestamp
// must be smaller. Timestamps must also stay within the largest wall-clock reading seen so far.
TEST(HlcTest, ThreeRegionSimulationOrdersCausallyRelatedEvents) {
  constexpr int kRegions = 3;
  const std::array<int64_t, kRegions> offset_ms = {0, 3000, -2000};
  using VectorClock = std::array<uint32_t, kRegions>;
  struct Event {
    VectorClock vc;
    uint64_t ts;
  };
  struct Message {
    int to;
    VectorClock vc;
    uint64_t ts;
  };

  std::mt19937 rng(20240611);
  std::array<HybridLogicalClock, kRegions> clocks;
  std::array<VectorClock, kRegions> vcs{};
  std::deque<Message> in_flight;
  std::vector<Event> events;
  uint64_t true_ms = 1'700'000'000'000;
  uint64_t max_reading_ms = 0;

  for (int step = 0; step < 1500; ++step) {
    true_ms += rng() % 3;
    const int r = static_cast<int>(rng() % kRegions);
    // Jitter of up to 5 ms either way, so a region's reading sometimes goes backwards.
    const int64_t jitter = static_cast<int64_t>(rng() % 11) - 5;
    const uint64_t reading =
        static_cast<uint64_t>(static_cast<int64_t>(true_ms) + offset_ms[r] + jitter);
    max_reading_ms = std::max(max_reading_ms, reading);

    uint64_t ts = 0;
    const uint32_t action = rng() % 3;
    if (action == 2 && !in_flight.empty()) {
      // Deliver the oldest message (to its own destination, whichever region drew the step).
      Message m = in_flight.front();
      in_flight.pop_front();
      const uint64_t dest_reading =
          static_cast<uint64_t>(static_cast<int64_t>(true_ms) + offset_ms[m.to]);
      max_reading_ms = std::max(max_reading_ms, dest_reading);
      for (int i = 0; i < kRegions; ++i) vcs[m.to][i] = std::max(vcs[m.to][i], m.vc[i]);
      ++vcs[m.to][m.to];
      ts = clocks[m.to].observe(m.ts, dest_reading);
      ASSERT_GT(ts, m.ts);
      events.push_back({vcs[m.to], ts});
    } else {
      ++vcs[r][r];
      ts = clocks[r].tick(reading);
      events.push_back({vcs[r], ts});
      if (action == 1) {
        const int to = static_cast<int>((static_cast<uint32_t>(r) + 1 + rng() % 2) % kRegions);
        in_flight.push_back({to, vcs[r], ts});
      }
    }
    ASSERT_LE(hlc_physical_ms(ts), max_reading_ms) << "step " << step;
  }

  auto happened_before = [](const VectorClock& a, const VectorClock& b) {
    bool strictly = false;
    for (int i = 0; i < kRegions; ++i) {
      if (a[i] > b[i]) return false;
      strictly |= a[i] < b[i];
    }
    return strictly;
  };
  int causal_pairs = 0;
  for (const Event& e : events) {
    for (const Event& f : events) {
      if (!happened_before(e.vc, f.vc)) continue;
      ++causal_pairs;
      ASSERT_LT(e.ts, f.ts);
    }
  }
  EXPECT_GT(causal_pairs, 10000);  // the simulation really exercised cross-region causality
}

}  // namespace
}  // namespace meridian
