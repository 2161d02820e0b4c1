// The scenario's clients against a real deployment: sim::ClientEnv (sim/client_env.h) over gRPC,
// so that the simulator's own Workload (sim/workload.h) drives meridian-node processes and
// records the same sim::Trace it records in the simulator (docs/integration-tests.md, case 7).
//
// Time is an EventLoop's (engine/real/event_loop.h): steady-clock nanoseconds since the loop was
// created. The workload, its timers and every request's `done` run on the thread that drives
// the loop (EventLoop::run_until); each request is an asynchronous gRPC call with the scenario's
// request timeout as its deadline, whose answer a gRPC thread posts back onto the loop. A
// request fails with the gRPC status mapped to an engine Status (real/api/status_map.h):
// a deadline or an unreachable node is `unavailable`, like a timeout in the simulator.
//
// What the simulator models and a real client cannot do: a `cost_only` search (answered by the
// cost model) runs as a real search here; scenarios for real runs use exact_search_fraction 1
// (scenario_run.h checks it), so none is asked for. Regions map to nodes by index: region r of
// the scenario is stubs[r].
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "engine/real/event_loop.h"
#include "proto/meridian.grpc.pb.h"
#include "sim/client_env.h"

namespace meridian::itest {

class RealClients final : public sim::ClientEnv {
 public:
  // `scenario`, `loop` and the stubs must outlive this object and every request it sends.
  // stubs.size() == scenario.regions.size(). Random streams derive from `seed`.
  RealClients(const sim::Scenario& scenario, uint64_t seed, real::EventLoop& loop,
              std::vector<v1::Meridian::Stub*> stubs);
  RealClients(const RealClients&) = delete;
  RealClients& operator=(const RealClients&) = delete;

  const sim::Scenario& scenario() const override { return scenario_; }
  sim::Trace& trace() override { return trace_; }
  const sim::Trace& trace() const { return trace_; }
  sim::Rng rng(std::string_view name) const override { return sim::Rng::derive(seed_, name); }
  sim::TimeNs now() const override { return loop_.monotonic_ns(); }
  void at(sim::TimeNs at, std::function<void()> fn) override;

  void client_write(sim::RegionIndex client, sim::RegionIndex target, node::WriteRequest request,
                    std::function<void(node::WriteResponse)> done) override;
  void client_search(sim::RegionIndex client, sim::RegionIndex target, node::SearchRequest request,
                     bool cost_only, std::function<void(node::SearchResponse)> done) override;

  // Requests sent whose `done` has not run yet (any thread).
  uint64_t in_flight() const { return in_flight_.load(); }

 private:
  const sim::Scenario& scenario_;
  const uint64_t seed_;
  real::EventLoop& loop_;
  std::vector<v1::Meridian::Stub*> stubs_;
  sim::Trace trace_;
  std::atomic<uint64_t> in_flight_{0};
};

}  // namespace meridian::itest
