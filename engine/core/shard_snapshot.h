// Canonical binary encoding of a ShardReplica: every vector id's CRDT state and the shard's
// version vector (docs/segment-format.md, "Shard snapshot encoding").
//
// Canonical means one logical state has exactly one encoding: ids are in ascending byte order,
// payload fields and tags in key order, version-vector origins and dots ascending, fixed-width
// stamps. So two replicas with a == b encode to identical bytes in every region, which is what
// keeps rsync deltas between regions small and lets digests be compared. The decoder rejects
// every other spelling (unsorted ids, overlong varints, trailing bytes, ...), hence: if bytes
// decode, re-encoding the result gives the same bytes.
//
// The encoding has no checksum of its own: it travels inside a segment file (segment_file.h),
// whose blocks are checksummed. The decoder still treats its input as hostile: it never reads
// outside it, checks every count against the bytes left before allocating, and returns a replica
// only if every entry satisfies VectorState's invariants.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/shard_replica.h"
#include "engine/core/status.h"
#include "engine/core/vector_state.h"
#include "engine/core/version_vector.h"

namespace meridian {

inline constexpr uint8_t kShardSnapshotFormatVersion = 1;

// Where one entry (one vector id) sits in an encoded snapshot; the segment writer uses these to
// cut blocks at entry boundaries chosen by the id alone (so a changed vector changes one block).
struct SnapshotEntrySpan {
  size_t begin = 0;      // offset of the entry's first byte in the encoded snapshot
  size_t end = 0;        // one past its last byte
  uint32_t id_hash = 0;  // crc32c of the id bytes
};

// Appends the canonical encoding of `replica` to `*out`. If `spans` is not null it receives one
// span per entry, in encoding (ascending id) order, with offsets relative to the start of *out
// (existing contents included). Cannot fail. O(n log n) for the id sort.
void encode_shard_snapshot(const ShardReplica& replica, std::string* out,
                           std::vector<SnapshotEntrySpan>* spans = nullptr);
std::string encode_shard_snapshot(const ShardReplica& replica);

struct SnapshotDecodeOptions {
  // If nonzero, every live vector must have exactly this many dimensions (a collection's index
  // would be corrupted by any other); else any 1..kMaxDimension.
  uint32_t dimension = 0;
  // If nonzero, every id must route to the snapshot's shard: shard_of(id, num_shards,
  // routing_seed) == shard index.
  uint32_t num_shards = 0;
  uint32_t routing_seed = 0;
};

// Decodes a snapshot that occupies all of `bytes`. On success the replica compares == to the one
// that was encoded and re-encodes to the same bytes. Fails with kCorruption naming the entry (by
// index) and the byte offset of the first structural error, kTruncated when the bytes end early,
// kUnsupported for an unknown format version.
Result<ShardReplica> decode_shard_snapshot(std::string_view bytes,
                                           const SnapshotDecodeOptions& options = {});

// The canonical bytes of one entry (id and state), exactly as they appear inside a snapshot.
// Self-delimiting, so concatenations of entries are unambiguous (shard_digest.h hashes them).
void encode_snapshot_entry(std::string_view id, const VectorState& state, std::string* out);

// The canonical bytes of a version vector, as at the end of a snapshot and in a segment footer.
void encode_version_vector(const VersionVector& vv, std::string* out);
// Decodes bytes produced by encode_version_vector (all of `bytes`); kCorruption on anything else.
Result<VersionVector> decode_version_vector(std::string_view bytes);

}  // namespace meridian
