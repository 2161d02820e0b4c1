// Per-shard version vector: which origin sequences this replica has applied.
//
// Each origin region numbers its mutations for a shard 1, 2, 3, ... (Mutation::origin_sequence).
// Normally they arrive in order, so the set applied from one origin is a prefix {1..frontier}.
// Anti-entropy and out-of-order delivery (tests deliver in any permutation) can leave gaps, so
// beyond the frontier we also keep the exact set of applied sequences ("dots"). The structure is
// a join-semilattice: merge() is set union, so it is commutative, associative and idempotent, and
// two replicas that applied the same mutations hold equal vectors whatever the order.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "engine/core/mutation.h"

namespace meridian {

struct ShardSnapshotCodec;  // shard_snapshot.cc: canonical encode/decode of this vector

class VersionVector {
 public:
  // True when (origin, sequence) has been recorded. Sequence 0 is never recorded.
  bool contains(RegionId origin, uint64_t sequence) const;

  // Records (origin, sequence). Returns false (and changes nothing) if it was already recorded.
  // REQUIRES: sequence >= 1.
  bool add(RegionId origin, uint64_t sequence);

  // Set union with `other`.
  void merge(const VersionVector& other);

  // Highest n such that 1..n from `origin` are all recorded (0 if none). This is the position a
  // log consumer resumes after, and what session tokens are compared with.
  uint64_t frontier(RegionId origin) const;

  // Highest sequence recorded from `origin`, contiguous or not (0 if none).
  uint64_t max_sequence(RegionId origin) const;

  // True if every origin's contiguous frontier here is >= the one in `other` and every dot of
  // `other` is recorded here (i.e. this replica has applied everything `other` has).
  bool covers(const VersionVector& other) const;

  // Number of recorded sequences beyond the frontiers; nonzero means some delivery has gaps.
  size_t gap_dot_count() const;

  // Origins in ascending id order with any recorded sequence.
  std::set<RegionId> origins() const;

  // "{1:42, 3:7+[9,10]}" (origin:frontier, then dots beyond it); for logs and test failures.
  std::string to_string() const;

  bool operator==(const VersionVector&) const = default;

 private:
  friend struct ShardSnapshotCodec;

  struct OriginEntry {
    uint64_t frontier = 0;
    std::set<uint64_t> dots;  // all > frontier + 1 (frontier + 1 is folded into the frontier)

    bool operator==(const OriginEntry&) const = default;
    void fold();  // moves dots adjacent to the frontier into it
  };
  std::map<RegionId, OriginEntry> entries_;
};

}  // namespace meridian
