// ThreadOffload: the real environment's env::Offload. Work runs on one worker thread of its own
// (at a lower CPU priority than the loop and the searches, like the checkpoint encoder in
// posix_files.cc, so that a shard digest of tens of milliseconds competes with neither), and
// each result goes back to the engine through EventLoop::post.
//
// Bounded: at most `max_queued` pieces of work wait for the thread; more are dropped (their
// `done` gets nothing), as is what is still queued at stop(). Thread-safe.
#pragma once

#include <cstddef>

#include "engine/env/env.h"
#include "engine/real/event_loop.h"
#include "engine/real/worker_pool.h"

namespace meridian::real {

class ThreadOffload final : public env::Offload {
 public:
  explicit ThreadOffload(EventLoop& loop, size_t max_queued = 16);
  // stop().
  ~ThreadOffload() override;
  ThreadOffload(const ThreadOffload&) = delete;
  ThreadOffload& operator=(const ThreadOffload&) = delete;

  void run(Work work, Done done) override;

  // Takes no more work, drops what is queued and waits for the work running now. Idempotent.
  void stop() { pool_.stop(); }

 private:
  EventLoop& loop_;
  WorkerPool pool_;
};

}  // namespace meridian::real
