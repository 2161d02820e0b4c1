// The replicated state of one vector id: a small state-based CRDT.
//
//   base       LWW register holding "live with this embedding" or "deleted", written by upserts
//              and deletes. Its stamp is also the payload's reset point: an upsert replaces the
//              whole payload and a delete clears it, so payload entries older than `base_stamp`
//              are dead and are dropped.
//   fields     LWW map: per field name a register (value or "unset") with its stamp.
//   tags       LWW element set: per tag a register (present or removed) with its stamp.
//
// Invariant (checked by `check_invariants`): no field or tag entry has a stamp older than
// base_stamp. Keeping the state normalised this way makes it canonical: two replicas that applied
// the same set of mutations, in any order and with any duplicates, compare equal with ==.
//
// Stamps order writes (timestamp, then origin region); a mutation's stamp is unique, so "newer
// wins" never meets a tie between different writes, and re-applying a write changes nothing.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/core/mutation.h"

namespace meridian {

struct ShardSnapshotCodec;  // shard_snapshot.cc: canonical encode/decode of this state

// What applying or merging did to the vector's visible state, from the index's point of view.
enum class VectorChange : uint8_t {
  kNone = 0,       // nothing visible changed (stale or duplicate write)
  kPayload = 1,    // only payload fields or tags changed
  kEmbedding = 2,  // the vector is live and its embedding was (re)set: (re)index it
  kRemoved = 3,    // the vector went from live to deleted: drop it from the index
};

class VectorState {
 public:
  // Applies one mutation (REQUIRES: validate(m).is_ok() and the mutation is for this vector).
  VectorChange apply(const Mutation& m);
  // Same, taking ownership of the mutation's embedding instead of copying it.
  VectorChange apply(Mutation&& m);

  // State-based merge (join): the result is as if every mutation either side saw was applied.
  VectorChange merge(const VectorState& other);

  bool live() const { return live_; }
  // REQUIRES: live(). The embedding as written by the winning upsert.
  const std::vector<float>& embedding() const { return embedding_; }
  // Stamp of the winning upsert or delete; zero if only patches were seen.
  Stamp base_stamp() const { return base_stamp_; }

  // The payload a reader sees: fields and tags that are set, in sorted order.
  Payload visible_payload() const;
  bool has_tag(const std::string& tag) const;

  // Garbage collection at a causally stable point `g` (an HLC timestamp; see
  // RegionNode::stable_frontier): a deleted base with timestamp < g becomes the zero base, and
  // unset fields and removed tags with timestamp < g are dropped. Live data and visible payload
  // never change. Returns true when nothing is left (not live, zero base, no field or tag entry):
  // the owner may then forget the id altogether.
  //
  // Why this is safe: the caller guarantees every mutation with timestamp < g has been applied
  // here (and, via the version vector, that none is applied again). A dropped entry could only
  // matter to a write older than it, and every such write is < g, already applied and lost to
  // the entry. Later writes are all >= g and compare the same against the zero base as against
  // the dropped tombstone's stamp. So collecting before or after them gives the same state.
  bool collect(uint64_t g);
  // Whether collect(g) would change this state or report it empty. Read-only, so that a caller
  // holding a shared copy (VectorEntry) need not clone the state only to find nothing to do.
  bool collectable(uint64_t g) const;

  // Drops every component (base, field or tag entry) with timestamp < g that `confirm` does not
  // hold with the same stamp (`confirm` null: holds nothing). Used when joining a replica that
  // is complete below g (it applied every mutation < g): a component < g it lacks was
  // overwritten there by something it collected, so keeping it would resurrect old data.
  // Returns what that did to the visible state (kRemoved if a live base went, kPayload if only
  // visible payload changed).
  VectorChange drop_unconfirmed_below(uint64_t g, const VectorState* confirm);

  // Asserts the normalisation invariant; used by tests and debug checks.
  bool check_invariants() const;

  bool operator==(const VectorState&) const = default;

 private:
  friend struct ShardSnapshotCodec;

  struct FieldEntry {
    Stamp stamp;
    bool present = false;  // false: unset by a patch at `stamp`
    std::string value;
    bool operator==(const FieldEntry&) const = default;
  };
  struct TagEntry {
    Stamp stamp;
    bool present = false;  // false: removed by a patch at `stamp`
    bool operator==(const TagEntry&) const = default;
  };

  template <typename M>
  VectorChange apply_impl(M&& m);
  // Moves base to `stamp` (live with `embedding`, or deleted) and drops older payload entries.
  void reset_base(Stamp stamp, bool live, std::vector<float> embedding);
  // LWW-assigns one field / tag entry; returns true if the entry changed.
  static bool assign_field(FieldEntry& e, Stamp stamp, bool present, const std::string& value);
  static bool assign_tag(TagEntry& e, Stamp stamp, bool present);

  Stamp base_stamp_;
  bool live_ = false;
  std::vector<float> embedding_;
  std::map<std::string, FieldEntry> fields_;
  std::map<std::string, TagEntry> tags_;
};

}  // namespace meridian
