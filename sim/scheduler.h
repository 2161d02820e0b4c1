// The simulator's event loop: virtual time in nanoseconds, one thread, deterministic order.
//
// Events run in (time, insertion sequence) order, so two events at the same instant run in the
// order they were scheduled: a run is a pure function of the seed and the scenario. Time only
// moves when the next event is taken. The scheduler is the simulator's env::Timers.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_set>
#include <vector>

#include "engine/env/env.h"

namespace meridian::sim {

using env::TimeNs;

class Scheduler final : public env::Timers {
 public:
  using Event = std::function<void()>;

  TimeNs now() const { return now_; }

  // Runs `fn` at now() + delay (delay < 0 is treated as 0).
  TimerId after(TimeNs delay, Event fn) override;
  // Runs `fn` at absolute time `at` (>= now(); an earlier time means now()).
  TimerId at(TimeNs at, Event fn);
  void cancel(TimerId id) override;

  // Runs events until none is left or the next one is later than `until`; then sets now() to
  // `until` (if later). Returns the number of events run.
  uint64_t run_until(TimeNs until);
  // Runs the single next event, if any. Returns false when the queue is empty.
  bool step();

  // Events queued, including cancelled ones not yet reached or purged (cancelled events are
  // purged in bulk once they make up half the queue, so a queue of long timeouts that are
  // almost always cancelled stays small).
  size_t queued() const { return heap_.size(); }
  uint64_t events_run() const { return events_run_; }

 private:
  struct Entry {
    TimeNs time;
    uint64_t seq;  // the TimerId; unique, so (time, seq) is a total order
    Event fn;
  };
  // Heap order for std::push_heap/pop_heap: the earliest (time, seq) on top.
  static bool later(const Entry& a, const Entry& b) {
    return a.time != b.time ? a.time > b.time : a.seq > b.seq;
  }
  // Drops every cancelled entry from the heap and forgets every cancelled id (also those of
  // timers that had already fired or been purged). Run order is unaffected: it depends only on
  // the (time, seq) keys, not on the heap's layout.
  void purge_cancelled();

  TimeNs now_ = 0;
  uint64_t next_seq_ = 1;
  uint64_t events_run_ = 0;
  std::vector<Entry> heap_;
  // Ids cancelled since the last purge, possibly still in the heap; membership tests only,
  // never iterated.
  std::unordered_set<uint64_t> cancelled_;
};

}  // namespace meridian::sim
