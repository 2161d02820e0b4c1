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
  auto& [id, entry] = *states_.try_emplace(m.vector_id).first;
  VectorState& state = entry.mutate();
  const bool was_live = state.live();
  out.change = state.apply(std::forward<M>(m));
  if (state.live() != was_live) live_count_ += state.live() ? 1 : -1;
  out.id = &id;
  out.entry = &entry;
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
    other.states_.for_each([&](const auto& entry) {
      VectorState copy = entry.second.get();
      copy.drop_unconfirmed_below(complete_below, find(entry.first));
      filtered.emplace(entry.first, std::move(copy));
    });
  }
  if (other_complete_below > 0) {
    for (const std::string& id : sorted_ids()) {
      auto* it = states_.find(id);
      VectorState& mine = it->second.mutate();
      const bool was_live = mine.live();
      VectorChange change = mine.drop_unconfirmed_below(other_complete_below, other.find(id));
      if (mine.live() != was_live) --live_count_;
      if (change != VectorChange::kNone && on_change) on_change(it->first, it->second, change);
    }
  }
  // Visit in id order so that callbacks (and whatever they log) are deterministic.
  for (const std::string& id : other.sorted_ids()) {
    const VectorState& theirs = complete_below > 0 ? filtered.find(std::string_view(id))->second
                                                   : other.states_.find(id)->second.get();
    auto* it = states_.try_emplace(id).first;
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
  const size_t count = states_.erase_if([&](auto& entry) {
    // Most entries have nothing to collect; checking first leaves their state shared with a
    // checkpoint's copy of this shard instead of cloning every one of them (vector_entry.h).
    if (!entry.second->collectable(g) || !entry.second.mutate().collect(g)) return false;
    assert(!entry.second->live());
    if (on_erase) erased.push_back(entry.first);
    return true;
  });
  std::sort(erased.begin(), erased.end());
  for (const std::string& id : erased) on_erase(id);
  return count;
}

const VectorState* ShardReplica::find(std::string_view id) const {
  const auto* entry = states_.find(id);
  return entry == nullptr ? nullptr : &entry->second.get();
}

std::vector<std::string> ShardReplica::sorted_ids() const {
  std::vector<std::string> ids;
  ids.reserve(states_.size());
  states_.for_each([&](const auto& entry) { ids.push_back(entry.first); });
  std::sort(ids.begin(), ids.end());
  return ids;
}

bool ShardReplica::operator==(const ShardReplica& other) const {
  return shard_index_ == other.shard_index_ && live_count_ == other.live_count_ &&
         version_vector_ == other.version_vector_ && states_ == other.states_;
}

}  // namespace meridian
