#include "engine/node/own_writer_check.h"

#include <gtest/gtest.h>

namespace meridian::node {
namespace {

TEST(OwnWriterCheck, RecordsBeforeTheStartOffsetAreAnEarlierIncarnations) {
  OwnWriterCheck check(10);
  check.start(5);
  EXPECT_EQ(check.check(0, 1, 0xaa), "");
  EXPECT_EQ(check.check(4, 9, 0xbb), "");
  // From offset 5 on, only what this incarnation issued.
  EXPECT_NE(check.check(5, 10, 0xcc), "");
}

TEST(OwnWriterCheck, OwnRecordsAndTheirResendsPass) {
  OwnWriterCheck check(10);
  check.start(0);
  for (uint64_t s = 1; s <= 4; ++s) check.issued(s, uint32_t(100 + s));
  EXPECT_EQ(check.check(0, 1, 101), "");
  EXPECT_EQ(check.check(1, 2, 102), "");
  // An append failed after reaching the log: the producer re-sends from 2.
  EXPECT_EQ(check.check(2, 2, 102), "");
  EXPECT_EQ(check.check(3, 3, 103), "");
  EXPECT_EQ(check.check(4, 4, 104), "");
  // The consumer delivers offsets 0..4 again (say after reconnecting): checked already.
  EXPECT_EQ(check.check(0, 1, 101), "");
}

TEST(OwnWriterCheck, AnotherWritersRecordIsNamed) {
  OwnWriterCheck check(10);
  check.start(7);
  check.issued(3, 0x1111);
  check.issued(4, 0x2222);
  // Same sequence, other bytes: another node issued sequence 3 as well.
  EXPECT_EQ(check.check(7, 3, 0x9999),
            "sequence 3 (offset 7), appended after this node started, holds another record than "
            "the one this node wrote");
  // A sequence this node has not issued yet (a writer that is ahead of it).
  EXPECT_EQ(check.check(8, 5, 0x3333),
            "sequence 5 (offset 8), appended after this node started, is past the last this node "
            "issued (4)");
  // One below the first this node issued (a writer that is behind it, or a late record of an
  // earlier incarnation).
  EXPECT_EQ(check.check(9, 2, 0x4444),
            "sequence 2 (offset 9), appended after this node started, is not one this node "
            "issued (its earliest kept is 3)");
}

// Two copies of one sequence: whichever was read second is a duplicate everywhere, a write lost.
TEST(OwnWriterCheck, CountsSequencesBothWritersTookOnceEach) {
  OwnWriterCheck check(10);
  check.start(0);
  for (uint64_t s = 1; s <= 4; ++s) check.issued(s, uint32_t(100 + s));
  // 1: the other writer's copy first, then this node's (this node's write is the one lost).
  EXPECT_NE(check.check(0, 1, 0x999), "");
  EXPECT_EQ(check.collisions(), 0u);  // this node's copy may never reach the log
  EXPECT_EQ(check.check(1, 1, 101), "");
  EXPECT_EQ(check.collisions(), 1u);
  // 2: this node's copy first, then the other's, re-sent twice: still one write lost.
  EXPECT_EQ(check.check(2, 2, 102), "");
  EXPECT_NE(check.check(3, 2, 0x888), "");
  EXPECT_NE(check.check(4, 2, 0x888), "");
  EXPECT_EQ(check.collisions(), 2u);
  // 3: this node's copy re-sent: no collision.
  EXPECT_EQ(check.check(5, 3, 103), "");
  EXPECT_EQ(check.check(6, 3, 103), "");
  // Records of sequences this node never issued collide with nothing of its own.
  EXPECT_NE(check.check(7, 9, 0x777), "");
  EXPECT_EQ(check.collisions(), 2u);
}

TEST(OwnWriterCheck, NothingIssuedYetMeansEveryNewRecordIsForeign) {
  OwnWriterCheck check(10);
  check.start(0);
  EXPECT_EQ(check.check(0, 1, 0x1),
            "sequence 1 (offset 0), appended after this node started, is not one this node "
            "issued (its earliest kept is none)");
}

TEST(OwnWriterCheck, KeepsChecksumsOnlyAsFarBackAsAResendCanReach) {
  OwnWriterCheck check(3);
  check.start(0);
  for (uint64_t s = 1; s <= 100; ++s) check.issued(s, uint32_t(s));
  for (uint64_t s = 1; s <= 50; ++s) ASSERT_EQ(check.check(s - 1, s, uint32_t(s)), "");
  // 47..50 are within the window of the highest read back (50), 51..100 not read back yet.
  EXPECT_EQ(check.kept(), 54u);
  EXPECT_EQ(check.check(50, 47, 47), "");  // a re-send of 47 is still recognised
  EXPECT_NE(check.check(51, 46, 46), "");  // 46 is beyond any re-send: someone else's
  for (uint64_t s = 51; s <= 100; ++s) ASSERT_EQ(check.check(s + 1, s, uint32_t(s)), "");
  EXPECT_EQ(check.kept(), 4u);
  // Issuing continues after the kept ones.
  check.issued(101, 101);
  EXPECT_EQ(check.check(102, 101, 101), "");
}

TEST(OwnWriterCheck, SkippedSequencesAreNeverThisNodes) {
  OwnWriterCheck check(10);
  check.start(0);
  check.issued(1, 11);
  check.issued(4, 44);  // 2 and 3 were issued elsewhere (the numbering moved past them)
  EXPECT_EQ(check.check(0, 1, 11), "");
  EXPECT_EQ(check.check(1, 2, 22),
            "sequence 2 (offset 1), appended after this node started, is one this node skipped "
            "and never issued");
  EXPECT_EQ(check.check(2, 4, 44), "");
  // A jump further than any re-send reaches starts afresh.
  check.issued(100, 1000);
  EXPECT_EQ(check.kept(), 1u);
  EXPECT_EQ(check.check(3, 100, 1000), "");
}

}  // namespace
}  // namespace meridian::node
