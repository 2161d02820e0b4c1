#include "sim/sim_files.h"

#include <gtest/gtest.h>

namespace meridian::sim {
namespace {

struct Fixture {
  Scheduler scheduler;
  SimDisk disk{scheduler};
  SimFiles files{disk, Rng(7)};
};

TEST(SimFiles, WriteBecomesVisibleAndDurableOnlyWhenTheDiskCompletesIt) {
  Fixture f;
  int done = 0;
  f.files.write_atomically("a", "new", [&](Status s) {
    EXPECT_TRUE(s.is_ok());
    ++done;
  });
  EXPECT_EQ(f.files.read("a").status().code(), StatusCode::kNotFound);  // not yet
  EXPECT_EQ(done, 0);
  f.scheduler.run_until(1 * env::kSecond);
  EXPECT_EQ(done, 1);
  EXPECT_EQ(*f.files.read("a"), "new");
  EXPECT_EQ(f.files.list(), std::vector<std::string>{"a"});
  f.files.remove("a");
  EXPECT_TRUE(f.files.list().empty());
}

TEST(SimFiles, CrashLosesPendingWritesAndNeverCallsBack) {
  Fixture f;
  f.files.write_atomically("a", "old", [](Status) {});
  f.scheduler.run_until(1 * env::kSecond);
  f.disk.set_stalled(true);
  bool called = false;
  f.files.write_atomically("a", "new", [&](Status) { called = true; });
  f.files.crash(SimFiles::CrashMode::kLoseUnsynced);
  f.disk.set_stalled(false);
  f.scheduler.run_until(2 * env::kSecond);
  EXPECT_FALSE(called);
  EXPECT_EQ(*f.files.read("a"), "old");
  EXPECT_EQ(f.files.stats().writes_lost, 1u);
}

TEST(SimFiles, TearLeavesAPrefixOfTheOldestPendingWriteAndLosesTheRest) {
  Fixture f;
  f.disk.set_stalled(true);
  const std::string contents(1000, 'x');
  f.files.write_atomically("a", contents, [](Status) {});
  f.files.write_atomically("b", contents, [](Status) {});
  f.files.crash(SimFiles::CrashMode::kTear);
  f.disk.set_stalled(false);
  f.scheduler.run_until(1 * env::kSecond);
  ASSERT_TRUE(f.files.read("a").is_ok());
  EXPECT_LT(f.files.read("a")->size(), contents.size());
  EXPECT_EQ(f.files.read("b").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(f.files.stats().writes_torn, 1u);
}

TEST(SimFiles, KeepUnsyncedLetsPendingWritesLandSilently) {
  Fixture f;
  f.disk.set_stalled(true);
  bool called = false;
  f.files.write_atomically("a", "new", [&](Status) { called = true; });
  f.files.crash(SimFiles::CrashMode::kKeepUnsynced);
  f.disk.set_stalled(false);
  f.scheduler.run_until(1 * env::kSecond);
  EXPECT_FALSE(called);
  EXPECT_EQ(*f.files.read("a"), "new");
}

TEST(SimFiles, FlipByteChangesOneByte) {
  Fixture f;
  f.files.write_atomically("a", "abc", [](Status) {});
  f.scheduler.run_until(1 * env::kSecond);
  EXPECT_TRUE(f.files.flip_byte("a", 1));
  EXPECT_NE(*f.files.read("a"), "abc");
  EXPECT_FALSE(f.files.flip_byte("a", 3));
  EXPECT_FALSE(f.files.flip_byte("missing", 0));
}

}  // namespace
}  // namespace meridian::sim
