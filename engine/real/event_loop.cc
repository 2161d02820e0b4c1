#include "engine/real/event_loop.h"

#include <future>
#include <random>

#include "engine/real/openmp_threads.h"

namespace meridian::real {

namespace {
uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

EventLoop::EventLoop(std::chrono::microseconds poll_interval)
    : start_(std::chrono::steady_clock::now()), poll_interval_(poll_interval) {
  std::random_device device;
  for (uint64_t& word : rng_) word = (uint64_t(device()) << 32) ^ device() ^ 0x9E3779B97F4A7C15u;
}

env::TimeNs EventLoop::monotonic_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              start_)
      .count();
}

uint64_t EventLoop::wall_ms() const {
  return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count());
}

env::Timers::TimerId EventLoop::after(env::TimeNs delay, std::function<void()> fn) {
  const TimerId id = next_timer_++;
  const env::TimeNs due = monotonic_ns() + std::max<env::TimeNs>(0, delay);
  timers_.emplace(std::make_pair(due, id), std::move(fn));
  timer_due_.emplace(id, due);
  return id;
}

void EventLoop::cancel(TimerId id) {
  auto it = timer_due_.find(id);
  if (it == timer_due_.end()) return;
  timers_.erase({it->second, id});
  timer_due_.erase(it);
}

uint64_t EventLoop::next_u64() {  // xoshiro256**
  const uint64_t result = rotl(rng_[1] * 5, 7) * 9;
  const uint64_t t = rng_[1] << 17;
  rng_[2] ^= rng_[0];
  rng_[3] ^= rng_[1];
  rng_[1] ^= rng_[2];
  rng_[0] ^= rng_[3];
  rng_[2] ^= t;
  rng_[3] = rotl(rng_[3], 45);
  return result;
}

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    posted_.push_back(std::move(fn));
  }
  wake_.notify_one();
}

bool EventLoop::run_and_wait(std::function<void()> fn) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  post([fn = std::move(fn), done] {
    fn();
    done->set_value();
  });
  // A stopped loop never runs the task: poll so that the caller does not hang forever.
  while (finished.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
    if (stopped()) return false;
  }
  return true;
}

void EventLoop::add_poller(std::function<void()> poll, std::function<bool()> ready) {
  pollers_.push_back(std::move(poll));
  poller_ready_.push_back(std::move(ready));
}

bool EventLoop::has_work() {
  {
    std::lock_guard lock(mu_);
    if (!posted_.empty()) return true;
  }
  const env::TimeNs now = monotonic_ns();
  if (!timers_.empty() && timers_.begin()->first.first <= now) return true;
  if (now - last_locked_ns_ >= std::chrono::nanoseconds(kMaxUnlocked).count()) return true;
  for (const auto& ready : poller_ready_) {
    if (!ready || ready()) return true;
  }
  return false;
}

void EventLoop::run() {
  apply_openmp_policy();  // the engine's FAISS calls (adds, training) run on this thread
  while (!stopped()) iterate();
}

bool EventLoop::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (stopped() || std::chrono::steady_clock::now() >= deadline) return done();
    iterate();
  }
  return true;
}

void EventLoop::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
}

bool EventLoop::stopped() const {
  std::lock_guard lock(mu_);
  return stop_;
}

void EventLoop::run_due_work() {
  std::deque<std::function<void()>> tasks;
  {
    std::lock_guard lock(mu_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
  // Timers due now; a timer added by a callback for "now" runs on the next iteration.
  const env::TimeNs now = monotonic_ns();
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto node = timers_.extract(timers_.begin());
    timer_due_.erase(node.key().second);
    node.mapped()();
  }
  for (auto& poll : pollers_) poll();
}

void EventLoop::iterate() {
  if (has_work()) {
    std::unique_lock exclusive(engine_lock_);
    last_locked_ns_ = monotonic_ns();
    run_due_work();
  }
  std::chrono::nanoseconds sleep = poll_interval_;
  if (!timers_.empty()) {
    const env::TimeNs until_timer = timers_.begin()->first.first - monotonic_ns();
    sleep = std::min<std::chrono::nanoseconds>(sleep, std::chrono::nanoseconds(until_timer));
  }
  if (sleep <= std::chrono::nanoseconds::zero()) return;
  std::unique_lock lock(mu_);
  wake_.wait_for(lock, sleep, [this] { return stop_ || !posted_.empty(); });
}

}  // namespace meridian::real
