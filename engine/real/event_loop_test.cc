#include "engine/real/event_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace meridian::real {
namespace {

TEST(EventLoop, RunsPostedTasksInOrderOnTheLoopThread) {
  EventLoop loop;
  std::vector<int> seen;
  std::thread::id loop_thread;
  std::thread runner([&] {
    loop_thread = std::this_thread::get_id();
    loop.run();
  });
  for (int i = 0; i < 100; ++i) loop.post([&seen, i] { seen.push_back(i); });
  std::thread::id ran_on;
  ASSERT_TRUE(loop.run_and_wait([&] { ran_on = std::this_thread::get_id(); }));
  loop.stop();
  runner.join();
  EXPECT_EQ(ran_on, loop_thread);
  ASSERT_EQ(seen.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[i], i);
}

TEST(EventLoop, TimersFireInDueOrderAndCancelledOnesDoNot) {
  EventLoop loop;
  std::vector<int> fired;
  loop.after(20 * env::kMillisecond, [&] { fired.push_back(2); });
  const auto cancelled = loop.after(5 * env::kMillisecond, [&] { fired.push_back(99); });
  loop.after(10 * env::kMillisecond, [&] { fired.push_back(1); });
  loop.cancel(cancelled);
  const env::TimeNs start = loop.monotonic_ns();
  ASSERT_TRUE(loop.run_until([&] { return fired.size() == 2; }, std::chrono::seconds(5)));
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
  EXPECT_GE(loop.monotonic_ns() - start, 20 * env::kMillisecond);
}

TEST(EventLoop, PollersRunEveryIteration) {
  EventLoop loop;
  int polls = 0;
  loop.add_poller([&] { ++polls; });
  ASSERT_TRUE(loop.run_until([&] { return polls >= 10; }, std::chrono::seconds(5)));
}

TEST(EventLoop, RunAndWaitReturnsFalseOnceStopped) {
  EventLoop loop;
  loop.stop();
  EXPECT_FALSE(loop.run_and_wait([] {}));
}

TEST(EventLoop, RandomWordsDiffer) {
  EventLoop loop;
  EXPECT_NE(loop.next_u64(), loop.next_u64());
  EXPECT_GT(loop.wall_ms(), uint64_t{1'600'000'000'000});
}

}  // namespace
}  // namespace meridian::real
