#include "sim/scheduler.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace meridian::sim {

namespace {

// Purging costs one pass over the heap; doing it only when cancelled ids are at least half the
// heap (and more than a handful) keeps it O(1) amortised per cancel.
constexpr size_t kMinCancelledToPurge = 64;

}  // namespace

env::Timers::TimerId Scheduler::after(TimeNs delay, Event fn) {
  return at(now_ + (delay > 0 ? delay : 0), std::move(fn));
}

env::Timers::TimerId Scheduler::at(TimeNs when, Event fn) {
  assert(fn);
  const uint64_t id = next_seq_++;
  heap_.push_back(Entry{when < now_ ? now_ : when, id, std::move(fn)});
  std::push_heap(heap_.begin(), heap_.end(), later);
  return id;
}

void Scheduler::cancel(TimerId id) {
  // An id that already fired is recorded too (we cannot tell cheaply): it never matches a queued
  // entry again, and the next purge forgets it.
  if (id == 0 || id >= next_seq_) return;
  cancelled_.insert(id);
  if (cancelled_.size() >= kMinCancelledToPurge && 2 * cancelled_.size() >= heap_.size()) {
    purge_cancelled();
  }
}

void Scheduler::purge_cancelled() {
  std::erase_if(heap_, [this](const Entry& e) { return cancelled_.count(e.seq) > 0; });
  std::make_heap(heap_.begin(), heap_.end(), later);
  cancelled_.clear();
}

bool Scheduler::step() {
  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    Entry e = std::move(heap_.back());
    heap_.pop_back();
    if (!cancelled_.empty() && cancelled_.erase(e.seq) > 0) continue;
    assert(e.time >= now_);
    now_ = e.time;
    ++events_run_;
    e.fn();
    return true;
  }
  return false;
}

uint64_t Scheduler::run_until(TimeNs until) {
  const uint64_t before = events_run_;
  while (!heap_.empty() && heap_.front().time <= until) step();
  if (until > now_) now_ = until;
  return events_run_ - before;
}

}  // namespace meridian::sim
