// The real environment's event loop: the one thread the engine runs on (DESIGN.md §1).
//
// The engine is single-threaded by contract (engine/env/env.h): every callback into it comes
// from this loop. Other threads (gRPC and HTTP server threads, librdkafka's internal threads)
// never touch the engine; they hand work to the loop with post(), and the loop runs it in FIFO
// order. Timers run on the loop too. Pollers (e.g. the Kafka log, whose delivery reports and
// fetched records are served by rd_kafka_poll) are called on every iteration with a zero timeout,
// and the loop sleeps at most `poll_interval` between iterations when nothing else is due, so a
// poller's events wait at most that long.
//
// Readers off the loop: the loop holds engine_lock() exclusively while it runs an iteration's
// work (posted tasks, due timers, pollers) and releases it while it sleeps, so another thread
// holding the lock shared may call the engine's thread-compatible const calls (e.g.
// RegionNode::search_now) between two iterations. Cost on the loop: one uncontended
// lock/unlock pair per iteration (~50-60 ns here) plus, when readers are inside, waiting for them
// to finish (the lock prefers the writer, so no new reader gets in meanwhile). An idle iteration
// (nothing posted, no timer due, no poller ready) does not take the lock: each exclusive turn
// stalls every search for two thread hand-offs, and on a loaded 2-core machine taking it on
// every 0.5 ms poll made searches convoy behind the loop (docs/benchmarks.md).
//
// Clock: monotonic time is std::chrono::steady_clock since the loop was created; wall time is
// the system clock. Random: a xoshiro-style generator seeded once from std::random_device (a real
// region has no reason to be reproducible; the simulator is).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "engine/env/env.h"
#include "engine/real/engine_lock.h"

namespace meridian::real {

class EventLoop final : public env::Clock, public env::Timers, public env::Random {
 public:
  explicit EventLoop(std::chrono::microseconds poll_interval = std::chrono::microseconds(500));
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // env::Clock
  env::TimeNs monotonic_ns() const override;
  uint64_t wall_ms() const override;
  // env::Timers (call from the loop thread only)
  TimerId after(env::TimeNs delay, std::function<void()> fn) override;
  void cancel(TimerId id) override;
  // env::Random (loop thread only)
  uint64_t next_u64() override;

  // Thread-safe: runs `fn` on the loop thread, after everything posted before it. Tasks posted
  // after stop() may never run.
  void post(std::function<void()> fn);
  // Runs `fn` on the loop thread and waits for it to finish. Must not be called from the loop
  // thread. Returns false (without running fn) if the loop has stopped.
  bool run_and_wait(std::function<void()> fn);

  // Loop thread only, before run(): `poll` is called with no timeout on every iteration that
  // takes the engine lock. `ready` (optional; called on the loop thread without the engine lock,
  // so it must not touch the engine) says whether the poller has something to do now; the loop
  // takes the lock only when a task is posted, a timer is due or a poller is ready, and at
  // least every kMaxUnlocked in any case (so a `ready` that misses something costs latency,
  // not correctness). Without `ready` the poller counts as always ready.
  void add_poller(std::function<void()> poll, std::function<bool()> ready = nullptr);
  static constexpr std::chrono::milliseconds kMaxUnlocked{5};

  // Runs until stop(). Call from the thread that becomes the engine's thread.
  void run();
  // Runs iterations until `done()` returns true or `timeout` passes; returns done(). For tests
  // and tools that drive the loop from their own thread instead of calling run().
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  // Thread-safe (not async-signal-safe): asks run() to return after the current iteration.
  void stop();
  bool stopped() const;

  // The lock described above. Readers take it shared (std::shared_lock) and never from the loop
  // thread itself (the loop already holds it while it runs anything).
  EngineLock& engine_lock() { return engine_lock_; }

 private:
  // One iteration: posted tasks, due timers, pollers (under engine_lock_); then sleeps until the
  // next timer, a post, or poll_interval, whichever comes first.
  void iterate();
  void run_due_work();

  const std::chrono::steady_clock::time_point start_;
  const std::chrono::microseconds poll_interval_;
  EngineLock engine_lock_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> posted_;  // guarded by mu_
  bool stop_ = false;                         // guarded by mu_
  // Loop-thread state.
  std::map<std::pair<env::TimeNs, TimerId>, std::function<void()>> timers_;
  std::map<TimerId, env::TimeNs> timer_due_;
  TimerId next_timer_ = 1;
  std::vector<std::function<void()>> pollers_;
  std::vector<std::function<bool()>> poller_ready_;
  env::TimeNs last_locked_ns_ = 0;
  // Whether this iteration has work for the engine (see add_poller).
  bool has_work();
  uint64_t rng_[4];
};

}  // namespace meridian::real
