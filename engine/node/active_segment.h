// A shard's active segment: the mutation records applied to it since its last sealed snapshot
// segment, kept in memory so that a checkpoint of a lightly changed shard writes only those
// (an applied-records segment, docs/segment-format.md) instead of the whole snapshot again.
//
// Bounded: once the records' encoded size passes threshold_bytes() (64 KiB, or a quarter of the
// snapshot they follow if that is larger), rewriting them every checkpoint would cost about as
// much as a new snapshot, so they are dropped and the next checkpoint compacts (writes a new
// sealed snapshot). A change to the shard that is not a record (a delta catch-up merge, a peer
// recovery) cannot be expressed as records at all: drop() has the same effect.
//
// Restoring = the snapshot, then the records applied in order (idempotent: duplicates are
// skipped by the version vector), then tombstone collection at the manifest's frontier.
// Collection commutes with every record applied after it (VectorState::collect), so the buffer
// survives the collections that run between checkpoints.
//
// Not thread-safe; owned by the RegionNode, used on its event loop.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/mutation.h"

namespace meridian::node {

class ActiveSegment {
 public:
  static constexpr uint64_t kMinThresholdBytes = 64 * 1024;

  // A sealed snapshot `snapshot_file` of `snapshot_bytes` bytes now holds everything applied so
  // far: starts an empty, intact buffer after it. The file need not be durable yet (see
  // follows()).
  void seal(std::string snapshot_file, uint64_t snapshot_bytes) {
    snapshot_file_ = std::move(snapshot_file);
    snapshot_bytes_ = snapshot_bytes;
    records_.clear();
    record_bytes_ = 0;
    intact_ = true;
  }

  // The sealed snapshot's size, once its encoding is known (ignored if another snapshot was
  // sealed since): it sets the compaction threshold.
  void snapshot_encoded(const std::string& snapshot_file, uint64_t snapshot_bytes) {
    if (snapshot_file == snapshot_file_) snapshot_bytes_ = snapshot_bytes;
  }

  // Keeps `m` (applied to the shard, not a duplicate); `encoded_bytes` is its record size.
  // Past the threshold the buffer is dropped instead.
  void append(Mutation m, uint64_t encoded_bytes) {
    if (!intact_) return;
    record_bytes_ += encoded_bytes;
    if (record_bytes_ > threshold_bytes()) {
      drop();
      return;
    }
    records_.push_back(std::move(m));
  }

  // The shard changed by something other than a record: only a new snapshot can hold it.
  void drop() {
    records_.clear();
    records_.shrink_to_fit();
    record_bytes_ = 0;
    intact_ = false;
  }

  // True if a records segment written now, next to `durable_snapshot_file` (the shard's
  // snapshot in the newest durable manifest), restores the shard exactly: the buffer is intact
  // and follows that very snapshot (not one whose checkpoint failed or is still pending).
  bool follows(const std::string& durable_snapshot_file) const {
    return intact_ && !snapshot_file_.empty() && snapshot_file_ == durable_snapshot_file;
  }

  bool intact() const { return intact_; }
  const std::string& snapshot_file() const { return snapshot_file_; }
  const std::vector<Mutation>& records() const { return records_; }
  uint64_t record_bytes() const { return record_bytes_; }
  uint64_t snapshot_bytes() const { return snapshot_bytes_; }
  uint64_t threshold_bytes() const { return std::max(kMinThresholdBytes, snapshot_bytes_ / 4); }

 private:
  std::string snapshot_file_;  // empty: the shard has no sealed snapshot yet
  uint64_t snapshot_bytes_ = 0;
  std::vector<Mutation> records_;  // in apply order
  uint64_t record_bytes_ = 0;
  bool intact_ = true;
};

}  // namespace meridian::node
