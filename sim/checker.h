// After a run: whether the scenario's expectations hold (check), judged from the run and its
// RunMetrics (sim/run_metrics.h). The run is read through sim/checked_run.h, so the same
// functions judge a simulated run (sim/checked_world.h) and a real deployment
// (tests/integration/scenario_run.h). Checks that need what the run's environment does not
// record (CheckedRun::records_apply_times, coverage_count) fail and say so.
//
// Rules chosen here (the metrics' rules are in sim/run_metrics.h):
//
// max_staleness_ms (bounded staleness of eventual reads, checked against ground truth): an
// answered, real (not cost-modelled) eventual search served by region R that the node did not
// flag stale violates the bound when some write acknowledged more than `bound` before the read
// was sent had not been applied at R by the time the answer reached the client. The check is
// conservative (it never blames a read for a write that might have been visible): the bound must
// hold for every such read. Reads flagged stale are honest and never violate it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/checked_run.h"
#include "sim/run_metrics.h"
#include "sim/scenario.h"

namespace meridian::sim {

struct CheckOutcome {
  std::string name;
  bool passed = false;
  std::string detail;
};

// Whether regions a and b (both running) hold the same state of collection `name`. Regions
// collect tombstones at different moments, so each shard is compared after normalising both
// copies at the highest stable frontier any running region reports for it. That is sound once
// the version vectors are equal (checked first): both applied the same mutations, so both are
// complete below every frontier either of them, or any region that applied as much, reached.
// (The min would not do: a region that collected at its higher frontier cannot un-collect.)
bool same_collected_state(const CheckedRun& run, const std::string& name, RegionIndex a,
                          RegionIndex b);

// One outcome per expectation that applies: "converge", "no_lost_acknowledged_writes",
// "read_your_writes" (when true), "max_error_rate", "search_p99_ms[<region>]",
// "replication_lag_p99[<from>-><to>]", "max_staleness_ms", "hot_shard_detected", "coverage"
// (when given), in that order.
std::vector<CheckOutcome> check(const CheckedRun& run, const RunMetrics& metrics);

}  // namespace meridian::sim
