#include "engine/real/memory_log.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace meridian::real {
namespace {

using namespace std::chrono_literals;

TEST(MemoryLog, ProduceReportsOffsetsInOrderAndNeverSynchronously) {
  EventLoop loop;
  MemoryLog log(loop);
  std::vector<uint64_t> offsets;
  for (int i = 0; i < 3; ++i) {
    log.produce("wal.docs", 2, "k", "v" + std::to_string(i), [&](Status s, uint64_t offset) {
      ASSERT_TRUE(s.is_ok());
      offsets.push_back(offset);
    });
  }
  EXPECT_TRUE(offsets.empty());
  EXPECT_EQ(log.end_offset("wal.docs", 2), 3u);
  EXPECT_EQ(log.end_offset("wal.docs", 0), 0u);
  ASSERT_TRUE(loop.run_until([&] { return offsets.size() == 3; }, 2s));
  EXPECT_EQ(offsets, (std::vector<uint64_t>{0, 1, 2}));
}

TEST(MemoryLog, SubscriptionDeliversBacklogThenNewRecordsInOrder) {
  EventLoop loop;
  MemoryLog log(loop);
  auto ignore = [](Status, uint64_t) {};
  log.produce("t", 0, "", "a", ignore);
  log.produce("t", 0, "", "b", ignore);
  log.produce("t", 1, "", "other partition", ignore);
  std::vector<std::string> seen;
  log.subscribe("t", 0, 1, [&](const env::LogRecord& r) {
    EXPECT_EQ(r.offset, seen.size() + 1);
    seen.push_back(r.value);
  });
  log.subscribe("not.yet", 0, 0, [&](const env::LogRecord& r) { seen.push_back(r.value); });
  ASSERT_TRUE(loop.run_until([&] { return seen.size() == 1; }, 2s));
  log.produce("t", 0, "", "c", ignore);
  log.produce("not.yet", 0, "", "late topic", ignore);
  ASSERT_TRUE(loop.run_until([&] { return seen.size() == 3; }, 2s));
  EXPECT_EQ(seen, (std::vector<std::string>{"b", "c", "late topic"}));
}

TEST(MemoryLog, ResubscribingReplacesAndFullLogFailsProduce) {
  EventLoop loop;
  MemoryLog log(loop, MemoryLogOptions{.max_bytes = 8});
  int first = 0, second = 0;
  log.subscribe("t", 0, 0, [&](const env::LogRecord&) { ++first; });
  log.subscribe("t", 0, 0, [&](const env::LogRecord&) { ++second; });
  Status last;
  log.produce("t", 0, "k", "1234", [&](Status s, uint64_t) { last = s; });
  ASSERT_TRUE(loop.run_until([&] { return second == 1; }, 2s));
  EXPECT_TRUE(last.is_ok());
  bool failed = false;
  log.produce("t", 0, "k", "5678",
              [&](Status s, uint64_t) { failed = s.code() == StatusCode::kUnavailable; });
  ASSERT_TRUE(loop.run_until([&] { return failed; }, 2s));
  EXPECT_EQ(first, 0);
  EXPECT_EQ(log.end_offset("t", 0), 1u);
}

}  // namespace
}  // namespace meridian::real
