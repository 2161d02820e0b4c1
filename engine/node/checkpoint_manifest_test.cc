#include "engine/node/checkpoint_manifest.h"

#include <gtest/gtest.h>

namespace meridian::node {
namespace {

CheckpointManifest sample() {
  CheckpointManifest m;
  m.checkpoint = 42;
  m.hlc = 0x0001'8000'0000'0007ull;
  m.segments[{"docs", 0}] = segment_file_name("docs", 0, 41);
  m.segments[{"docs", 3}] = segment_file_name("docs", 3, 42);
  m.records[{"docs", 0}] = records_file_name("docs", 0, 42);
  m.positions[{"docs", 1, 0}] = 1200;
  m.positions[{"docs", 2, 3}] = 7;
  m.collected_below[{"docs", 3}] = 0x0001'8000'0000'0002ull;
  return m;
}

TEST(CheckpointManifest, RoundTripsAndIsReadableText) {
  const std::string text = encode_manifest(sample());
  EXPECT_EQ(text.substr(0, 20), "meridian-manifest 1\n");
  EXPECT_NE(text.find("segment docs 3 docs.3.42.seg\n"), std::string::npos);
  EXPECT_NE(text.find("records docs 0 docs.0.42.rec\n"), std::string::npos);
  EXPECT_NE(text.find("position docs 1 0 1200\n"), std::string::npos);
  EXPECT_NE(text.find("collected docs 3 " + std::to_string(0x0001'8000'0000'0002ull) + "\n"),
            std::string::npos);
  Result<CheckpointManifest> back = decode_manifest(text);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, sample());
}

TEST(CheckpointManifest, EveryFlippedByteAndEveryTruncationIsRejected) {
  const std::string text = encode_manifest(sample());
  for (size_t i = 0; i < text.size(); ++i) {
    std::string bad = text;
    bad[i] = char(bad[i] ^ 0x01);
    EXPECT_FALSE(decode_manifest(bad).is_ok()) << "flip at " << i;
    EXPECT_FALSE(decode_manifest(text.substr(0, i)).is_ok()) << "cut at " << i;
  }
}

TEST(CheckpointManifest, AManifestWithoutRecordsLinesStillReads) {
  CheckpointManifest old = sample();
  old.records.clear();  // as written before active segments
  Result<CheckpointManifest> back = decode_manifest(encode_manifest(old));
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, old);
}

TEST(CheckpointManifest, RecordsWithoutTheirSnapshotAreRejected) {
  CheckpointManifest m = sample();
  m.records[{"docs", 5}] = records_file_name("docs", 5, 42);
  Result<CheckpointManifest> back = decode_manifest(encode_manifest(m));
  ASSERT_FALSE(back.is_ok());
  EXPECT_NE(back.status().to_string().find("docs.5.42.rec without a segment"), std::string::npos)
      << back.status().to_string();
}

TEST(CheckpointManifest, FileNamesParseBack) {
  EXPECT_EQ(parse_manifest_file_name(manifest_file_name(7)), 7u);
  EXPECT_LT(manifest_file_name(9), manifest_file_name(10));  // zero-padded: sorts by number
  EXPECT_EQ(parse_manifest_file_name("manifest.x"), 0u);
  EXPECT_EQ(parse_manifest_file_name("docs.1.2.seg"), 0u);
}

}  // namespace
}  // namespace meridian::node
