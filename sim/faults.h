// Injects a scenario's faults into a World on the virtual timeline.
//
// Listed faults start at start_time + at and end after their duration. In swarm mode the run
// seed first draws each fault kind's rate from the scenario's range, then draws fault instances
// (Poisson arrivals, random regions and durations) from it: every seed explores a different mix
// (TigerBeetle's and FoundationDB's swarm testing). heal_all() ends everything at once; the
// runner calls it when the liveness phase begins.
#pragma once

#include <string>
#include <vector>

#include "engine/core/status.h"
#include "sim/scenario.h"
#include "sim/world.h"

namespace meridian::sim {

class FaultRunner {
 public:
  explicit FaultRunner(World& world) : world_(world) {}

  // Schedules `faults` (already cut to the run's duration) plus, in swarm mode, drawn faults,
  // all within [start, start + duration). Fails for a fault kind the simulator cannot inject.
  Status schedule(const std::vector<FaultSpec>& faults, TimeNs duration);
  // Ends every fault now: links healed, regions and brokers up, disks normal, drift stopped.
  // Clock skews stay as they are (a real clock does not jump back when a fault "ends").
  void heal_all();

  // The faults that were scheduled, listed and drawn, in start order (for the report).
  const std::vector<FaultSpec>& scheduled() const { return scheduled_; }
  static std::string describe(const Scenario& scenario, const FaultSpec& fault);

 private:
  void start(const FaultSpec& f, size_t id);
  void stop(const FaultSpec& f, size_t id);
  void flap(const FaultSpec& f, size_t id, TimeNs ends_at, bool up);
  void drift(size_t id, RegionIndex region, double ppm);
  void swizzle(const FaultSpec& f, size_t id);
  std::vector<FaultSpec> draw_swarm_faults(TimeNs duration);

  World& world_;
  std::vector<FaultSpec> scheduled_;
  std::vector<bool> active_;  // per scheduled fault id
  bool healed_ = false;
};

}  // namespace meridian::sim
