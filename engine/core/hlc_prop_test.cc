#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>

#include "engine/core/hlc.h"

namespace meridian {
namespace {

// A wall-clock reading that wanders: mostly small steps either way (NTP slews and steps), at times
// a jump, never beyond the 48-bit physical range.
uint64_t next_physical_ms(uint64_t physical_ms) {
  const auto step = *rc::gen::inRange<int64_t>(-100, 101);
  const bool jump = *rc::gen::inRange(0, 20) == 0;
  if (jump) return *rc::gen::inRange<uint64_t>(0, uint64_t{1} << 41);
  if (step < 0 && physical_ms < static_cast<uint64_t>(-step)) return 0;
  return physical_ms + static_cast<uint64_t>(step);
}

// A remote timestamp near `physical_ms` (up to 10 s behind or ahead, any logical value, including
// 0xFFFF so that the carry into the physical part is exercised).
uint64_t remote_near(uint64_t physical_ms) {
  const auto skew_ms = *rc::gen::inRange<int64_t>(-10'000, 10'001);
  const uint64_t remote_physical_ms = skew_ms < 0 && physical_ms < static_cast<uint64_t>(-skew_ms)
                                          ? 0
                                          : physical_ms + static_cast<uint64_t>(skew_ms);
  const auto logical =
      *rc::gen::oneOf(rc::gen::just<uint16_t>(0xFFFF), rc::gen::inRange<uint16_t>(0, 0xFFFF));
  return hlc_make(remote_physical_ms, logical);
}

RC_GTEST_PROP(HlcProp, TimestampsStrictlyIncreaseAndDominateInputs, ()) {
  HybridLogicalClock clock;
  uint64_t physical_ms = *rc::gen::inRange<uint64_t>(0, 2'000'000);
  uint64_t previous = 0;
  const int ops = *rc::gen::inRange(1, 100);
  for (int i = 0; i < ops; ++i) {
    physical_ms = next_physical_ms(physical_ms);
    uint64_t ts = 0;
    if (*rc::gen::arbitrary<bool>()) {
      ts = clock.tick(physical_ms);
    } else {
      const uint64_t remote = remote_near(physical_ms);
      ts = clock.observe(remote, physical_ms);
      RC_ASSERT(ts > remote);
    }
    RC_ASSERT(ts > previous);                   // strictly increasing, hence never 0
    RC_ASSERT(ts >= hlc_make(physical_ms, 0));  // never behind the wall clock it was given
    RC_ASSERT(clock.last() == ts);
    previous = ts;
  }
}

RC_GTEST_PROP(HlcProp, ObserveExceedsRemoteAndLast, (uint64_t last_seed, uint64_t remote_seed)) {
  // Arbitrary (in-range) starting state and remote timestamp, not just nearby ones.
  constexpr uint64_t kMaxStart = hlc_make(kHlcMaxPhysicalMs - 1, 0);
  HybridLogicalClock clock;
  clock.observe(last_seed % kMaxStart, 0);
  const uint64_t before = clock.last();
  const uint64_t remote = remote_seed % kMaxStart;
  const auto physical_ms = *rc::gen::inRange<uint64_t>(0, kHlcMaxPhysicalMs);
  const uint64_t ts = clock.observe(remote, physical_ms);
  RC_ASSERT(ts > remote);
  RC_ASSERT(ts > before);
  RC_ASSERT(ts >= hlc_make(physical_ms, 0));
  // And it is the smallest such value: the clock does not run ahead needlessly.
  RC_ASSERT(ts == std::max({before + 1, remote + 1, hlc_make(physical_ms, 0)}));
}

RC_GTEST_PROP(HlcProp, SkewBookkeepingMatchesAModel, ()) {
  const auto max_skew_ms = *rc::gen::inRange<uint64_t>(0, 8000);
  HybridLogicalClock clock(max_skew_ms);
  uint64_t physical_ms = *rc::gen::inRange<uint64_t>(0, 2'000'000);
  uint64_t violations = 0;
  uint64_t max_forward_ms = 0;
  const int ops = *rc::gen::inRange(1, 50);
  for (int i = 0; i < ops; ++i) {
    physical_ms = next_physical_ms(physical_ms);
    const uint64_t remote = remote_near(physical_ms);
    const uint64_t remote_ms = hlc_physical_ms(remote);
    if (remote_ms > physical_ms) {
      max_forward_ms = std::max(max_forward_ms, remote_ms - physical_ms);
      violations += remote_ms - physical_ms > max_skew_ms;
    }
    RC_ASSERT(clock.observe(remote, physical_ms) > remote);  // accepted even when skewed
  }
  RC_ASSERT(clock.skew_violations() == violations);
  RC_ASSERT(clock.max_observed_forward_skew_ms() == max_forward_ms);
}

}  // namespace
}  // namespace meridian
