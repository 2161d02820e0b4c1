// EngineLock: the readers-writer lock that lets the real environment read the engine from other
// threads while its event loop keeps mutating it (DESIGN.md §1: searches on a worker pool).
//
// The engine is single-threaded by contract; its const read paths (RegionNode::search_now,
// staleness()) are thread-compatible: they may run concurrently with each other, never with a
// mutation. The event loop holds this lock exclusively while it runs an iteration's work
// (posted tasks, due timers, pollers) and releases it while it sleeps; search workers hold it
// shared around a const call. So a reader sees the engine between two loop iterations, never in
// the middle of one.
//
// Writer-preferring (glibc's PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP): once the loop waits
// for the lock, new readers queue behind it, so a stream of searches cannot starve replication;
// the loop waits at most for the searches already running. The price is that a reader must
// never take the lock twice (it would deadlock behind a waiting writer): no recursion.
//
// Meets the standard SharedMutex requirements, so std::unique_lock / std::shared_lock work.
#pragma once

#include <pthread.h>

namespace meridian::real {

class EngineLock {
 public:
  EngineLock();
  ~EngineLock();
  EngineLock(const EngineLock&) = delete;
  EngineLock& operator=(const EngineLock&) = delete;

  // Exclusive: the event loop, around each iteration's work.
  void lock();
  bool try_lock();
  void unlock();
  // Shared: readers of the engine's const, thread-compatible calls. REQUIRES: not held already
  // by this thread (in either mode).
  void lock_shared();
  bool try_lock_shared();
  void unlock_shared();

 private:
  pthread_rwlock_t rwlock_;
};

}  // namespace meridian::real
