#include "engine/real/posix_files.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <thread>

namespace meridian::real {
namespace {

class PosixFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/meridian-files-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // Writes and waits for the completion on the loop.
  Status write(PosixFiles& files, const std::string& name, const std::string& contents) {
    bool done = false;
    Status result;
    files.write_atomically(name, contents, [&](Status s) {
      result = std::move(s);
      done = true;
    });
    EXPECT_TRUE(loop_.run_until([&] { return done; }, std::chrono::seconds(10)));
    return result;
  }
  EventLoop loop_;
  std::string dir_;
};

TEST_F(PosixFilesTest, WritesReplaceAtomicallyAndReadBack) {
  auto files = PosixFiles::open(loop_, dir_ + "/node");
  ASSERT_TRUE(files.is_ok()) << files.status().to_string();
  ASSERT_TRUE(write(**files, "manifest.1", "one").is_ok());
  ASSERT_TRUE(write(**files, "manifest.1", std::string(100000, 'x')).is_ok());
  ASSERT_TRUE(write(**files, "docs.0.1.seg", "seg").is_ok());
  EXPECT_EQ((*files)->read("manifest.1")->size(), 100000u);
  EXPECT_EQ((*files)->list(), (std::vector<std::string>{"docs.0.1.seg", "manifest.1"}));
  // Removes run on the I/O thread in order with writes: once a later write is done, so is the
  // removal, and a file written again after its removal keeps its new contents.
  (*files)->remove("docs.0.1.seg");
  (*files)->remove("manifest.1");
  ASSERT_TRUE(write(**files, "manifest.1", "two").is_ok());
  EXPECT_EQ((*files)->read("docs.0.1.seg").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*(*files)->read("manifest.1"), "two");
}

TEST_F(PosixFilesTest, EncodedWritesEncodeOnTheLowPriorityIoThread) {
  auto files = PosixFiles::open(loop_, dir_);
  ASSERT_TRUE(files.is_ok());
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::thread::id encode_thread;
  int encode_nice = 0;
  bool done = false;
  Status result;
  uint64_t bytes = 0;
  (*files)->write_encoded(
      "docs.0.1.seg",
      [&] {
        encode_thread = std::this_thread::get_id();
        errno = 0;
        encode_nice = ::getpriority(PRIO_PROCESS, id_t(::syscall(SYS_gettid)));
        return std::string(70000, 's');
      },
      [&](Status s, uint64_t n) {
        EXPECT_EQ(std::this_thread::get_id(), loop_thread);  // completions run on the loop
        result = std::move(s);
        bytes = n;
        done = true;
      });
  ASSERT_TRUE(loop_.run_until([&] { return done; }, std::chrono::seconds(10)));
  EXPECT_TRUE(result.is_ok()) << result.to_string();
  EXPECT_EQ(bytes, 70000u);
  EXPECT_EQ((*files)->read("docs.0.1.seg")->size(), 70000u);
  EXPECT_NE(encode_thread, loop_thread);
  EXPECT_GT(encode_nice, ::getpriority(PRIO_PROCESS, 0));  // below the process's priority

  // A bad name is refused before anything is encoded.
  bool encoded = false;
  done = false;
  (*files)->write_encoded(
      "../x",
      [&] {
        encoded = true;
        return std::string("x");
      },
      [&](Status s, uint64_t) {
        result = std::move(s);
        done = true;
      });
  ASSERT_TRUE(loop_.run_until([&] { return done; }, std::chrono::seconds(10)));
  EXPECT_EQ(result.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(encoded);
}

TEST_F(PosixFilesTest, LeftoverTemporaryFilesAreIgnoredAndCleanedAtOpen) {
  std::ofstream(dir_ + "/docs.0.3.seg.tmp") << "half a write";
  auto files = PosixFiles::open(loop_, dir_);
  ASSERT_TRUE(files.is_ok());
  EXPECT_TRUE((*files)->list().empty());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/docs.0.3.seg.tmp"));
}

TEST_F(PosixFilesTest, OneOwnerPerDirectory) {
  auto first = PosixFiles::open(loop_, dir_);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  // The owner's write in progress, as a second node starting on the same directory would see it.
  std::ofstream(dir_ + "/docs.0.4.seg.tmp") << "being written";
  auto second = PosixFiles::open(loop_, dir_);
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(
      second.status().message().find("in use by another node (pid " + std::to_string(::getpid())),
      std::string::npos)
      << second.status().to_string();
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/docs.0.4.seg.tmp"));  // not the refused one's
  EXPECT_TRUE((*first)->list().empty());  // LOCK is not a file of the store

  (*first).reset();  // the lock goes with its owner
  auto third = PosixFiles::open(loop_, dir_);
  ASSERT_TRUE(third.is_ok()) << third.status().to_string();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/docs.0.4.seg.tmp"));  // now a leftover
}

TEST_F(PosixFilesTest, BadNamesAndBadDirectoriesAreErrors) {
  auto files = PosixFiles::open(loop_, dir_);
  ASSERT_TRUE(files.is_ok());
  EXPECT_EQ(write(**files, "../escape", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*files)->read("a/b").status().code(), StatusCode::kInvalidArgument);
  std::ofstream(dir_ + "/plain") << "x";
  EXPECT_FALSE(PosixFiles::open(loop_, dir_ + "/plain").is_ok());
}

}  // namespace
}  // namespace meridian::real
