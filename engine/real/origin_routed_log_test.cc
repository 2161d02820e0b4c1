#include "engine/real/origin_routed_log.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "engine/real/memory_log.h"

namespace meridian::real {
namespace {

using namespace std::chrono_literals;

// Region `a`'s node reads `b` directly from b's cluster and `c` through the mirror in its own.
TEST(OriginRoutedLog, DirectOriginsAreReadFromTheirClusterUnderTheMirroredName) {
  EventLoop loop;
  MemoryLog own(loop), b_cluster(loop);
  OriginRoutedLog log(own, {{"b", &b_cluster}});
  auto ignore = [](Status, uint64_t) {};
  b_cluster.produce("wal.docs", 1, "id-1", "from b 0", ignore);
  b_cluster.produce("wal.docs", 1, "id-2", "from b 1", ignore);
  own.produce("c.wal.docs", 1, "id-3", "c's record, mirrored", ignore);
  own.produce("b.wal.docs", 1, "stale", "a mirror copy: must not be read", ignore);

  std::vector<env::LogRecord> from_b, from_c;
  log.subscribe("b.wal.docs", 1, 1, [&](const env::LogRecord& r) { from_b.push_back(r); });
  log.subscribe("c.wal.docs", 1, 0, [&](const env::LogRecord& r) { from_c.push_back(r); });
  ASSERT_TRUE(loop.run_until([&] { return from_b.size() == 1 && from_c.size() == 1; }, 2s));
  EXPECT_EQ(from_b[0].topic, "b.wal.docs");  // the name the engine subscribed to
  EXPECT_EQ(from_b[0].offset, 1u);           // b's own offsets
  EXPECT_EQ(from_b[0].key, "id-2");
  EXPECT_EQ(from_b[0].value, "from b 1");
  EXPECT_EQ(from_c[0].topic, "c.wal.docs");
  EXPECT_EQ(from_c[0].value, "c's record, mirrored");

  // Offsets are asked where the records are read.
  b_cluster.produce("wal.docs", 1, "id-4", "from b 2", ignore);
  EXPECT_EQ(log.end_offset("b.wal.docs", 1), 3u);
  EXPECT_EQ(log.end_offset("c.wal.docs", 1), 1u);
  ASSERT_TRUE(loop.run_until([&] { return from_b.size() == 2; }, 2s));
  EXPECT_EQ(from_b[1].value, "from b 2");
}

TEST(OriginRoutedLog, WritesAndOwnTopicsStayLocal) {
  EventLoop loop;
  MemoryLog own(loop), b_cluster(loop);
  OriginRoutedLog log(own, {{"b", &b_cluster}});
  uint64_t acked = 99;
  log.produce("wal.docs", 0, "k", "v", [&](Status s, uint64_t offset) {
    EXPECT_TRUE(s.is_ok());
    acked = offset;
  });
  // A topic whose prefix only looks like a region (no '.' after it, or another region).
  log.produce("b", 0, "k", "not b's cluster either", [](Status, uint64_t) {});
  ASSERT_TRUE(loop.run_until([&] { return acked == 0; }, 2s));
  EXPECT_EQ(own.end_offset("wal.docs", 0), 1u);
  EXPECT_EQ(own.end_offset("b", 0), 1u);
  EXPECT_EQ(b_cluster.end_offset("wal.docs", 0), 0u);
  EXPECT_EQ(log.end_offset("wal.docs", 0), 1u);
  EXPECT_EQ(log.end_offset("b", 0), 1u);
  std::vector<std::string> own_records;
  log.subscribe("wal.docs", 0, 0, [&](const env::LogRecord& r) { own_records.push_back(r.topic); });
  ASSERT_TRUE(loop.run_until([&] { return own_records.size() == 1; }, 2s));
  EXPECT_EQ(own_records[0], "wal.docs");
}

}  // namespace
}  // namespace meridian::real
