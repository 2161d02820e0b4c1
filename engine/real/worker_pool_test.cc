#include "engine/real/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <thread>

namespace meridian::real {
namespace {

TEST(WorkerPool, RunsEveryJobOnItsWorkers) {
  WorkerPool pool("test", 3, 1000);
  EXPECT_EQ(pool.threads(), 3u);
  std::atomic<int> ran{0};
  std::mutex mu;
  std::set<std::thread::id> threads;
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(pool.submit(
        [&] {
          std::lock_guard lock(mu);
          threads.insert(std::this_thread::get_id());
          ++ran;
        },
        [] { ADD_FAILURE() << "cancelled"; }));
  }
  while (ran.load() < 300) std::this_thread::yield();
  pool.stop();
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
  EXPECT_LE(threads.size(), 3u);
}

TEST(WorkerPool, BoundsTheQueueAndCancelsWhatIsLeftAtStop) {
  WorkerPool pool("test", 1, 2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  // Occupies the only worker until released.
  ASSERT_TRUE(pool.submit(
      [&] {
        started.set_value();
        released.wait();
      },
      [] {}));
  started.get_future().wait();
  std::atomic<int> ran{0}, cancelled{0};
  EXPECT_TRUE(pool.submit([&] { ++ran; }, [&] { ++cancelled; }));
  EXPECT_TRUE(pool.submit([&] { ++ran; }, [&] { ++cancelled; }));
  EXPECT_FALSE(pool.submit([&] { ++ran; }, [&] { ++cancelled; }));  // two already waiting
  std::thread stopper([&] { pool.stop(); });
  // stop() cancels the queued jobs at once, then waits for the running one.
  while (cancelled.load() < 2) std::this_thread::yield();
  release.set_value();
  stopper.join();
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(cancelled.load(), 2);
  EXPECT_FALSE(pool.submit([&] { ++ran; }, [&] { ++cancelled; }));
  pool.stop();  // idempotent
}

}  // namespace
}  // namespace meridian::real
