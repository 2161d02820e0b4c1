#include "engine/core/shard_replica.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace meridian {

template <typename M>
ApplyOutcome ShardReplica::apply_impl(M&& m) {
  ApplyOutcome out;
  if (!version_vector_.add(m.origin_region, m.origin_sequence)) {
    out.duplicate = true;
    return out;
  }
  auto it = states_.find(std::string_view(m.vector_id));
  if (it == states_.end()) it = states_.emplace(m.vector_id, VectorEntry()).first;
  VectorState& state = it->second.mutate();
  const bool was_live = state.live();
  out.change = state.apply(std::forward<M>(m));
  if (state.live() != was_live) live_count_ += state.live() ? 1 : -1;
  out.id = &it->first;
  out.entry = &it->second;
  return out;
}

ApplyOutcome ShardReplica::apply(const Mutation& m) { return apply_impl(m); }
ApplyOutcome ShardReplica::apply(Mutation&& m) { return apply_impl(std::move(m)); }

void ShardReplica::merge(const ShardReplica& other, const ChangeFn& on_change,
                         uint64_t complete_below, uint64_t other_complete_below) {
  assert(other.shard_index_ == shard_index_);
  // Both filters look at the other side as it was before the merge, so do ours first on a copy.
  std::unordered_map<std::string, VectorState, StringHash, std::equal_to<>> filtered;
  if (complete_below > 0) {
    for (const auto& [id, theirs] : other.states_) {
      VectorState copy = theirs.get();
      copy.drop_unconfirmed_below(complete_below, find(id));
      filtered.emplace(id, std::move(copy));
    }
  }
  if (other_complete_below > 0) {
    for (const std::string& id : sorted_ids()) {
      auto it = states_.find(std::string_view(id));
      VectorState& mine = it->second.mutate();
      const bool was_live = mine.live();
      VectorChange change = mine.drop_unconfirmed_below(other_complete_below, other.find(id));
      if (mine.live() != was_live) --live_count_;
      if (change != VectorChange::kNone && on_change) on_change(it->first, it->second, change);
    }
  }
  // Visit in id order so that callbacks (and whatever they log) are deterministic.
  for (const std::string& id : other.sorted_ids()) {
    const VectorState& theirs = complete_below > 0
                                    ? filtered.find(std::string_view(id))->second
                                    : other.states_.find(std::string_view(id))->second.get();
    auto it = states_.find(std::string_view(id));
    if (it == states_.end()) it = states_.emplace(id, VectorEntry()).first;
    VectorState& mine = it->second.mutate();
    const bool was_live = mine.live();
    VectorChange change = mine.merge(theirs);
    if (mine.live() != was_live) live_count_ += mine.live() ? 1 : -1;
    if (change != VectorChange::kNone && on_change) on_change(it->first, it->second, change);
  }
  version_vector_.merge(other.version_vector_);
}

size_t ShardReplica::collect_garbage(uint64_t g,
                                     const std::function<void(const std::string&)>& on_erase) {
  collected_below_ = std::max(collected_below_, g);
  // Each entry is normalised on its own, so the map's iteration order cannot matter; the
  // erased ids are reported sorted.
  std::vector<std::string> erased;
  size_t count = 0;
  for (auto it = states_.begin(); it != states_.end();) {
    // Most entries have nothing to collect; checking first leaves their state shared with a
    // checkpoint's copy of this shard instead of cloning every one of them (vector_entry.h).
    if (it->second->collectable(g) && it->second.mutate().collect(g)) {
      assert(!it->second->live());
      ++count;
      if (on_erase) erased.push_back(it->first);
      it = states_.erase(it);
    } else {
      ++it;
    }
  }
  std::sort(erased.begin(), erased.end());
  for (const std::string& id : erased) on_erase(id);
  return count;
}

const VectorState* ShardReplica::find(std::string_view id) const {
  auto it = states_.find(id);
  return it == states_.end() ? nullptr : &it->second.get();
}

std::vector<std::string> ShardReplica::sorted_ids() const {
  std::vector<std::string> ids;
  ids.reserve(states_.size());
  for (const auto& [id, state] : states_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

bool ShardReplica::operator==(const ShardReplica& other) const {
  return shard_index_ == other.shard_index_ && live_count_ == other.live_count_ &&
         version_vector_ == other.version_vector_ && states_ == other.states_;
}

}  // namespace meridian
