#include "engine/real/worker_pool.h"

#include <pthread.h>

#include <algorithm>
#include <cassert>
#include <utility>

#include "engine/real/openmp_threads.h"

namespace meridian::real {

size_t hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

WorkerPool::WorkerPool(std::string name, size_t threads, size_t max_queued)
    : max_queued_(max_queued) {
  assert(threads >= 1 && max_queued >= 1);
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) {
    workers_.emplace_back([this] { work(); });
    // Best effort: a name that does not fit is simply not set.
    const std::string thread_name = name + "-" + std::to_string(i);
    pthread_setname_np(workers_.back().native_handle(), thread_name.c_str());
  }
}

WorkerPool::~WorkerPool() { stop(); }

bool WorkerPool::submit(std::function<void()> run, std::function<void()> cancel) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(Job{std::move(run), std::move(cancel)});
  }
  ready_.notify_one();
  return true;
}

void WorkerPool::stop() {
  std::deque<Job> cancelled;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cancelled.swap(queue_);
  }
  ready_.notify_all();
  for (Job& job : cancelled) job.cancel();
  std::call_once(joined_, [this] {
    for (std::thread& t : workers_) t.join();
  });
}

void WorkerPool::work() {
  apply_openmp_policy();  // jobs may call FAISS (the search pool)
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      // stop() empties the queue itself (cancelling); a worker only leaves when nothing is left.
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job.run();
  }
}

}  // namespace meridian::real
