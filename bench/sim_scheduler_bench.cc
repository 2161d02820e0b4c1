// Single-thread throughput of the simulator's event loop (sim/scheduler.h): events run per
// second of CPU time. Target: >= 2 M events/s for the self-rescheduling workload, so that the
// scheduler is never what limits a simulation (a node's own work per event costs far more).
//
// Workloads keep about 1,000 events pending, as a simulation of a few regions with timers and
// messages in flight does: each event, when it runs, schedules one more at a random small delay.
//   * SelfRescheduling: the closure captures one pointer (fits std::function's inline buffer).
//   * LargeCapture: the closure captures 48 bytes, like a network delivery (callback + state);
//     std::function stores it on the heap.
//   * TimeoutCancel: every event also arms a timeout and cancels the previous one, the pattern of
//     a request with a deadline that is answered in time.
// Run with: --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>

#include "sim/rng.h"
#include "sim/scheduler.h"

namespace meridian::sim {
namespace {

constexpr int kPending = 1000;
constexpr int kEventsPerIteration = 1000;
constexpr uint64_t kMaxDelayNs = 1000;

struct SelfRescheduling {
  Scheduler scheduler;
  Rng rng{42};
  uint64_t fired = 0;

  void fire() {
    ++fired;
    scheduler.after(TimeNs(1 + rng.below(kMaxDelayNs)), [this] { fire(); });
  }
};

void BM_SchedulerSelfRescheduling(benchmark::State& state) {
  SelfRescheduling w;
  for (int i = 0; i < kPending; ++i) {
    w.scheduler.after(TimeNs(w.rng.below(kMaxDelayNs)), [&w] { w.fire(); });
  }
  for (auto _ : state) {
    for (int i = 0; i < kEventsPerIteration; ++i) w.scheduler.step();
  }
  benchmark::DoNotOptimize(w.fired);
  state.SetItemsProcessed(int64_t(state.iterations()) * kEventsPerIteration);
  state.counters["pending"] = double(w.scheduler.queued());
}
BENCHMARK(BM_SchedulerSelfRescheduling);

struct LargeCapture {
  Scheduler scheduler;
  Rng rng{42};
  uint64_t sum = 0;

  void fire(const std::array<uint64_t, 5>& payload) {
    sum += payload[4];
    std::array<uint64_t, 5> next = payload;
    ++next[4];
    scheduler.after(TimeNs(1 + rng.below(kMaxDelayNs)), [this, next] { fire(next); });
  }
};

void BM_SchedulerLargeCapture(benchmark::State& state) {
  LargeCapture w;
  for (int i = 0; i < kPending; ++i) {
    std::array<uint64_t, 5> payload{};
    payload[4] = uint64_t(i);
    w.scheduler.after(TimeNs(w.rng.below(kMaxDelayNs)), [&w, payload] { w.fire(payload); });
  }
  for (auto _ : state) {
    for (int i = 0; i < kEventsPerIteration; ++i) w.scheduler.step();
  }
  benchmark::DoNotOptimize(w.sum);
  state.SetItemsProcessed(int64_t(state.iterations()) * kEventsPerIteration);
}
BENCHMARK(BM_SchedulerLargeCapture);

// Each event arms a long timeout and cancels the one its predecessor armed; counts the events
// that run (timeouts never do: each is cancelled by the next event).
struct TimeoutCancel {
  Scheduler scheduler;
  Rng rng{42};
  env::Timers::TimerId pending_timeout = 0;
  uint64_t fired = 0;
  uint64_t timeouts = 0;

  void fire() {
    ++fired;
    scheduler.cancel(pending_timeout);
    pending_timeout = scheduler.after(1'000'000, [this] { ++timeouts; });
    scheduler.after(TimeNs(1 + rng.below(kMaxDelayNs)), [this] { fire(); });
  }
};

void BM_SchedulerTimeoutCancel(benchmark::State& state) {
  TimeoutCancel w;
  for (int i = 0; i < kPending; ++i) {
    w.scheduler.after(TimeNs(w.rng.below(kMaxDelayNs)), [&w] { w.fire(); });
  }
  const uint64_t start = w.fired;
  for (auto _ : state) {
    for (int i = 0; i < kEventsPerIteration; ++i) w.scheduler.step();
  }
  benchmark::DoNotOptimize(w.timeouts);
  state.SetItemsProcessed(int64_t(w.fired - start));
  state.counters["queued"] = double(w.scheduler.queued());
}
BENCHMARK(BM_SchedulerTimeoutCancel);

}  // namespace
}  // namespace meridian::sim
