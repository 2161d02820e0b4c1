// The mutation record: the unit of the write-ahead log and of replication (DESIGN.md §2).
//
// A region appends one Mutation per client write to its log partition for the shard the vector
// id routes to; every region applies every origin's mutations. A Mutation is self-describing: it
// carries the collection, the vector id and the (timestamp, origin region) stamp by which
// concurrent writes are ordered, so applying it needs no other context.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/core/status.h"

namespace meridian {

// Numeric region id, configured per region and unique in a deployment. Breaks timestamp ties.
using RegionId = uint16_t;

// Total order of writes for last-writer-wins: hybrid logical timestamp first, then origin region.
// An origin never issues two writes with the same timestamp (its HLC is strictly monotonic), so
// two different mutations never share a Stamp. The zero Stamp precedes every real write.
struct Stamp {
  uint64_t timestamp = 0;
  RegionId region = 0;

  auto operator<=>(const Stamp&) const = default;
  bool is_zero() const { return timestamp == 0 && region == 0; }
};

enum class Op : uint8_t {
  kUpsert = 1,  // set the embedding and replace the whole payload
  kDelete = 2,  // remove the vector and its payload
  kPatch = 3,   // change payload fields and tags only
};
const char* op_name(Op op);

// Small per-vector metadata: string fields (e.g. "ttl", "lang") and a set of tags, which search
// can filter on ("tags contains X").
struct Payload {
  std::map<std::string, std::string> fields;
  std::set<std::string> tags;

  bool operator==(const Payload&) const = default;
  bool empty() const { return fields.empty() && tags.empty(); }
};

struct Mutation {
  Op op = Op::kUpsert;
  std::string collection;
  std::string vector_id;
  // kUpsert: the new embedding (dimension 1..kMaxDimension, finite). Empty for other ops.
  std::vector<float> embedding;
  // kUpsert: the complete new payload. kPatch: fields to set and tags to add. Empty for kDelete.
  Payload payload;
  // kPatch only: fields to remove and tags to remove.
  std::set<std::string> unset_fields;
  std::set<std::string> removed_tags;
  // Hybrid logical timestamp assigned by the origin region (see hlc.h); never 0.
  uint64_t timestamp = 0;
  RegionId origin_region = 0;
  // Position of this mutation in its origin's stream for this shard: 1, 2, 3, ... without gaps.
  uint64_t origin_sequence = 0;

  Stamp stamp() const { return Stamp{timestamp, origin_region}; }
  bool operator==(const Mutation&) const = default;
};

// Limits every region enforces, so that a record accepted anywhere is accepted everywhere.
inline constexpr size_t kMaxCollectionNameBytes = 128;
inline constexpr size_t kMaxVectorIdBytes = 512;
inline constexpr size_t kMaxDimension = 4096;
inline constexpr size_t kMaxPayloadEntries = 256;      // fields + tags + unset + removed, together
inline constexpr size_t kMaxPayloadBytes = 64 * 1024;  // sum of key, value and tag bytes
inline constexpr size_t kMaxStringBytes = 16 * 1024;   // any single field key, value or tag

// Checks a mutation against the rules above and the per-op shape (e.g. a delete has no
// embedding). Returns kInvalidArgument or kTooLarge naming the offending field.
Status validate(const Mutation& m);

}  // namespace meridian
