#include "sim/scheduler.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/rng.h"

namespace meridian::sim {
namespace {

TEST(Scheduler, EventsRunInTimeOrder) {
  Scheduler s;
  std::vector<int> order;
  s.after(30, [&] { order.push_back(3); });
  s.after(10, [&] { order.push_back(1); });
  s.after(20, [&] { order.push_back(2); });
  EXPECT_EQ(s.run_until(100), 3u);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(Scheduler, SameTimeEventsRunInSchedulingOrder) {
  Scheduler s;
  std::vector<int> order;
  for (int i = 0; i < 100; ++i) s.at(50, [&order, i] { order.push_back(i); });
  s.run_until(50);
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(Scheduler, EventScheduledNowRunsAfterThoseAlreadyQueuedForNow) {
  Scheduler s;
  std::vector<std::string> order;
  s.at(10, [&] {
    order.push_back("a");
    s.after(0, [&] { order.push_back("a-child"); });
  });
  s.at(10, [&] { order.push_back("b"); });
  s.run_until(10);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "a-child"}));
}

TEST(Scheduler, StepRunsOneEventAndAdvancesTime) {
  Scheduler s;
  EXPECT_FALSE(s.step());
  int runs = 0;
  s.after(7, [&] { ++runs; });
  s.after(9, [&] { ++runs; });
  EXPECT_EQ(s.queued(), 2u);
  EXPECT_TRUE(s.step());
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(s.now(), 7);
  EXPECT_TRUE(s.step());
  EXPECT_EQ(s.now(), 9);
  EXPECT_FALSE(s.step());
  EXPECT_EQ(s.events_run(), 2u);
}

TEST(Scheduler, NegativeDelayAndPastTimeMeanNow) {
  Scheduler s;
  s.run_until(100);
  TimeNs seen_after = -1;
  TimeNs seen_at = -1;
  s.after(-5, [&] { seen_after = s.now(); });
  s.at(3, [&] { seen_at = s.now(); });
  s.run_until(100);
  EXPECT_EQ(seen_after, 100);
  EXPECT_EQ(seen_at, 100);
}

TEST(Scheduler, CancelPreventsTheEvent) {
  Scheduler s;
  int a = 0;
  int b = 0;
  const auto id = s.after(10, [&] { ++a; });
  s.after(20, [&] { ++b; });
  s.cancel(id);
  EXPECT_EQ(s.run_until(100), 1u);
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 1);
}

TEST(Scheduler, CancelFromInsideAnEarlierEvent) {
  Scheduler s;
  int late = 0;
  const auto id = s.after(20, [&] { ++late; });
  s.after(10, [&] { s.cancel(id); });
  s.run_until(100);
  EXPECT_EQ(late, 0);
}

TEST(Scheduler, CancelOfFiredOrUnknownIdIsHarmless) {
  Scheduler s;
  int runs = 0;
  const auto fired = s.after(1, [&] { ++runs; });
  s.run_until(5);
  ASSERT_EQ(runs, 1);
  s.cancel(fired);
  s.cancel(fired);
  s.cancel(0);
  s.cancel(123456789);
  // Later timers, including ones scheduled after the stale cancels, all run.
  for (int i = 0; i < 10; ++i) s.after(i, [&] { ++runs; });
  s.run_until(100);
  EXPECT_EQ(runs, 11);
}

TEST(Scheduler, CancelTwiceAndCancelAfterRunAreHarmless) {
  Scheduler s;
  int runs = 0;
  const auto id = s.after(10, [&] { ++runs; });
  s.cancel(id);
  s.cancel(id);
  s.after(10, [&] { ++runs; });
  s.run_until(20);
  EXPECT_EQ(runs, 1);
}

TEST(Scheduler, ManyCancelledTimersDoNotRunAndQueueDrains) {
  // The timeout pattern: each request arms a timer and cancels it when answered.
  Scheduler s;
  int timeouts = 0;
  int answers = 0;
  for (int i = 0; i < 10'000; ++i) {
    const auto timeout = s.after(1'000'000, [&] { ++timeouts; });
    s.after(i, [&, timeout] {
      ++answers;
      s.cancel(timeout);
    });
  }
  s.run_until(10'000'000);
  EXPECT_EQ(answers, 10'000);
  EXPECT_EQ(timeouts, 0);
  EXPECT_EQ(s.queued(), 0u);
  EXPECT_FALSE(s.step());
}

TEST(Scheduler, IdsAreUniqueAndNonZero) {
  Scheduler s;
  std::vector<env::Timers::TimerId> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back(s.after(i % 7, [] {}));
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_NE(ids[i], 0u);
    for (size_t j = i + 1; j < ids.size(); ++j) ASSERT_NE(ids[i], ids[j]);
  }
}

TEST(Scheduler, RunUntilAdvancesTimeAndStopsAtTheBound) {
  Scheduler s;
  EXPECT_EQ(s.run_until(1000), 0u);
  EXPECT_EQ(s.now(), 1000);
  std::vector<TimeNs> seen;
  s.at(1500, [&] { seen.push_back(s.now()); });
  s.at(2000, [&] { seen.push_back(s.now()); });  // exactly at the bound: runs
  s.at(2001, [&] { seen.push_back(s.now()); });
  EXPECT_EQ(s.run_until(2000), 2u);
  EXPECT_EQ(seen, (std::vector<TimeNs>{1500, 2000}));
  EXPECT_EQ(s.now(), 2000);
  // Time never goes backwards.
  s.run_until(10);
  EXPECT_EQ(s.now(), 2000);
  EXPECT_EQ(s.run_until(5000), 1u);
  EXPECT_EQ(seen.back(), 2001);
  EXPECT_EQ(s.now(), 5000);
}

TEST(Scheduler, RunUntilRunsEventsScheduledDuringTheRun) {
  Scheduler s;
  int chain = 0;
  std::function<void()> tick = [&] {
    if (++chain < 10) s.after(10, tick);
  };
  s.after(10, tick);
  EXPECT_EQ(s.run_until(55), 5u);
  EXPECT_EQ(chain, 5);
  s.run_until(1000);
  EXPECT_EQ(chain, 10);
}

TEST(Scheduler, CancelledTimersArePurgedLongBeforeTheirTime) {
  // Long timeouts that are almost always cancelled must not pile up in the queue.
  Scheduler s;
  env::Timers::TimerId timeout = 0;
  int timeouts = 0;
  for (int i = 0; i < 100'000; ++i) {
    s.cancel(timeout);
    timeout = s.after(env::kSecond, [&] { ++timeouts; });
    s.after(1, [] {});
    s.step();
  }
  EXPECT_LT(s.queued(), 1000u);
  s.run_until(10 * env::kSecond);
  EXPECT_EQ(timeouts, 1);  // only the last one was never cancelled
}

TEST(Scheduler, StaleCancelsOfFiredTimersAreHarmlessInBulk) {
  Scheduler s;
  std::vector<env::Timers::TimerId> fired;
  for (int i = 0; i < 1000; ++i) fired.push_back(s.after(i, [] {}));
  s.run_until(1000);
  int runs = 0;
  for (int i = 0; i < 10; ++i) s.after(5, [&] { ++runs; });
  for (auto id : fired) s.cancel(id);  // triggers purges with the live timers queued
  s.run_until(2000);
  EXPECT_EQ(runs, 10);
}

// Random schedules, cancels (of pending, fired and already cancelled ids) and steps, checked
// against a naive model: a map ordered by (time, id) and a set of cancelled ids.
TEST(Scheduler, MatchesANaiveModelUnderRandomOperations) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Rng rng = Rng::derive(seed, "scheduler-model");
    Scheduler s;
    std::map<std::pair<TimeNs, uint64_t>, size_t> model;  // (time, id) -> timer index
    std::set<uint64_t> cancelled;
    std::vector<uint64_t> ids;  // timer index -> id
    std::vector<size_t> ran;    // timer indexes in the order they ran
    std::vector<size_t> expected;
    auto model_step = [&] {
      while (!model.empty()) {
        const auto it = model.begin();
        const size_t index = it->second;
        const bool was_cancelled = cancelled.count(it->first.second) > 0;
        model.erase(it);
        if (!was_cancelled) {
          expected.push_back(index);
          return true;
        }
      }
      return false;
    };
    for (int op = 0; op < 5000; ++op) {
      const uint64_t kind = rng.below(10);
      if (kind < 5) {
        const TimeNs delay = TimeNs(rng.below(20));  // many ties
        const size_t index = ids.size();
        const uint64_t id = s.after(delay, [&ran, index] { ran.push_back(index); });
        ids.push_back(id);
        model[{s.now() + delay, id}] = index;
      } else if (kind < 8 && !ids.empty()) {
        const uint64_t id = ids[rng.below(ids.size())];
        s.cancel(id);
        cancelled.insert(id);
      } else {
        const bool had = model_step();
        ASSERT_EQ(s.step(), had) << "seed " << seed << " op " << op;
      }
    }
    while (model_step()) {
    }
    while (s.step()) {
    }
    ASSERT_EQ(ran, expected) << "seed " << seed;
  }
}

}  // namespace
}  // namespace meridian::sim
