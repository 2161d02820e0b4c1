#include "engine/node/active_segment.h"

#include <gtest/gtest.h>

namespace meridian::node {
namespace {

Mutation record(uint64_t sequence) {
  Mutation m;
  m.collection = "docs";
  m.vector_id = "v" + std::to_string(sequence);
  m.embedding = {1.0f, 2.0f};
  m.timestamp = sequence;
  m.origin_region = 1;
  m.origin_sequence = sequence;
  return m;
}

TEST(ActiveSegment, FollowsOnlyTheSnapshotItWasSealedAfter) {
  ActiveSegment a;
  EXPECT_FALSE(a.follows(""));  // no sealed snapshot yet: the first checkpoint writes one
  a.seal("docs.0.1.seg", 1000);
  a.append(record(1), 100);
  a.append(record(2), 100);
  EXPECT_TRUE(a.follows("docs.0.1.seg"));
  EXPECT_FALSE(a.follows("docs.0.0.seg"));  // e.g. the checkpoint that wrote .1 failed
  ASSERT_EQ(a.records().size(), 2u);
  EXPECT_EQ(a.records()[1], record(2));
  EXPECT_EQ(a.record_bytes(), 200u);
}

TEST(ActiveSegment, PastTheThresholdTheBufferIsDroppedUntilTheNextSnapshot) {
  ActiveSegment a;
  a.seal("docs.0.1.seg", 4 * ActiveSegment::kMinThresholdBytes);  // threshold = 64 KiB
  EXPECT_EQ(a.threshold_bytes(), ActiveSegment::kMinThresholdBytes);
  a.append(record(1), ActiveSegment::kMinThresholdBytes);  // at the threshold: kept
  EXPECT_TRUE(a.follows("docs.0.1.seg"));
  a.append(record(2), 1);
  EXPECT_FALSE(a.intact());
  EXPECT_FALSE(a.follows("docs.0.1.seg"));
  EXPECT_TRUE(a.records().empty());
  a.append(record(3), 1);  // stays dropped
  EXPECT_TRUE(a.records().empty());
  a.seal("docs.0.2.seg", 8 * ActiveSegment::kMinThresholdBytes);
  EXPECT_EQ(a.threshold_bytes(), 2 * ActiveSegment::kMinThresholdBytes);  // a quarter
  EXPECT_TRUE(a.follows("docs.0.2.seg"));
}

TEST(ActiveSegment, ANonRecordChangeDropsTheBuffer) {
  ActiveSegment a;
  a.seal("docs.0.1.seg", 1000);
  a.append(record(1), 100);
  a.drop();
  EXPECT_FALSE(a.follows("docs.0.1.seg"));
  EXPECT_EQ(a.record_bytes(), 0u);
}

}  // namespace
}  // namespace meridian::node
