// Segment files: the durable form of a shard's state (docs/segment-format.md has the layout).
//
// Two kinds:
//   kShardSnapshot   a sealed, canonical snapshot of one shard (shard_snapshot.h): every id's
//                    CRDT state and the version vector. Equal replicas give byte-identical files
//                    in every region, so librsync deltas between regions stay small.
//   kAppliedRecords  a sequence of mutation records (record_codec.h) applied after a snapshot:
//                    the content of the active segment when it is written out.
//
// A file is a header (magic, format version, kind, collection, shard, num_shards, dimension,
// routing seed), a body cut into blocks of at most kSegmentMaxBlockBytes, a footer (entry or
// record count, the block table with each block's length and CRC-32C, the version vector) and a
// fixed-size trailer (footer offset, footer CRC, whole-file CRC, trailing magic). Block CRCs live
// in the footer's table, not in front of each block, so a changed vector changes its block's
// bytes and one table entry, and nothing else in the body. Snapshot blocks are cut before entries
// whose id hash is an "anchor", so block boundaries depend on ids only and an inserted or
// resized entry does not shift later boundaries.
//
// Reading never returns partially valid data: read_segment() checks every checksum and every
// structural rule before it returns anything, and its error names the part (header, block
// number, footer, trailer) and the byte offset of the first problem.
//
// All functions are pure (bytes in, bytes out) and thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/mutation.h"
#include "engine/core/shard_replica.h"
#include "engine/core/status.h"
#include "engine/core/version_vector.h"

namespace meridian {

inline constexpr uint16_t kSegmentFormatVersion = 1;
inline constexpr size_t kSegmentMaxBlockBytes = 64 * 1024;
// Snapshot blocks average about this size (anchors are drawn to hit it for the dimension).
inline constexpr size_t kSegmentTargetBlockBytes = 16 * 1024;
inline constexpr size_t kSegmentTrailerBytes = 24;
// Leading and trailing magic: "MRDNSEG1" and "MRDNEND1".
inline constexpr std::string_view kSegmentMagic = "MRDNSEG1";
inline constexpr std::string_view kSegmentTrailerMagic = "MRDNEND1";

enum class SegmentKind : uint8_t {
  kShardSnapshot = 1,
  kAppliedRecords = 2,
};
// "shard-snapshot", "applied-records", or "unknown".
const char* segment_kind_name(SegmentKind kind);

// What a segment is of. Written in the header; the reader checks the body against it (every id
// routes to shard_index, every embedding has `dimension` floats, every record names collection).
struct SegmentHeader {
  SegmentKind kind = SegmentKind::kShardSnapshot;
  std::string collection;
  uint32_t shard_index = 0;
  uint32_t num_shards = 1;
  uint32_t dimension = 1;
  uint32_t routing_seed = 0;
  bool operator==(const SegmentHeader&) const = default;
};

// Checks the fields a header must satisfy: a valid collection name, num_shards in 1..kMaxShards,
// shard_index < num_shards, dimension in 1..kMaxDimension.
Status validate(const SegmentHeader& header);

// The sealed snapshot of `replica` as a segment file. header.kind must be kShardSnapshot and
// header.shard_index == replica.shard_index(). REQUIRES: validate(header).is_ok() and the
// replica's live embeddings have header.dimension floats (asserted). Deterministic: equal
// replicas and headers give identical bytes.
std::string write_snapshot_segment(const SegmentHeader& header, const ShardReplica& replica);

// An applied-records segment holding `records` in order, with `version_vector` (the shard's
// version vector after the last record was applied) in the footer. header.kind must be
// kAppliedRecords. REQUIRES: validate(header).is_ok() and each record is valid, names the
// collection and routes to the shard (asserted); each (origin, sequence) is in version_vector.
std::string write_records_segment(const SegmentHeader& header, std::span<const Mutation> records,
                                  const VersionVector& version_vector);

struct Segment {
  SegmentHeader header;
  uint64_t entry_count = 0;  // ids (snapshot) or records (applied records)
  size_t block_count = 0;
  VersionVector version_vector;         // from the footer
  std::optional<ShardReplica> replica;  // kShardSnapshot: the decoded snapshot
  std::vector<Mutation> records;        // kAppliedRecords: the decoded records, in file order
};

// Reads a whole segment file. Succeeds only if every check passes (magic, version, header CRC,
// trailer, footer CRC, each block's length and CRC, whole-file CRC, then the body decodes and
// agrees with the header and footer). Errors: kTruncated (too short, trailing magic missing, a
// length past the end), kUnsupported (format version), kCorruption (everything else); the message
// names the part and byte offset, e.g. "block 17 (bytes 278528..294911): checksum mismatch ...".
Result<Segment> read_segment(std::string_view bytes);

// The cheap check: all checksums and the header/footer structure, without decoding the body.
// Fields are filled as far as the file could be parsed before the first error.
struct SegmentSummary {
  Status status;  // ok, or the first problem (same messages as read_segment)
  bool header_ok = false;
  SegmentHeader header;
  bool footer_ok = false;
  uint64_t entry_count = 0;
  size_t block_count = 0;
  uint64_t body_bytes = 0;
  std::string version_vector;  // VersionVector::to_string()
  uint64_t file_bytes = 0;
  uint32_t file_crc32c = 0;  // as stored in the trailer
};
SegmentSummary verify_segment(std::string_view bytes);

}  // namespace meridian
