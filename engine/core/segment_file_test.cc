#include "engine/core/segment_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "engine/core/binary_io.h"
#include "engine/core/routing.h"
#include "engine/core/shard_snapshot.h"
#include "engine/core/test_mutations.h"

namespace meridian {
namespace {

using testing::erase;
using testing::upsert;

constexpr uint32_t kShards = 4;
constexpr uint32_t kDim = 16;

SegmentHeader header_for(uint32_t shard, SegmentKind kind = SegmentKind::kShardSnapshot) {
  SegmentHeader h;
  h.kind = kind;
  h.collection = "c";
  h.shard_index = shard;
  h.num_shards = kShards;
  h.dimension = kDim;
  return h;
}

std::vector<float> embedding(int i) {
  std::vector<float> e(kDim);
  for (uint32_t d = 0; d < kDim; ++d) e[d] = float(i) + 0.001f * float(d);
  return e;
}

// Shard `shard` of a collection with `n` candidate ids ("id-0".."id-<n-1>"), those that route
// there upserted once; `version` > 0 re-upserts every id with i % 97 == version % 97.
ShardReplica make_shard(uint32_t shard, int n, int version = 0) {
  ShardReplica r(shard);
  uint64_t seq = 0;
  for (int i = 0; i < n; ++i) {
    const std::string id = "id-" + std::to_string(i);
    if (shard_of(id, kShards) != shard) continue;
    (void)r.apply(upsert(id, embedding(i), 1000 + uint64_t(i), 1, ++seq));
  }
  if (version > 0) {
    for (int i = 0; i < n; ++i) {
      const std::string id = "id-" + std::to_string(i);
      if (shard_of(id, kShards) != shard || i % 97 != version % 97) continue;
      (void)r.apply(upsert(id, embedding(-i), 100000 + uint64_t(i), 2, ++seq));
    }
  }
  return r;
}

// (offset, length, crc) of each block, read from the footer's table.
struct BlockRef {
  uint64_t offset;
  uint32_t length;
  uint32_t crc;
};
std::vector<BlockRef> block_table(const std::string& file) {
  const uint64_t footer = binary_io::load_fixed<uint64_t>(file.data() + file.size() - 24);
  const uint32_t header = binary_io::load_fixed<uint32_t>(file.data() + 12);
  const uint32_t count = binary_io::load_fixed<uint32_t>(file.data() + footer + 16);
  std::vector<BlockRef> out;
  uint64_t offset = header;
  for (uint32_t i = 0; i < count; ++i) {
    const char* p = file.data() + footer + 20 + 8 * i;
    BlockRef b{offset, binary_io::load_fixed<uint32_t>(p), binary_io::load_fixed<uint32_t>(p + 4)};
    out.push_back(b);
    offset += b.length;
  }
  return out;
}

TEST(SegmentFileTest, SnapshotRoundTrips) {
  const ShardReplica r = make_shard(1, 2000);
  const std::string file = write_snapshot_segment(header_for(1), r);
  Result<Segment> seg = read_segment(file);
  ASSERT_TRUE(seg.is_ok()) << seg.status().to_string();
  EXPECT_EQ(seg->header, header_for(1));
  EXPECT_EQ(seg->entry_count, r.entry_count());
  ASSERT_TRUE(seg->replica.has_value());
  EXPECT_TRUE(*seg->replica == r);
  EXPECT_TRUE(seg->version_vector == r.version_vector());
  EXPECT_GT(seg->block_count, 3u);
  EXPECT_EQ(write_snapshot_segment(seg->header, *seg->replica), file);

  const SegmentSummary s = verify_segment(file);
  EXPECT_TRUE(s.status.is_ok()) << s.status.to_string();
  EXPECT_EQ(s.entry_count, r.entry_count());
  EXPECT_EQ(s.block_count, seg->block_count);
  EXPECT_EQ(s.version_vector, r.version_vector().to_string());
  EXPECT_EQ(s.file_bytes, file.size());
}

TEST(SegmentFileTest, BlocksStayWithinTheMaximum) {
  const std::string file = write_snapshot_segment(header_for(2), make_shard(2, 4000));
  for (const BlockRef& b : block_table(file)) {
    EXPECT_GT(b.length, 0u);
    EXPECT_LE(b.length, kSegmentMaxBlockBytes);
  }
}

TEST(SegmentFileTest, EmptyShardAndEmptyRecordSegmentRoundTrip) {
  Result<Segment> snap = read_segment(write_snapshot_segment(header_for(0), ShardReplica(0)));
  ASSERT_TRUE(snap.is_ok()) << snap.status().to_string();
  EXPECT_EQ(snap->entry_count, 0u);
  Result<Segment> recs =
      read_segment(write_records_segment(header_for(0, SegmentKind::kAppliedRecords), {}, {}));
  ASSERT_TRUE(recs.is_ok()) << recs.status().to_string();
  EXPECT_TRUE(recs->records.empty());
}

TEST(SegmentFileTest, RecordsRoundTrip) {
  std::vector<Mutation> records;
  VersionVector vv;
  uint64_t seq = 0;
  for (int i = 0; i < 4000; ++i) {
    const std::string id = "id-" + std::to_string(i);
    if (shard_of(id, kShards) != 3) continue;
    records.push_back(i % 10 == 0 ? erase(id, 50 + uint64_t(i), 4, ++seq)
                                  : upsert(id, embedding(i), 50 + uint64_t(i), 4, ++seq));
    vv.add(4, seq);
  }
  const std::string file =
      write_records_segment(header_for(3, SegmentKind::kAppliedRecords), records, vv);
  Result<Segment> seg = read_segment(file);
  ASSERT_TRUE(seg.is_ok()) << seg.status().to_string();
  EXPECT_EQ(seg->records, records);
  EXPECT_TRUE(seg->version_vector == vv);
  EXPECT_EQ(seg->entry_count, records.size());
  EXPECT_FALSE(seg->replica.has_value());
  EXPECT_GT(seg->block_count, 1u);
}

TEST(SegmentFileTest, EveryFlippedByteIsDetected) {
  const std::string file = write_snapshot_segment(header_for(1), make_shard(1, 300));
  for (size_t i = 0; i < file.size(); ++i) {
    std::string damaged = file;
    damaged[i] ^= 0x04;
    Result<Segment> seg = read_segment(damaged);
    ASSERT_FALSE(seg.is_ok()) << "flip at " << i << " was not detected";
    EXPECT_FALSE(verify_segment(damaged).status.is_ok()) << "flip at " << i;
  }
}

TEST(SegmentFileTest, EveryTruncationIsDetected) {
  const std::string file = write_snapshot_segment(header_for(1), make_shard(1, 300));
  for (size_t n = 0; n < file.size(); ++n) {
    Result<Segment> seg = read_segment(std::string_view(file).substr(0, n));
    ASSERT_FALSE(seg.is_ok()) << "prefix of " << n << " bytes was accepted";
  }
  EXPECT_EQ(read_segment(file.substr(0, file.size() - 1)).status().code(), StatusCode::kTruncated);
}

TEST(SegmentFileTest, ErrorsNameTheDamagedBlockAndOffset) {
  const std::string file = write_snapshot_segment(header_for(1), make_shard(1, 3000));
  const std::vector<BlockRef> blocks = block_table(file);
  ASSERT_GT(blocks.size(), 4u);
  std::string damaged = file;
  damaged[blocks[3].offset + 5] ^= 1;
  const Status s = read_segment(damaged).status();
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  const std::string expected = "block 3 of " + std::to_string(blocks.size()) + " (bytes " +
                               std::to_string(blocks[3].offset) + "..";
  EXPECT_NE(s.message().find(expected), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("checksum mismatch"), std::string::npos);
  // verify_segment reports the same and still fills in the header and footer.
  const SegmentSummary v = verify_segment(damaged);
  EXPECT_EQ(v.status.message(), s.message());
  EXPECT_TRUE(v.header_ok && v.footer_ok);
  EXPECT_EQ(v.header.collection, "c");
}

TEST(SegmentFileTest, WrongMagicAndVersionAreNamed) {
  const std::string file = write_snapshot_segment(header_for(0), make_shard(0, 50));
  std::string magic = file;
  magic[0] = 'X';
  EXPECT_NE(read_segment(magic).status().message().find("bad magic"), std::string::npos);
  std::string version = file;
  version[8] = 9;
  EXPECT_EQ(read_segment(version).status().code(), StatusCode::kUnsupported);
  std::string tail = file;
  tail[file.size() - 1] ^= 1;
  EXPECT_NE(read_segment(tail).status().message().find("trailing magic"), std::string::npos);
  EXPECT_NE(read_segment("hello").status().message().find("bad magic"), std::string::npos);
  EXPECT_EQ(read_segment("").status().code(), StatusCode::kTruncated);
}

TEST(SegmentFileTest, ChangingOneVectorChangesOneBlock) {
  const ShardReplica before = make_shard(2, 6000);
  ShardReplica after = before;
  // Re-upsert one id with a same-size embedding (and a later stamp).
  std::string id;
  for (int i = 0; id.empty(); ++i) {
    if (shard_of("id-" + std::to_string(i), kShards) == 2 && i > 3000)
      id = "id-" + std::to_string(i);
  }
  (void)after.apply(upsert(id, embedding(-5), 999999, 3, 1));
  const auto a = block_table(write_snapshot_segment(header_for(2), before));
  const auto b = block_table(write_snapshot_segment(header_for(2), after));
  ASSERT_EQ(a.size(), b.size());
  size_t changed = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (i + 1 < a.size()) {  // the last block is the version vector's
      EXPECT_EQ(a[i].length, b[i].length);
    }
    changed += a[i].crc != b[i].crc;
  }
  EXPECT_EQ(changed, 2u);  // the vector's block and the version vector's block
}

TEST(SegmentFileTest, InsertingAVectorDoesNotShiftLaterBlocks) {
  const ShardReplica before = make_shard(0, 6000);
  ShardReplica after = before;
  std::string id = "id-2999x";
  while (shard_of(id, kShards) != 0) id += "x";
  (void)after.apply(upsert(id, embedding(1), 999999, 3, 1));
  const auto a = block_table(write_snapshot_segment(header_for(0), before));
  const auto b = block_table(write_snapshot_segment(header_for(0), after));
  std::multiset<uint32_t> crcs_a, crcs_b;
  for (const auto& x : a) crcs_a.insert(x.crc);
  for (const auto& x : b) crcs_b.insert(x.crc);
  size_t only_in_b = 0;
  for (uint32_t c : crcs_b) only_in_b += crcs_a.count(c) == 0;
  EXPECT_LE(only_in_b, 4u) << "of " << b.size() << " blocks";
}

TEST(SegmentFileTest, HeaderValidation) {
  SegmentHeader h = header_for(0);
  EXPECT_TRUE(validate(h).is_ok());
  h.shard_index = kShards;
  EXPECT_FALSE(validate(h).is_ok());
  h = header_for(0);
  h.dimension = 0;
  EXPECT_FALSE(validate(h).is_ok());
  h = header_for(0);
  h.collection.clear();
  EXPECT_FALSE(validate(h).is_ok());
}

}  // namespace
}  // namespace meridian
