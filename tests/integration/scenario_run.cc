#include "tests/integration/scenario_run.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <thread>
#include <utility>

#include "engine/real/event_loop.h"
#include "sim/faults.h"
#include "sim/workload.h"
#include "tests/integration/real_clients.h"

namespace meridian::itest {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kInitialWave = 64;         // initial upserts in flight at once
constexpr int kInitialAttempts = 5;      // per initial upsert, before the setup fails
constexpr auto kSetupConvergence = 60s;  // after the initial vectors
constexpr auto kFetchTimeout = 10s;      // per RPC fetching a region's final state
constexpr auto kDrainSlack = 30s;        // beyond duration + request timeout
constexpr auto kConvergedPoll = 100ms;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::chrono::milliseconds to_ms(sim::TimeNs ns) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(ns));
}

// Polls d.converged until it holds or `timeout` passes; the last reason in *why.
bool wait_converged(const RealDeployment& d, std::chrono::milliseconds timeout, std::string* why) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (d.converged(why)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kConvergedPoll);
  }
}

// The initial vectors, upserted through region 0 (client and target 0), not traced: as
// World::setup loads them. A write that fails is sent again, up to kInitialAttempts times.
Status load_initial_vectors(const sim::Scenario& sc, RealClients& clients, real::EventLoop& loop) {
  for (const sim::CollectionSpec& c : sc.collections) {
    std::vector<node::WriteRequest> pending =
        sim::initial_vector_writes(c, clients.rng("initial/" + c.config.name));
    std::string error;
    for (int attempt = 1; !pending.empty(); ++attempt) {
      if (attempt > kInitialAttempts) {
        return Status::unavailable(std::to_string(pending.size()) + " initial vectors of " +
                                   c.config.name + " not acknowledged; last error: " + error);
      }
      std::vector<node::WriteRequest> failed;
      for (size_t i = 0; i < pending.size(); i += kInitialWave) {
        const size_t n = std::min<size_t>(kInitialWave, pending.size() - i);
        size_t answered = 0;
        for (size_t j = i; j < i + n; ++j) {
          clients.client_write(0, 0, pending[j], [&, j](node::WriteResponse r) {
            ++answered;
            if (r.status.is_ok()) return;
            failed.push_back(pending[j]);
            error = r.status.to_string();
          });
        }
        const auto timeout = to_ms(sc.workload.request_timeout_ns) + kDrainSlack;
        if (!loop.run_until([&] { return answered == n; }, timeout)) {
          return Status::unavailable("initial upserts of " + c.config.name + " never answered");
        }
      }
      pending = std::move(failed);
    }
  }
  return Status::ok();
}

// Runs the faults' hooks on threads of their own and remembers what happened.
class FaultHooks {
 public:
  FaultHooks(const sim::Scenario& sc, const RealDeployment& d, Clock::time_point start)
      : sc_(sc), d_(d), start_(start) {}
  ~FaultHooks() { (void)join(); }  // an early return still waits for the hook threads

  // Loop thread only.
  void set(const sim::FaultSpec& f, bool active) {
    ++calls_;
    threads_.emplace_back([this, &f, active] {
      const double called_s = seconds_since(start_);
      const Status s = d_.set_broker_outage(f.region, active);
      char line[400];
      std::snprintf(line, sizeof line, "%s %s: hook called t=%.3f s, done t=%.3f s%s",
                    active ? "fault start" : "fault end",
                    sim::FaultRunner::describe(sc_, f).c_str(), called_s, seconds_since(start_),
                    s.is_ok() ? "" : (", FAILED: " + s.to_string()).c_str());
      std::lock_guard lock(mu_);
      events_.push_back(line);
      if (!s.is_ok() && error_.is_ok()) error_ = s;
    });
  }
  // Waits for every hook; the first failure, if any.
  Status join() {
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
    std::lock_guard lock(mu_);
    return error_;
  }
  size_t calls() const { return calls_; }  // set() calls so far (loop thread only)
  std::vector<std::string> events() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  const sim::Scenario& sc_;
  const RealDeployment& d_;
  const Clock::time_point start_;
  std::vector<std::thread> threads_;
  size_t calls_ = 0;
  std::mutex mu_;
  std::vector<std::string> events_;  // guarded by mu_
  Status error_;                     // guarded by mu_
};

}  // namespace

std::vector<std::string> real_run_limits(const sim::Scenario& sc) {
  std::vector<std::string> out;
  for (const sim::FaultSpec& f : sc.faults) {
    if (f.kind == sim::FaultKind::kBrokerOutage) continue;
    out.push_back("fault " + std::string(sim::fault_kind_name(f.kind)) + " (line " +
                  std::to_string(f.source_line) +
                  "): only broker_outage can be applied to the real deployment");
  }
  if (sc.swarm.enabled) out.push_back("swarm faults: only listed broker_outage faults apply");
  for (const sim::RegionSpec& r : sc.regions) {
    if (r.clock_skew_ns != 0 || r.clock_drift_ppm != 0) {
      out.push_back("region " + r.name + ": clock skew and drift are simulated only");
    }
  }
  if (sc.workload.exact_search_fraction < 1) {
    out.push_back("exact_search_fraction < 1: a real run has no cost-modelled searches");
  }
  const sim::Expectations& e = sc.expect;
  const std::string no_apply_times = ": needs per-write apply times, which clients cannot see";
  if (!e.replication_lag_p99.empty()) out.push_back("replication_lag_p99_ms" + no_apply_times);
  if (e.max_staleness_ns) out.push_back("max_staleness_ms" + no_apply_times);
  if (!e.coverage.empty()) {
    out.push_back("coverage: marks are counted inside each node's process, not visible here");
  }
  return out;
}

bool RealScenarioResult::passed() const {
  return status.is_ok() && std::all_of(checks.begin(), checks.end(),
                                       [](const sim::CheckOutcome& c) { return c.passed; });
}

RealScenarioResult run_real_scenario(const sim::Scenario& sc, const RealDeployment& d) {
  RealScenarioResult result;
  real::EventLoop loop;
  RealClients clients(sc, sc.seed, loop, d.stubs);

  const auto setup_start = Clock::now();
  result.status = load_initial_vectors(sc, clients, loop);
  std::string why;
  if (result.status.is_ok() && !wait_converged(d, kSetupConvergence, &why)) {
    result.status = Status::unavailable("not converged after the initial vectors: " + why);
  }
  if (!result.status.is_ok()) return result;
  result.setup_s = seconds_since(setup_start);

  // Faulty phase.
  const auto faulty_start = Clock::now();
  const sim::TimeNs start = clients.now();
  const sim::TimeNs stop_at = start + sc.duration_ns;
  FaultHooks hooks(sc, d, faulty_start);
  for (const sim::FaultSpec& f : sc.faults) {
    clients.at(start + f.at_ns, [&hooks, &f] { hooks.set(f, true); });
    clients.at(start + f.at_ns + f.duration_ns, [&hooks, &f] { hooks.set(f, false); });
  }
  sim::Workload workload(clients);
  workload.start(stop_at);
  const bool drained = loop.run_until(
      [&] {
        return clients.now() >= stop_at && clients.in_flight() == 0 &&
               hooks.calls() == 2 * sc.faults.size();
      },
      to_ms(sc.duration_ns + sc.workload.request_timeout_ns) + kDrainSlack);
  result.faulty_s = seconds_since(faulty_start);
  if (!drained) {
    result.status = Status::unavailable(std::to_string(clients.in_flight()) +
                                        " requests never answered (not even by a deadline)");
    return result;
  }

  // Liveness phase: every fault healed, then convergence within liveness_s of the phase's start.
  result.status = hooks.join();
  result.events = hooks.events();
  if (!result.status.is_ok()) return result;
  const sim::TimeNs liveness_end = stop_at + sc.liveness_ns;
  const auto left = to_ms(std::max<sim::TimeNs>(0, liveness_end - clients.now()));
  if (wait_converged(d, left, &why)) {
    result.converged_after_s = double(clients.now() - stop_at) / double(env::kSecond);
  } else {
    result.events.push_back("liveness: not converged within liveness_s: " + why);
  }

  // The final states, then the simulator's checks.
  const auto fetch_start = Clock::now();
  result.run = std::make_unique<RealRun>(sc, sc.seed, start, clients.trace());
  for (sim::RegionIndex r = 0; r < sc.regions.size(); ++r) {
    Status s = result.run->fetch_region(r, *d.stubs[r], kFetchTimeout);
    if (!s.is_ok()) result.events.push_back("fetch: " + s.to_string());
  }
  result.fetch_s = seconds_since(fetch_start);
  result.metrics = sim::compute_metrics(*result.run);
  result.checks = sim::check(*result.run, result.metrics);
  return result;
}

}  // namespace meridian::itest
