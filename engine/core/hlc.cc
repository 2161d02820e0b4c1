#include "engine/core/hlc.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace meridian {

// Both operations are written on the packed integer. For (l, c) = (physical, logical) the paper's
// "l stays, c + 1" is exactly "+ 1"; "l jumps to the wall clock, c = 0" is hlc_make(pt, 0); and
// "adopt the remote l, c = c_m + 1" is remote + 1. Taking the max of the candidates selects the
// branch the paper's case analysis would. The packed form also gives the overflow rule for free:
// c = 0xFFFF plus one carries into l.

uint64_t HybridLogicalClock::tick(uint64_t physical_ms) {
  assert(physical_ms <= kHlcMaxPhysicalMs);
  assert(last_ < std::numeric_limits<uint64_t>::max());
  last_ = std::max(last_ + 1, hlc_make(physical_ms, 0));
  return last_;
}

uint64_t HybridLogicalClock::observe(uint64_t remote_timestamp, uint64_t physical_ms) {
  assert(physical_ms <= kHlcMaxPhysicalMs);
  assert(last_ < std::numeric_limits<uint64_t>::max());
  assert(remote_timestamp < std::numeric_limits<uint64_t>::max());

  const uint64_t remote_physical_ms = hlc_physical_ms(remote_timestamp);
  if (remote_physical_ms > physical_ms) {
    const uint64_t forward_skew_ms = remote_physical_ms - physical_ms;
    max_observed_forward_skew_ms_ = std::max(max_observed_forward_skew_ms_, forward_skew_ms);
    if (forward_skew_ms > max_forward_skew_ms_) ++skew_violations_;
  }

  last_ = std::max({last_ + 1, remote_timestamp + 1, hlc_make(physical_ms, 0)});
  return last_;
}

}  // namespace meridian
