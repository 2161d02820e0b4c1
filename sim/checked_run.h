// What the checker (sim/checker.h, sim/run_metrics.h) reads of a finished run: the scenario, the
// clients' trace and every region's final state. The seam that lets one checker judge runs of
// either environment: the simulator's World (sim/checked_world.h) and a real deployment driven by
// tests/integration/scenario_run.h (docs/integration-tests.md).
//
// Read-only, and only valid once the run (faulty and liveness phases) has ended. Times are in
// the trace's clock: virtual nanoseconds in the simulator, steady-clock nanoseconds in a real
// run; only differences and start_time() matter.
//
// What a real run cannot record honestly is declared, not faked: an environment that does not
// record per-write apply times or coverage marks says so (records_apply_times(),
// coverage_count() == nullopt) and the checks that need them fail with the reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/collection.h"
#include "sim/rng.h"
#include "sim/scenario.h"
#include "sim/trace.h"

namespace meridian::sim {

class CheckedRun {
 public:
  virtual ~CheckedRun() = default;

  virtual const Scenario& scenario() const = 0;
  virtual const Trace& trace() const = 0;
  // The seed the run's random streams derive from; the checker draws its own from it.
  virtual uint64_t seed() const = 0;
  // When the scenario proper (workload, faults) started, in the trace's clock.
  virtual TimeNs start_time() const = 0;

  size_t region_count() const { return scenario().regions.size(); }
  const std::string& region_name(RegionIndex r) const { return scenario().regions[r].name; }
  // A named random stream derived from the run seed (sim/rng.h).
  Rng rng(std::string_view name) const { return Rng::derive(seed(), name); }

  // --- every region's final state; r < region_count() ---

  // False when region r has no running node at the end of the run (crashed, or unreachable):
  // then none of the functions below may be called for r.
  virtual bool running(RegionIndex r) const = 0;
  // Region r's replica of collection `name`; nullptr if the region does not hold it.
  virtual const Collection* collection(RegionIndex r, const std::string& name) const = 0;
  // The HLC timestamp below which region r's copy of the shard is complete and may be collected
  // (RegionNode::shard_stable_frontier).
  virtual uint64_t shard_stable_frontier(RegionIndex r, const std::string& name,
                                         uint32_t shard) const = 0;
  // Writes to collection `name` that region r accepted, per shard (RegionNode::
  // shard_write_counts); empty if the region does not hold it.
  virtual std::vector<uint64_t> shard_write_counts(RegionIndex r,
                                                   const std::string& name) const = 0;

  // --- what not every environment records ---

  // True if Trace::applied_at holds the first apply time of every write in every region (the
  // simulator sees each apply; a real client does not).
  virtual bool records_apply_times() const = 0;
  // How often the coverage mark `name` (engine/node/coverage.h) fired during the run; nullopt
  // when the environment cannot count them (a real node counts in its own process).
  virtual std::optional<uint64_t> coverage_count(const std::string& name) const = 0;
};

}  // namespace meridian::sim
