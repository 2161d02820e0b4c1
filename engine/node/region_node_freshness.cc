// RegionNode: heartbeats and staleness (the protocol is in region_node.h). Every heartbeat
// vouches for the last sequence this region issued per shard; a region counts an origin fresh
// as of a heartbeat only once it has applied everything that heartbeat vouches for.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/binary_io.h"
#include "engine/node/collection_state.h"
#include "engine/node/coverage.h"
#include "engine/node/region_node.h"

namespace meridian::node {

std::string RegionNode::encode_heartbeat(uint64_t hlc, uint64_t stable_point) const {
  // Little-endian u64s: this region's wall clock (ms), then per (collection in name order,
  // shard) the last sequence issued here, then the heartbeat's HLC stamp and this region's
  // stable point (appended last, so that a node that predates them reads the rest unchanged).
  std::string out;
  auto put = [&out](uint64_t v) { binary_io::put_fixed<uint64_t>(&out, v); };
  put(env_.clock.wall_ms());
  for (const auto& [name, state] : collections_) {
    for (uint64_t seq : state->next_sequence) put(seq);
  }
  put(hlc);
  put(stable_point);
  return out;
}

void RegionNode::heartbeat() {
  // Ticked, so that every write issued before has a smaller stamp (and a sequence vouched for
  // below) and every later one a larger stamp.
  const uint64_t hlc = clock_.tick(env_.clock.wall_ms());
  std::string value = encode_heartbeat(hlc, stable_point());
  // Our own writes count like anyone's: applied once consumed from the own log. The heartbeat
  // is queued only once durable: a restarted incarnation moves its clock past the newest durable
  // one (on_own_heartbeat), so no stamp we ever relied on can be undercut by a later write.
  PendingHeartbeat own;
  own.origin_wall_ms = env_.clock.wall_ms();
  own.hlc = hlc;
  for (const auto& [name, state] : collections_) {
    own.sequences.insert(own.sequences.end(), state->next_sequence.begin(),
                         state->next_sequence.end());
  }
  update_stable_frontier();
  env_.log.produce(kHeartbeatTopic, 0, options_.self.name, std::move(value),
                   [this, own = std::move(own)](Status status, uint64_t) mutable {
                     if (!status.is_ok()) return;
                     auto& queue = pending_heartbeats_[options_.self.id];
                     queue.push_back(std::move(own));
                     if (queue.size() > kMaxPendingHeartbeats) queue.pop_front();
                     // Its data may all be applied already.
                     refresh_freshness(options_.self.id);
                   });
  env_.timers.after(options_.heartbeat_interval, [this] { heartbeat(); });
}

void RegionNode::on_heartbeat(RegionId origin, const std::string& value) {
  size_t shards = 0;
  for (const auto& [name, state] : collections_) shards += state->next_sequence.size();
  // With or without the stamp and stable point (a node that predates garbage collection).
  const bool stamped = value.size() == 8 * (3 + shards);
  if (!stamped && value.size() != 8 * (1 + shards)) {
    // A heartbeat from a node with another collection layout (e.g. mid-rollout): it proves the
    // origin is alive but not what it wrote, so it cannot make this region fresh.
    COVER("heartbeat_layout_mismatch");
    return;
  }
  auto get = [&value](size_t i) { return binary_io::load_fixed<uint64_t>(value.data() + 8 * i); };
  PendingHeartbeat h;
  h.origin_wall_ms = get(0);
  for (size_t i = 0; i < shards; ++i) h.sequences.push_back(get(1 + i));
  if (stamped) {
    h.hlc = get(1 + shards);
    // Newest first: the heartbeat topic is read in order. A restarted origin reports 0 again,
    // which holds G back from rising but never lowers it (stable_frontier_ is monotonic).
    peer_stable_point_[origin] = get(2 + shards);
  }
  std::vector<uint64_t>& claimed = claimed_[origin];
  claimed.resize(shards, 0);
  for (size_t i = 0; i < shards; ++i) claimed[i] = std::max(claimed[i], h.sequences[i]);
  // Minimum (arrival - origin wall) over all heartbeats: the origin's clock offset plus the
  // smallest transit seen (an NTP-style minimum filter). Only ever decreases.
  const env::TimeNs offset =
      env_.clock.monotonic_ns() - env::TimeNs(h.origin_wall_ms) * env::kMillisecond;
  auto [it, fresh] = min_offset_.emplace(origin, offset);
  if (!fresh && offset < it->second) it->second = offset;
  auto& queue = pending_heartbeats_[origin];
  queue.push_back(std::move(h));
  // Dropping the oldest only delays freshness: a newer heartbeat vouches for more.
  if (queue.size() > kMaxPendingHeartbeats) queue.pop_front();
  refresh_freshness(origin);
}

void RegionNode::refresh_all_freshness() {
  for (const RegionInfo& r : options_.regions) refresh_freshness(r.id);
}

void RegionNode::refresh_freshness(RegionId origin) {
  auto it = pending_heartbeats_.find(origin);
  if (it == pending_heartbeats_.end()) return;
  auto& queue = it->second;
  while (!queue.empty()) {
    size_t i = 0;
    bool applied = true;
    for (const auto& [name, state] : collections_) {
      for (uint32_t s = 0; s < state->next_sequence.size() && applied; ++s, ++i) {
        applied = state->collection->shard(s).version_vector().frontier(origin) >=
                  queue.front().sequences[i];
      }
    }
    if (!applied) break;
    uint64_t& newest = fresh_as_of_wall_ms_[origin];
    newest = std::max(newest, queue.front().origin_wall_ms);
    uint64_t& stable = stable_hlc_[origin];
    stable = std::max(stable, queue.front().hlc);
    queue.pop_front();
  }
}

env::TimeNs RegionNode::staleness(RegionId origin) const {
  if (origin == options_.self.id) return 0;
  const env::TimeNs now = env_.clock.monotonic_ns();
  auto fresh = fresh_as_of_wall_ms_.find(origin);
  if (fresh == fresh_as_of_wall_ms_.end()) {
    return options_.fresh_deployment ? now - started_at_ + options_.staleness_margin
                                     : kStalenessUnknown;
  }
  // When the newest applied heartbeat was sent, in this node's monotonic time. The minimum
  // offset places it no later than it really was sent plus the minimum transit time (which
  // staleness_margin covers), so staleness is never understated by more than that.
  const env::TimeNs sent_at =
      env::TimeNs(fresh->second) * env::kMillisecond + min_offset_.at(origin);
  return std::max<env::TimeNs>(0, now - sent_at) + options_.staleness_margin;
}

env::TimeNs RegionNode::max_staleness() const {
  env::TimeNs worst = 0;
  for (const RegionInfo& r : options_.regions) worst = std::max(worst, staleness(r.id));
  return worst;
}

}  // namespace meridian::node
