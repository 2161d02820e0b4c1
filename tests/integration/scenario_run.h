// Plays a scenario file (sim::Scenario, sim/scenario_loader.h) against a real deployment and
// judges it with the simulator's checker (sim/checker.h): the proof that the engine/environment
// seam holds (docs/integration-tests.md, case 7).
//
// The run has the simulator's shape (sim/runner.cc):
//   setup     the collections' initial_vectors are upserted through region 0 (not traced, as in
//             the simulator), then the deployment must converge;
//   faulty    the simulator's own Workload (sim/workload.h) runs for duration_s through
//             RealClients (real_clients.h), at the scenario's rates, while the faults are
//             applied at their times by the caller's hooks;
//   liveness  every fault is healed, the workload has stopped; once the requests in flight have
//             completed, the deployment must converge within liveness_s;
//   check     every region's final state is fetched (real_run.h) and compute_metrics + check
//             run on it, exactly as `meridian-sim run` does on a World.
// Wall-clock threads are fine here (tests/ only): the fault hooks run on threads of their own so
// that a slow broker restart never stalls the clients.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/status.h"
#include "proto/meridian.grpc.pb.h"
#include "sim/checker.h"
#include "sim/scenario.h"
#include "tests/integration/real_run.h"

namespace meridian::itest {

// Why `scenario` cannot be played against a real deployment, one reason each; empty if it can.
// Refused: faults other than broker_outage, swarm faults, clock skew or drift, searches answered
// by the cost model (exact_search_fraction < 1), and expectations the real run cannot measure
// honestly (replication_lag_p99_ms and max_staleness_ms need per-write apply times; coverage
// marks are counted inside each node's process). Links, log and disk parameters are the
// simulator's model only: a real run takes whatever the deployment has.
std::vector<std::string> real_run_limits(const sim::Scenario& scenario);

// What the run needs of the deployment. Region r of the scenario is stubs[r].
struct RealDeployment {
  std::vector<v1::Meridian::Stub*> stubs;
  // Takes region r's log cluster down (true) or brings it back (false); blocks until done.
  std::function<Status(sim::RegionIndex r, bool down)> set_broker_outage;
  // True when every region has applied the same records with no backlog; else false and why.
  std::function<bool(std::string* why)> converged;
};

struct RealScenarioResult {
  Status status;  // not ok: the run could not be set up or played (no checks ran)
  std::unique_ptr<RealRun> run;
  sim::RunMetrics metrics;
  std::vector<sim::CheckOutcome> checks;
  double setup_s = 0;             // initial vectors loaded and converged
  double faulty_s = 0;            // workload started .. its last request answered
  double converged_after_s = -1;  // into the liveness phase; -1 if it never converged
  double fetch_s = 0;             // final states fetched
  // Fault hooks (when called and when done, in seconds into the faulty phase), and liveness and
  // fetch problems.
  std::vector<std::string> events;

  bool passed() const;
};

// REQUIRES: real_run_limits(scenario) is empty. `scenario` must outlive the result.
RealScenarioResult run_real_scenario(const sim::Scenario& scenario, const RealDeployment& d);

}  // namespace meridian::itest
