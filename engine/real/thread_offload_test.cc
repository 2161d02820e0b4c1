#include "engine/real/thread_offload.h"

#include <gtest/gtest.h>

#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace meridian::real {
namespace {

// A loop on a thread of its own, stopped at the end of the test.
struct RunningLoop {
  EventLoop loop;
  std::thread thread{[this] { loop.run(); }};
  ~RunningLoop() {
    loop.stop();
    thread.join();
  }
};

TEST(ThreadOffload, RunsWorkOffTheLoopAndAnswersOnIt) {
  RunningLoop l;
  ThreadOffload offload(l.loop);
  std::promise<std::thread::id> loop_id;
  l.loop.post([&] { loop_id.set_value(std::this_thread::get_id()); });
  const std::thread::id loop_thread = loop_id.get_future().get();

  std::promise<std::thread::id> worked_on;
  std::promise<std::pair<std::optional<std::string>, std::thread::id>> answered;
  l.loop.post([&] {
    offload.run(
        [&] {
          worked_on.set_value(std::this_thread::get_id());
          return std::string("digest");
        },
        [&](std::optional<std::string> result) {
          answered.set_value({result, std::this_thread::get_id()});
        });
  });
  EXPECT_NE(worked_on.get_future().get(), loop_thread);
  auto [result, on] = answered.get_future().get();
  EXPECT_EQ(result, std::optional<std::string>("digest"));
  EXPECT_EQ(on, loop_thread);
  offload.stop();
}

// Bounded: work beyond the queue, and work still queued at stop(), is answered with nothing,
// on the loop.
TEST(ThreadOffload, DropsWorkBeyondItsQueueAndAtStop) {
  RunningLoop l;
  ThreadOffload offload(l.loop, /*max_queued=*/1);
  std::promise<void> release, started;
  std::shared_future<void> released = release.get_future().share();
  offload.run(
      [&] {
        started.set_value();
        released.wait();
        return std::string("first");
      },
      [](std::optional<std::string>) {});
  started.get_future().wait();  // the thread is busy: the next one waits in the queue
  std::vector<std::promise<std::optional<std::string>>> answers(2);
  offload.run([] { return std::string("queued"); },
              [&](std::optional<std::string> r) { answers[0].set_value(r); });
  offload.run([] { return std::string("too many"); },
              [&](std::optional<std::string> r) { answers[1].set_value(r); });
  EXPECT_EQ(answers[1].get_future().get(), std::nullopt);
  std::thread stopper([&] { offload.stop(); });
  EXPECT_EQ(answers[0].get_future().get(), std::nullopt);  // dropped by stop()
  release.set_value();
  stopper.join();
}

}  // namespace
}  // namespace meridian::real
