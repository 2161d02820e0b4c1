// A token bucket for I/O budgets (checkpoint and compaction writes): `rate` units per second
// accrue up to `burst`; reserve() takes units now and says how long the caller must wait before
// using them (the bucket may go into debt, so large requests are paced, never refused).
// Time comes from the caller (engine code never reads a clock).
#pragma once

#include <algorithm>
#include <cstdint>

#include "engine/env/env.h"

namespace meridian::node {

class TokenBucket {
 public:
  // rate_per_s <= 0: unlimited (reserve() always returns 0). The bucket starts full.
  TokenBucket(double rate_per_s, double burst)
      : rate_per_ns_(rate_per_s / double(env::kSecond)), burst_(burst), tokens_(burst) {}

  // Takes `amount` units at time `now`; returns the wait (>= 0) until they are covered.
  env::TimeNs reserve(double amount, env::TimeNs now) {
    if (rate_per_ns_ <= 0) return 0;
    if (now > last_) {
      tokens_ = std::min(burst_, tokens_ + double(now - last_) * rate_per_ns_);
      last_ = now;
    }
    tokens_ -= amount;
    return tokens_ >= 0 ? 0 : env::TimeNs(-tokens_ / rate_per_ns_);
  }

 private:
  double rate_per_ns_;
  double burst_;
  double tokens_;
  env::TimeNs last_ = 0;
};

}  // namespace meridian::node
