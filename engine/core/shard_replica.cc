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
  if (it == states_.end()) it = states_.emplace(m.vector_id, VectorState()).first;
  VectorState& state = it->second;
  const bool was_live = state.live();
  out.change = state.apply(std::forward<M>(m));
  if (state.live() != was_live) live_count_ += state.live() ? 1 : -1;
  out.id = &it->first;
  out.state = &state;
  return out;
}

ApplyOutcome ShardReplica::apply(const Mutation& m) { return apply_impl(m); }
ApplyOutcome ShardReplica::apply(Mutation&& m) { return apply_impl(std::move(m)); }

void ShardReplica::merge(const ShardReplica& other, const ChangeFn& on_change) {
  assert(other.shard_index_ == shard_index_);
  // Visit in id order so that callbacks (and whatever they log) are deterministic.
  for (const std::string& id : other.sorted_ids()) {
    const VectorState& theirs = other.states_.find(std::string_view(id))->second;
    auto it = states_.find(std::string_view(id));
    if (it == states_.end()) it = states_.emplace(id, VectorState()).first;
    VectorState& mine = it->second;
    const bool was_live = mine.live();
    VectorChange change = mine.merge(theirs);
    if (mine.live() != was_live) live_count_ += mine.live() ? 1 : -1;
    if (change != VectorChange::kNone && on_change) on_change(it->first, mine, change);
  }
  version_vector_.merge(other.version_vector_);
}

const VectorState* ShardReplica::find(std::string_view id) const {
  auto it = states_.find(id);
  return it == states_.end() ? nullptr : &it->second;
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
