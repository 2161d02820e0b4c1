// Runs one scenario with one seed: setup, the faulty phase (workload + faults), the liveness
// phase (everything healed, workload stopped, convergence required within liveness_s), then the
// checks. A run is a pure function of (scenario, seed): its trace digest proves it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/node/region_node.h"
#include "sim/checker.h"
#include "sim/scenario.h"

namespace meridian::sim {

struct RunOptions {
  std::optional<uint64_t> seed;  // default: the scenario's seed
  // Sweep runs use the scenario's `sweep` scale (shorter, lighter) and draw every listed
  // fault's start time at random within the faulty phase.
  bool sweep = false;
};

// What a region's node incarnations did about durability and catch-up, summed over restarts.
struct DurabilityStats {
  uint64_t restarts = 0;
  uint64_t checkpoints_written = 0;
  uint64_t records_segments_written = 0;  // active segments written instead of a snapshot
  uint64_t compactions = 0;               // new sealed snapshots of shards that had one
  uint64_t segments_loaded = 0;
  uint64_t segments_rejected = 0;
  uint64_t shards_recovered_from_peer = 0;
  uint64_t manifests_rejected = 0;
  uint64_t writes_refused_recovering = 0;
  uint64_t catch_ups_installed = 0;
  uint64_t catch_up_failures = 0;
  uint64_t catch_up_bytes = 0;        // signatures + deltas
  uint64_t catch_up_full_bytes = 0;   // what full snapshot copies would have moved
  uint64_t tombstones_collected = 0;  // ids erased by garbage collection (not in any())
  uint64_t writer_conflicts = 0;      // always 0 unless the engine has a bug (runner.cc)
  void add(const node::NodeCounters& c);
  bool any() const;
};

struct RunResult {
  std::string scenario;  // name
  std::string source;    // file
  uint64_t seed = 0;
  Status status;  // not ok: the run could not be set up (the checks did not run)
  std::string digest;
  uint64_t events = 0;
  TimeNs setup_ns = 0;              // simulated time spent loading initial vectors
  TimeNs faulty_ns = 0;             // length of the faulty phase
  TimeNs converged_after_ns = -1;   // into the liveness phase; -1 if it never converged
  std::vector<std::string> faults;  // human-readable, in start order
  RunMetrics metrics;
  std::vector<CheckOutcome> checks;
  std::map<std::string, uint64_t> coverage;
  uint64_t exact_searches = 0, cost_modelled_searches = 0;
  // max_backlog[to][from]: the most records of origin `from` that region `to`'s log held but its
  // node had not applied yet, sampled every simulated second (RegionNode::replication_lag).
  std::vector<std::vector<uint64_t>> max_backlog;
  // Per region index: answered searches of that region's clients flagged "may be stale".
  std::vector<uint64_t> stale_searches;
  std::vector<DurabilityStats> durability;  // per region index

  bool passed() const;
};

RunResult run_scenario(const Scenario& scenario, const RunOptions& options);

// The scenario as a sweep run sees it: scaled rates and duration, fault start times drawn from
// the seed.
Scenario sweep_variant(const Scenario& scenario, uint64_t seed);

}  // namespace meridian::sim
