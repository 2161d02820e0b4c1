// What the scenario's clients (sim/workload.h) need of a deployment: a clock and timers to pace
// their arrivals, a way to send requests to a region, and the trace they record into. The seam
// that lets the same workload drive the simulator's World (virtual time, one thread) and a real
// deployment over gRPC (tests/integration/real_clients.h, wall-clock time).
//
// Threading: the workload is not thread-safe. Every callback (`at`'s events and the requests'
// `done`) must run on the one thread that runs the workload, never inside the call that
// scheduled it.
#pragma once

#include <functional>
#include <string_view>

#include "engine/node/requests.h"
#include "sim/rng.h"
#include "sim/scenario.h"
#include "sim/trace.h"

namespace meridian::sim {

class ClientEnv {
 public:
  virtual ~ClientEnv() = default;

  virtual const Scenario& scenario() const = 0;
  // Where the clients record every request outcome, acknowledged write and session read.
  virtual Trace& trace() = 0;
  // A named random stream derived from the run seed (sim/rng.h).
  virtual Rng rng(std::string_view name) const = 0;

  // The current time in the trace's clock (nanoseconds).
  virtual TimeNs now() const = 0;
  // Runs `fn` at time `at` (now() if earlier). The simulator runs events due at the same time
  // in the order they were scheduled; the workload does not rely on it (a real clock cannot
  // promise it).
  virtual void at(TimeNs at, std::function<void()> fn) = 0;

  // A client living in region `client` sends a request to region `target`. `done` runs exactly
  // once: with the node's response, or with an error status when no response arrives within
  // the scenario's request timeout (workload.request_timeout_ms).
  virtual void client_write(RegionIndex client, RegionIndex target, node::WriteRequest request,
                            std::function<void(node::WriteResponse)> done) = 0;
  // With `cost_only` the node need not run the search (the simulator's cost model answers with
  // no hits); the clients then check nothing in the answer.
  virtual void client_search(RegionIndex client, RegionIndex target, node::SearchRequest request,
                             bool cost_only, std::function<void(node::SearchResponse)> done) = 0;
};

}  // namespace meridian::sim
