#include "engine/real/replication_sources.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "engine/node/checkpoint_manifest.h"

namespace meridian::real {
namespace {

using Sources = std::map<std::string, ReplicationSource>;
constexpr ReplicationSource kMirror = ReplicationSource::kMirror;
constexpr ReplicationSource kDirect = ReplicationSource::kDirect;

class ReplicationSourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/meridian-sources-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto opened = PosixFiles::open(loop_, dir_);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    files_ = std::move(opened).value();
  }
  void TearDown() override {
    files_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string recorded() { return files_->read("REPLICATION").value(); }
  EventLoop loop_;
  std::string dir_;
  std::unique_ptr<PosixFiles> files_;
};

TEST_F(ReplicationSourcesTest, AFreshDirectoryTakesTheConfigAndKeepsItsRegionsSources) {
  ASSERT_TRUE(check_replication_sources(*files_, {{"b", kDirect}, {"c", kMirror}}).is_ok());
  EXPECT_EQ(recorded(), "b direct\nc mirror\n");
  // The same sources again, and a region added later (no positions yet: any source).
  ASSERT_TRUE(check_replication_sources(*files_, {{"b", kDirect}, {"c", kMirror}}).is_ok());
  ASSERT_TRUE(
      check_replication_sources(*files_, {{"b", kDirect}, {"c", kMirror}, {"d", kDirect}}).is_ok());
  EXPECT_EQ(recorded(), "b direct\nc mirror\nd direct\n");

  Status changed = check_replication_sources(*files_, {{"b", kMirror}, {"c", kMirror}});
  EXPECT_EQ(changed.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(changed.message().find("region b is read mirror in this config"), std::string::npos)
      << changed.message();
  EXPECT_NE(changed.message().find("taken reading it direct"), std::string::npos);
  EXPECT_EQ(recorded(), "b direct\nc mirror\nd direct\n");  // unchanged by a refusal
  // A region dropped from the config keeps its line, so its return is checked too.
  ASSERT_TRUE(check_replication_sources(*files_, {{"c", kMirror}}).is_ok());
  EXPECT_EQ(check_replication_sources(*files_, {{"d", kMirror}}).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(ReplicationSourcesTest, CheckpointsWithoutTheFileWereTakenThroughTheMirror) {
  std::ofstream(dir_ + "/" + node::manifest_file_name(7)) << "a manifest";
  EXPECT_EQ(check_replication_sources(*files_, {{"b", kDirect}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(files_->read("REPLICATION").is_ok());
  ASSERT_TRUE(check_replication_sources(*files_, {{"b", kMirror}}).is_ok());
  EXPECT_EQ(recorded(), "b mirror\n");
}

TEST_F(ReplicationSourcesTest, AnUnreadableFileIsReportedNotOverwritten) {
  std::ofstream(dir_ + "/REPLICATION") << "b direct\nc sideways\n";
  Status s = check_replication_sources(*files_, {{"b", kDirect}});
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("REPLICATION:2"), std::string::npos) << s.message();
  EXPECT_EQ(recorded(), "b direct\nc sideways\n");
}

}  // namespace
}  // namespace meridian::real
