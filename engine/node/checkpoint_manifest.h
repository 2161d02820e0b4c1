// A region node's checkpoint manifest: which segment file holds each shard's snapshot, and from
// which log offsets to resume each (collection, origin, shard) partition after loading them,
// which applied-records segment (the shard's active segment, active_segment.h) follows a
// snapshot, and below which HLC timestamp each shard was garbage-collected (it is complete
// below it, so the restored shard may be compared and merged at that frontier at once).
//
// A checkpoint writes the changed shards' segments first (new file names; the previous ones
// stay): a new sealed snapshot, or for a lightly changed shard only an applied-records segment
// holding every record applied since its snapshot, which stays in the manifest as it was; then
// `manifest.<checkpoint>` naming them, and only once that manifest is durable deletes what older
// checkpoints alone referenced. Recovery takes the newest manifest that parses and passes its
// checksum, so a crash at any point, or a torn file, leaves a complete older checkpoint to fall
// back to. The positions were captured at the same instant as the snapshots; a segment newer than
// its manifest is harmless (replaying records it already holds is idempotent: the version vector
// drops them).
//
// Format (text, so an operator can read it):
//   meridian-manifest 1
//   checkpoint <n>
//   hlc <the node's hybrid clock when the snapshots were taken>
//   segment <collection> <shard> <file name>          (one per shard)
//   records <collection> <shard> <file name>          (optional: the records that follow that
//                                                      shard's snapshot; absent in manifests
//                                                      written before active segments)
//   position <collection> <origin id> <shard> <next offset>
//   collected <collection> <shard> <g>                 (optional, one per collected segment)
//   crc32c <8 hex digits: CRC-32C of every byte above this line>
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "engine/core/mutation.h"
#include "engine/core/status.h"

namespace meridian::node {

struct CheckpointManifest {
  uint64_t checkpoint = 0;
  uint64_t hlc = 0;
  std::map<std::pair<std::string, uint32_t>, std::string> segments;  // (collection, shard)
  // (collection, shard) -> applied-records segment to apply after that shard's snapshot.
  // REQUIRES (checked by decode_manifest): the shard has a snapshot in `segments`.
  std::map<std::pair<std::string, uint32_t>, std::string> records;
  // (collection, origin, shard) -> next offset to consume.
  std::map<std::tuple<std::string, RegionId, uint32_t>, uint64_t> positions;
  // (collection, shard) -> ShardReplica::collected_below() of its segment; absent when 0.
  // Manifests written before tombstone collection have none (all 0).
  std::map<std::pair<std::string, uint32_t>, uint64_t> collected_below;

  bool operator==(const CheckpointManifest&) const = default;
};

std::string manifest_file_name(uint64_t checkpoint);
// The checkpoint number of a manifest file name, or 0 if `name` is not one.
uint64_t parse_manifest_file_name(std::string_view name);
// "<collection>.<shard>.<checkpoint>.seg"
std::string segment_file_name(const std::string& collection, uint32_t shard, uint64_t checkpoint);
// "<collection>.<shard>.<checkpoint>.rec"
std::string records_file_name(const std::string& collection, uint32_t shard, uint64_t checkpoint);

std::string encode_manifest(const CheckpointManifest& manifest);
// Corruption (with the line) on a bad checksum, a malformed line or a missing field.
Result<CheckpointManifest> decode_manifest(std::string_view text);

}  // namespace meridian::node
