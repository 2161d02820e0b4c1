// RegionNode: tombstone collection once causally stable (region_node.h has the protocol).
//
// Why G is safe to collect at. An origin X stamps each heartbeat with a tick of its clock, h,
// and vouches for the last sequence it issued in every shard. Every write X issued before has a
// smaller stamp and a vouched sequence; every write after, a larger stamp (the clock is
// monotonic, and a restarted X reads its newest heartbeat before its first write, see
// on_own_heartbeat). So once a region has applied the vouched sequences it has applied every
// write of X older than h, for good. The minimum of such h over all origins (the stable point S)
// is a timestamp below which the region is complete (its own heartbeats count only once
// durable, because a restarted incarnation can only pass the stamps its log holds); the stable
// frontier G additionally waits for every other region's reported S, so that every region is
// complete below G. Since no mutation older than G will ever be applied anywhere again (a
// re-delivered one is a duplicate by version vector), dropping tombstones older than G changes no
// future outcome (VectorState::collect).
//
// Where collection runs: before a shard is checkpointed or served to a peer, and one shard per
// anti-entropy round otherwise (so a node without files collects too). The frontier a shard was
// collected at travels with its snapshots and digests (requests.h), so that comparisons and
// catch-up merges stay sound when regions collected at different points.
#include <algorithm>
#include <cassert>

#include "engine/core/binary_io.h"
#include "engine/node/collection_state.h"
#include "engine/node/coverage.h"
#include "engine/node/region_node.h"

namespace meridian::node {

void RegionNode::on_own_heartbeat(const env::LogRecord& record) {
  // Before this node writes, every own heartbeat's writer counts towards its epoch; after, a
  // newer writer's heartbeat makes it yield (own_writer_check.h).
  note_writer(record.writer);
  if (writer_id_ != 0 && record.writer != writer_id_ && record.writer != 0) {
    stop_writes_if_not_newest(record.writer, std::string(kHeartbeatTopic) + "/0",
                              "a heartbeat at offset " + std::to_string(record.offset));
  }
  // Only the newest one of earlier incarnations matters; later ones are this incarnation's.
  if (own_heartbeat_until_ == 0 || record.offset + 1 < own_heartbeat_until_) return;
  own_heartbeat_until_ = 0;
  size_t shards = 0;
  for (const auto& [name, state] : collections_) shards += state->next_sequence.size();
  // The stamp is the second to last u64. A heartbeat of another collection layout (the
  // configuration changed across the restart) cannot be parsed safely; the wal replay's
  // observe() is then all the clock gets (a documented gap of rolling layout changes).
  if (record.value.size() == 8 * (3 + shards)) {
    const uint64_t hlc = binary_io::load_fixed<uint64_t>(record.value.data() + 8 * (1 + shards));
    clock_.observe(hlc, env_.clock.wall_ms());
    COVER("own_heartbeat_observed");
  }
  finish_recovering_partition();
}

uint64_t RegionNode::stable_point() const {
  uint64_t s = UINT64_MAX;
  // stable_hlc_ is brought up to date eagerly (refresh_freshness), so this only reads.
  for (const RegionInfo& r : options_.regions) {
    auto it = stable_hlc_.find(r.id);
    s = std::min(s, it == stable_hlc_.end() ? 0 : it->second);
  }
  return s == UINT64_MAX ? 0 : s;
}

void RegionNode::update_stable_frontier() {
  uint64_t g = stable_point();
  for (const RegionInfo& r : options_.regions) {
    if (r.id == options_.self.id) continue;
    auto it = peer_stable_point_.find(r.id);
    g = std::min(g, it == peer_stable_point_.end() ? 0 : it->second);
  }
  // Monotonic: our own completeness below an earlier G does not go away, and a peer that
  // restarted (and reports 0 again) replays the logs, which hold everything older.
  stable_frontier_ = std::max(stable_frontier_, g);
}

uint64_t RegionNode::shard_stable_frontier(const std::string& collection, uint32_t shard) const {
  const Collection* c = this->collection(collection);
  if (c == nullptr || shard >= c->config().num_shards) return 0;
  return std::max(stable_frontier_, c->shard(shard).collected_below());
}

void RegionNode::collect_shard(CollectionState& state, uint32_t shard) {
  const std::string& name = state.collection->config().name;
  const uint64_t g = shard_stable_frontier(name, shard);
  if (g == 0 || g <= state.collection->shard(shard).collected_below()) return;
  const size_t erased = state.collection->collect_garbage(shard, g);
  if (erased == 0) return;
  COVER("tombstone_collected");
  counters_.tombstones_collected += erased;
}

}  // namespace meridian::node
