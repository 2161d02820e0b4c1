// Timers of one simulated process incarnation.
//
// A crashed process's timers must never fire: the process (and every object its callbacks point
// into) is gone. The scheduler cannot drop a whole process's events by itself, so each
// incarnation gets its own ProcessTimers; kill() makes every timer it ever scheduled a no-op
// (cheaply, through a shared flag each event checks), and the restarted process gets a new one.
#pragma once

#include <functional>
#include <memory>
#include <utility>

#include "sim/scheduler.h"

namespace meridian::sim {

class ProcessTimers final : public env::Timers {
 public:
  explicit ProcessTimers(Scheduler& scheduler)
      : scheduler_(scheduler), alive_(std::make_shared<bool>(true)) {}
  ProcessTimers(const ProcessTimers&) = delete;
  ProcessTimers& operator=(const ProcessTimers&) = delete;
  ~ProcessTimers() override { kill(); }

  TimerId after(env::TimeNs delay, std::function<void()> fn) override {
    return scheduler_.after(delay, [alive = alive_, fn = std::move(fn)] {
      if (*alive) fn();
    });
  }
  void cancel(TimerId id) override { scheduler_.cancel(id); }

  // The process died: none of its timers will run.
  void kill() { *alive_ = false; }
  bool alive() const { return *alive_; }
  // A token callbacks from outside the process (e.g. peer responses) check before calling in.
  std::shared_ptr<const bool> liveness() const { return alive_; }

 private:
  Scheduler& scheduler_;
  std::shared_ptr<bool> alive_;
};

}  // namespace meridian::sim
