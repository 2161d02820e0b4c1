// The simulator's env::Offload for a process that computes off its loop: the work runs at once
// (virtual time models no CPU here) and its result arrives `delay` later through the process's
// timers, so the engine's asynchronous path (a copy taken now, the answer handled later while
// the replica has moved on) runs in simulation exactly as it does in the real build. Nodes
// without one compute on the loop at once. Deterministic: nothing but the scheduler orders it.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "engine/env/env.h"

namespace meridian::sim {

class SimOffload final : public env::Offload {
 public:
  // `timers`: the process's (ProcessTimers), so that a crash drops pending results with it.
  SimOffload(env::Timers& timers, env::TimeNs delay) : timers_(timers), delay_(delay) {}

  void run(Work work, Done done) override {
    timers_.after(delay_, [result = work(), done = std::move(done)]() mutable {
      done(std::optional<std::string>(std::move(result)));
    });
  }

 private:
  env::Timers& timers_;
  const env::TimeNs delay_;
};

}  // namespace meridian::sim
