// A region node's checkpoint manifest: which segment file holds each shard's snapshot, and from
// which log offsets to resume each (collection, origin, shard) partition after loading them,
// and below which HLC timestamp each segment was garbage-collected (the snapshot is complete
// below it, so the restored shard may be compared and merged at that frontier at once).
//
// A checkpoint writes the shards' snapshot segments first (new file names; the previous ones
// stay), then `manifest.<checkpoint>` naming them, and only once that manifest is durable
// deletes what older checkpoints alone referenced. Recovery takes the newest manifest that
// parses and passes its checksum, so a crash at any point, or a torn file, leaves a complete
// older checkpoint to fall back to. The positions were captured at the same instant as the
// snapshots; a segment newer than its manifest is harmless (replaying records it already holds
// is idempotent: the version vector drops them).
//
// Format (text, so an operator can read it):
//   meridian-manifest 1
//   checkpoint <n>
//   hlc <the node's hybrid clock when the snapshots were taken>
//   segment <collection> <shard> <file name>          (one per shard)
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

std::string encode_manifest(const CheckpointManifest& manifest);
// Corruption (with the line) on a bad checksum, a malformed line or a missing field.
Result<CheckpointManifest> decode_manifest(std::string_view text);

}  // namespace meridian::node
