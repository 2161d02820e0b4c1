#include "engine/core/vector_state.h"

#include <algorithm>
#include <cassert>
#include <type_traits>
#include <utility>

namespace meridian {

namespace {

// Test-only sabotage: the simulator's test suite builds a variant of this file with
// MERIDIAN_TEST_BREAK_LWW defined, in which the last write *applied* wins instead of the newest,
// and checks that the `partition` scenario then fails to converge (tests/CMakeLists.txt). Never
// defined in a real build.
#ifdef MERIDIAN_TEST_BREAK_LWW
constexpr bool kIgnoreStamps = true;
#else
constexpr bool kIgnoreStamps = false;
#endif

template <typename Map>
void drop_entries_older_than(Map& map, Stamp stamp) {
  std::erase_if(map, [&](const auto& kv) { return kv.second.stamp < stamp; });
}

// Erases the entries of `map` with timestamp < g that `confirm` lacks or holds with another stamp.
template <typename Map>
void drop_unconfirmed(Map& map, uint64_t g, const Map* confirm) {
  std::erase_if(map, [&](const auto& kv) {
    if (kv.second.stamp.timestamp >= g) return false;
    if (confirm == nullptr) return true;
    auto it = confirm->find(kv.first);
    return it == confirm->end() || it->second.stamp != kv.second.stamp;
  });
}

VectorChange stronger(VectorChange a, VectorChange b) { return a > b ? a : b; }

}  // namespace

bool VectorState::assign_field(FieldEntry& e, Stamp stamp, bool present, const std::string& value) {
  if (stamp <= e.stamp) return false;
  bool visible_change = e.present != present || (present && e.value != value);
  e.stamp = stamp;
  e.present = present;
  e.value = present ? value : std::string();
  // A newer stamp is a state change even if the visible value is the same; report visibility.
  return visible_change;
}

bool VectorState::assign_tag(TagEntry& e, Stamp stamp, bool present) {
  if (stamp <= e.stamp) return false;
  bool visible_change = e.present != present;
  e.stamp = stamp;
  e.present = present;
  return visible_change;
}

void VectorState::reset_base(Stamp stamp, bool live, std::vector<float> embedding) {
  assert(kIgnoreStamps || stamp > base_stamp_);
  base_stamp_ = stamp;
  live_ = live;
  embedding_ = std::move(embedding);
  drop_entries_older_than(fields_, stamp);
  drop_entries_older_than(tags_, stamp);
}

template <typename M>
VectorChange VectorState::apply_impl(M&& m) {
  const Stamp stamp = m.stamp();
  // Anything older than the winning upsert/delete was overwritten by it (upsert replaces the whole
  // payload, delete clears it), so it can be ignored entirely.
  if (!kIgnoreStamps && stamp < base_stamp_) return VectorChange::kNone;
  if (stamp == base_stamp_) return VectorChange::kNone;  // the same write again

  VectorChange change = VectorChange::kNone;
  switch (m.op) {
    case Op::kUpsert: {
      if constexpr (std::is_rvalue_reference_v<M&&>) {
        reset_base(stamp, true, std::move(m.embedding));
      } else {
        reset_base(stamp, true, m.embedding);
      }
      change = VectorChange::kEmbedding;
      for (const auto& [key, value] : m.payload.fields)
        assign_field(fields_[key], stamp, true, value);
      for (const auto& tag : m.payload.tags) assign_tag(tags_[tag], stamp, true);
      break;
    }
    case Op::kDelete: {
      const bool was_live = live_;
      const bool had_payload = !visible_payload().empty();
      reset_base(stamp, false, {});
      change = was_live ? VectorChange::kRemoved
                        : (had_payload ? VectorChange::kPayload : VectorChange::kNone);
      break;
    }
    case Op::kPatch: {
      bool visible = false;
      for (const auto& [key, value] : m.payload.fields) {
        visible |= assign_field(fields_[key], stamp, true, value);
      }
      for (const auto& key : m.unset_fields)
        visible |= assign_field(fields_[key], stamp, false, {});
      for (const auto& tag : m.payload.tags) visible |= assign_tag(tags_[tag], stamp, true);
      for (const auto& tag : m.removed_tags) visible |= assign_tag(tags_[tag], stamp, false);
      change = visible ? VectorChange::kPayload : VectorChange::kNone;
      break;
    }
  }
  return change;
}

VectorChange VectorState::apply(const Mutation& m) { return apply_impl(m); }
VectorChange VectorState::apply(Mutation&& m) { return apply_impl(std::move(m)); }

VectorChange VectorState::merge(const VectorState& other) {
  VectorChange change = VectorChange::kNone;
  if (other.base_stamp_ > base_stamp_) {
    const bool was_live = live_;
    reset_base(other.base_stamp_, other.live_, other.embedding_);
    change = live_ ? VectorChange::kEmbedding
                   : (was_live ? VectorChange::kRemoved : VectorChange::kPayload);
  }
  // Entries of `other` older than our base are dead here; everything else is an LWW join.
  for (const auto& [key, theirs] : other.fields_) {
    if (theirs.stamp < base_stamp_) continue;
    if (assign_field(fields_[key], theirs.stamp, theirs.present, theirs.value)) {
      change = stronger(change, VectorChange::kPayload);
    }
  }
  for (const auto& [tag, theirs] : other.tags_) {
    if (theirs.stamp < base_stamp_) continue;
    if (assign_tag(tags_[tag], theirs.stamp, theirs.present)) {
      change = stronger(change, VectorChange::kPayload);
    }
  }
  return change;
}

bool VectorState::collect(uint64_t g) {
  if (!live_ && base_stamp_.timestamp < g) base_stamp_ = Stamp();
  std::erase_if(
      fields_, [g](const auto& kv) { return !kv.second.present && kv.second.stamp.timestamp < g; });
  std::erase_if(
      tags_, [g](const auto& kv) { return !kv.second.present && kv.second.stamp.timestamp < g; });
  return !live_ && base_stamp_.is_zero() && fields_.empty() && tags_.empty();
}

bool VectorState::collectable(uint64_t g) const {
  auto droppable = [g](const auto& kv) {
    return !kv.second.present && kv.second.stamp.timestamp < g;
  };
  if (!live_ && !base_stamp_.is_zero() && base_stamp_.timestamp < g) return true;
  if (std::any_of(fields_.begin(), fields_.end(), droppable)) return true;
  if (std::any_of(tags_.begin(), tags_.end(), droppable)) return true;
  return !live_ && base_stamp_.is_zero() && fields_.empty() && tags_.empty();
}

VectorChange VectorState::drop_unconfirmed_below(uint64_t g, const VectorState* confirm) {
  const bool was_live = live_;
  const Payload before = visible_payload();
  if (!base_stamp_.is_zero() && base_stamp_.timestamp < g &&
      (confirm == nullptr || confirm->base_stamp_ != base_stamp_)) {
    // The zero base keeps the invariant (no entry older than the base) trivially.
    base_stamp_ = Stamp();
    live_ = false;
    embedding_.clear();
  }
  drop_unconfirmed(fields_, g, confirm == nullptr ? nullptr : &confirm->fields_);
  drop_unconfirmed(tags_, g, confirm == nullptr ? nullptr : &confirm->tags_);
  if (was_live && !live_) return VectorChange::kRemoved;
  return visible_payload() == before ? VectorChange::kNone : VectorChange::kPayload;
}

Payload VectorState::visible_payload() const {
  Payload p;
  for (const auto& [key, e] : fields_) {
    if (e.present) p.fields.emplace(key, e.value);
  }
  for (const auto& [tag, e] : tags_) {
    if (e.present) p.tags.insert(tag);
  }
  return p;
}

bool VectorState::has_tag(const std::string& tag) const {
  auto it = tags_.find(tag);
  return it != tags_.end() && it->second.present;
}

bool VectorState::check_invariants() const {
  for (const auto& [key, e] : fields_) {
    if (e.stamp < base_stamp_ || e.stamp.is_zero()) return false;
    if (!e.present && !e.value.empty()) return false;
  }
  for (const auto& [tag, e] : tags_) {
    if (e.stamp < base_stamp_ || e.stamp.is_zero()) return false;
  }
  if (!live_ && !embedding_.empty()) return false;
  if (live_ && embedding_.empty()) return false;
  return true;
}

}  // namespace meridian
