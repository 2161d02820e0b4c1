// One shard's replicated state in one region: the CRDT state of every vector id routed to the
// shard, and the version vector of the mutations applied (DESIGN.md §2).
//
// Applying the same set of mutations in any order, with any duplicates, yields equal replicas
// (operator==), and merge() is a join (commutative, associative, idempotent). The replica knows
// nothing about indexes: apply() and merge() report what changed so that the owner (a
// Collection) keeps its vector index in step.
//
// Copies are cheap: they share each vector's state until either side changes it (VectorEntry).
//
// Thread-safety: a replica is used by one thread, but a copy may be read on another thread
// while the original keeps changing (VectorEntry).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/incremental_hash_map.h"
#include "engine/core/mutation.h"
#include "engine/core/vector_entry.h"
#include "engine/core/vector_state.h"
#include "engine/core/version_vector.h"

namespace meridian {

struct ApplyOutcome {
  bool duplicate = false;  // (origin, sequence) was already applied: nothing was done
  VectorChange change = VectorChange::kNone;
  // The vector's id and entry after the apply. Stable until the entry is erased, which only
  // collect_garbage() does: use them before the next collection of the shard. (The entry's
  // state may move on a later change; the entry itself does not.)
  const std::string* id = nullptr;
  const VectorEntry* entry = nullptr;
};

class ShardReplica {
 public:
  using ChangeFn = std::function<void(const std::string& id, const VectorEntry&, VectorChange)>;

  explicit ShardReplica(uint32_t shard_index) : shard_index_(shard_index) {}
  ShardReplica(const ShardReplica&) = default;
  ShardReplica& operator=(const ShardReplica&) = default;
  // Declared so that a replica returned in a Result (shard_snapshot.h) moves instead of copying.
  ShardReplica(ShardReplica&&) = default;
  ShardReplica& operator=(ShardReplica&&) = default;

  // Applies one mutation. REQUIRES: validate(m).is_ok() and m routes to this shard.
  ApplyOutcome apply(const Mutation& m);
  ApplyOutcome apply(Mutation&& m);

  // Joins `other`'s state into this one; calls `on_change` for every vector whose visible state
  // changed, in ascending id order. REQUIRES: other is a replica of the same shard.
  //
  // With garbage collection, either side may have dropped tombstones, so a plain join could
  // resurrect what the other side overwrote and then forgot. `complete_below` (this replica) and
  // `other_complete_below` say below which HLC timestamp each side is known to have applied every
  // mutation (0: unknown). Before the join, components of `other` below complete_below that
  // this replica does not hold are ignored, and components of this replica below
  // other_complete_below that `other` does not hold are dropped (VectorState::
  // drop_unconfirmed_below): the complete side's view is the truth there. A vector may then be
  // reported twice (removed, then re-set by the join).
  void merge(const ShardReplica& other, const ChangeFn& on_change = nullptr,
             uint64_t complete_below = 0, uint64_t other_complete_below = 0);

  // Garbage collection at `g` (VectorState::collect on every entry): drops tombstones and unset
  // payload entries older than g and erases ids left with nothing. Returns the number of ids
  // erased and calls `on_erase` for each, in ascending id order. The version vector is kept, so
  // a re-delivered old mutation is still a duplicate. Idempotent; visible state is unchanged.
  // REQUIRES: every mutation with timestamp < g has been applied (g is causally stable here).
  // Invalidates ApplyOutcome pointers into erased entries.
  size_t collect_garbage(uint64_t g,
                         const std::function<void(const std::string& id)>& on_erase = nullptr);
  // The largest g collect_garbage() ran at (0 if never): the replica is complete below it.
  // Local bookkeeping, not replicated state: not part of operator== nor of snapshots.
  uint64_t collected_below() const { return collected_below_; }

  // nullptr if the id has never been written in this shard.
  const VectorState* find(std::string_view id) const;

  // Ids with any state (live, deleted or payload-only), in ascending byte order. O(n log n).
  std::vector<std::string> sorted_ids() const;

  uint32_t shard_index() const { return shard_index_; }
  const VersionVector& version_vector() const { return version_vector_; }
  size_t live_count() const { return live_count_; }
  size_t entry_count() const { return states_.size(); }

  // Logical equality: same vector states and same version vector (the shard index must match).
  bool operator==(const ShardReplica& other) const;

 private:
  friend struct ShardSnapshotCodec;  // shard_snapshot.cc: canonical encode/decode

  template <typename M>
  ApplyOutcome apply_impl(M&& m);

  uint32_t shard_index_;
  // Hashed for O(1) apply, and grown incrementally so that no apply waits for a rehash of the
  // whole shard; never iterated where order can leak out (sorted_ids() sorts).
  IncrementalHashMap<VectorEntry> states_;
  VersionVector version_vector_;
  size_t live_count_ = 0;
  uint64_t collected_below_ = 0;
};

}  // namespace meridian
