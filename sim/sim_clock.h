// A region's clocks in the simulator: monotonic time is the scheduler's virtual time; the wall
// clock adds the region's skew, which a scenario can set and change over time (clock-skew
// scenarios), including steps backwards.
#pragma once

#include <cstdint>

#include "engine/env/env.h"
#include "sim/scheduler.h"

namespace meridian::sim {

class SimClock final : public env::Clock {
 public:
  // 2026-01-01T00:00:00Z: virtual time 0 is this wall time (before skew).
  static constexpr uint64_t kEpochWallMs = 1'767'225'600'000ull;

  explicit SimClock(const Scheduler& scheduler) : scheduler_(scheduler) {}

  env::TimeNs monotonic_ns() const override { return scheduler_.now(); }
  uint64_t wall_ms() const override {
    const int64_t ms = int64_t(kEpochWallMs) + scheduler_.now() / env::kMillisecond + skew_ms_;
    return ms > 0 ? uint64_t(ms) : 0;
  }

  void set_skew_ms(int64_t skew_ms) { skew_ms_ = skew_ms; }
  int64_t skew_ms() const { return skew_ms_; }

 private:
  const Scheduler& scheduler_;
  int64_t skew_ms_ = 0;
};

}  // namespace meridian::sim
