// WorkerPool: a fixed set of threads running submitted jobs in FIFO order, with a bounded queue
// and a shutdown that answers every job: the real environment's search pool (DESIGN.md §1).
//
// A job is a pair of callbacks: `run`, called on a worker, or `cancel`, called instead if the
// pool stops before a worker took the job. Exactly one of the two runs for every job that
// submit() accepted. Jobs must not block for long (they hold a worker) and must not call
// stop() on their own pool.
//
// Thread-safe. Workers are named "<name>-<i>" (visible in top -H, perf and /proc).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace meridian::real {

// std::thread::hardware_concurrency(), at least 1: the default size of a pool.
size_t hardware_threads();

class WorkerPool {
 public:
  // REQUIRES: threads >= 1, max_queued >= 1. `name` at most 11 characters (the kernel keeps 15
  // per thread name, and the index needs the rest).
  WorkerPool(std::string name, size_t threads, size_t max_queued);
  // stop().
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues the job; false (and neither callback runs) if the pool has stopped or max_queued
  // jobs are already waiting for a worker.
  bool submit(std::function<void()> run, std::function<void()> cancel);

  // Stops accepting jobs, calls `cancel` for every job still queued (on this thread, in queue
  // order), waits for the jobs running on workers and joins the workers. Idempotent.
  void stop();

  size_t threads() const { return workers_.size(); }
  size_t max_queued() const { return max_queued_; }

 private:
  struct Job {
    std::function<void()> run;
    std::function<void()> cancel;
  };
  void work();

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Job> queue_;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::vector<std::thread> workers_;
  std::once_flag joined_;
};

}  // namespace meridian::real
