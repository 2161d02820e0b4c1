// RegionNode: anti-entropy and delta catch-up (DESIGN.md §4).
//
// Detection: an origin's heartbeats claim, per shard, the last sequence it issued. A shard is
// behind an origin while a claimed sequence is not covered by its version vector; `Behind`
// remembers the oldest uncovered claim and since when, so a steady stream of new writes (data
// always a little behind the newest heartbeat) never looks like lag, while a claim that stays
// uncovered does. Catch-up starts when it has stayed so for catch_up_after and the local log has
// nothing more to deliver for that partition: waiting would not help (the records were deleted
// by retention before they were mirrored here, or the mirror cannot reach the origin).
//
// Transfer: the lagging node encodes its own snapshot of the shard (canonical: equal state gives
// equal bytes in every region), sends its librsync signature, and the peer answers with the
// delta to the peer's snapshot and that snapshot's digest. The node patches, verifies the
// segment's checksums and the digest, and installs the result by CRDT merge: a join, so records
// the node applied meanwhile are kept and installing is atomic from the engine's point of view
// (one call on the engine thread). The log then continues from where it is; records the
// snapshot already covers are dropped as duplicates by the version vector.
#include <algorithm>
#include <cassert>
#include <utility>

#include "engine/core/rsync_delta.h"
#include "engine/core/segment_file.h"
#include "engine/core/shard_digest.h"
#include "engine/node/collection_state.h"
#include "engine/node/coverage.h"
#include "engine/node/region_node.h"

namespace meridian::node {

void RegionNode::anti_entropy() {
  env_.timers.after(options_.anti_entropy_interval, [this] { anti_entropy(); });
  // Garbage collection of one shard per round (round robin), for shards a checkpoint does not
  // visit (or nodes without files).
  update_stable_frontier();
  std::vector<std::pair<CollectionState*, uint32_t>> all_shards;
  for (auto& [name, state] : collections_) {
    for (uint32_t s = 0; s < state->collection->config().num_shards; ++s) {
      all_shards.emplace_back(state.get(), s);
    }
  }
  if (!all_shards.empty()) {
    const auto [gc_state, gc_shard] = all_shards[gc_round_++ % all_shards.size()];
    collect_shard(*gc_state, gc_shard);
  }
  const env::TimeNs now = env_.clock.monotonic_ns();
  for (const RegionInfo& origin : options_.regions) {
    if (origin.id == options_.self.id) continue;
    auto claims = claimed_.find(origin.id);
    if (claims == claimed_.end()) continue;
    size_t i = 0;
    for (const auto& [name, state] : collections_) {
      for (uint32_t s = 0; s < state->collection->config().num_shards; ++s, ++i) {
        if (i >= claims->second.size()) return;
        const uint64_t claimed = claims->second[i];
        const uint64_t frontier = state->collection->shard(s).version_vector().frontier(origin.id);
        const auto key = std::make_tuple(name, origin.id, s);
        auto it = behind_.find(key);
        if (it != behind_.end() && frontier >= it->second.target) {
          behind_.erase(it);
          it = behind_.end();
        }
        if (frontier >= claimed) continue;
        if (it == behind_.end()) {
          behind_.emplace(key, Behind{now, claimed});
          continue;
        }
        if (now - it->second.since >= options_.lag_alert_after) COVER("lag_alert");
        if (options_.catch_up_after <= 0 || now - it->second.since < options_.catch_up_after) {
          continue;
        }
        const std::string topic = mirrored_topic(origin.name, wal_topic(name));
        auto consumed = consumed_.find(key);
        // Records before the start offset were deleted: they will not arrive.
        const uint64_t position = std::max(env_.log.start_offset(topic, s),
                                           consumed == consumed_.end() ? 0 : consumed->second);
        if (env_.log.end_offset(topic, s) > position) {
          continue;  // the log still has records for it: let them arrive
        }
        if (catching_up_.count({name, s}) == 0) start_catch_up(name, s, origin.id);
      }
    }
  }
}

void RegionNode::start_catch_up(const std::string& collection, uint32_t shard,
                                RegionId behind_origin) {
  const CollectionState& state = *find(collection);
  const CollectionConfig& config = state.collection->config();
  std::string basis =
      write_snapshot_segment(snapshot_header(config, shard), state.collection->shard(shard));
  Result<std::string> signature = rsync_signature(basis);
  assert(signature.is_ok());  // default options are valid
  // The origin itself first (it has every record it wrote), then the other regions in turn.
  std::vector<const RegionInfo*> peers = {region_by_id(behind_origin)};
  for (const RegionInfo& r : options_.regions) {
    if (r.id != behind_origin && r.id != options_.self.id) peers.push_back(&r);
  }
  const RegionInfo& peer = *peers[catch_up_attempts_[{collection, shard}]++ % peers.size()];
  COVER("delta_catch_up_started");
  ++counters_.catch_ups_started;
  counters_.catch_up_bytes += signature->size();
  catching_up_.insert({collection, shard});
  ShardDeltaRequest request{collection, shard, std::move(signature).value()};
  env_.peers.fetch_shard_delta(peer.name, request,
                               [this, collection, shard, peer_name = peer.name,
                                basis = std::move(basis)](ShardDeltaResponse response) {
                                 catching_up_.erase({collection, shard});
                                 const bool installed =
                                     install_shard_delta(collection, shard, basis, response);
                                 on_peer_recovery_done(collection, shard, installed, peer_name);
                               });
}

bool RegionNode::install_shard_delta(const std::string& collection, uint32_t shard,
                                     const std::string& basis, const ShardDeltaResponse& response) {
  CollectionState& state = *find(collection);
  const CollectionConfig& config = state.collection->config();
  auto fail = [&](const std::string& why) {
    COVER("delta_catch_up_failed");
    ++counters_.catch_up_failures;
    report_durability_problem("catch-up of " + collection + " shard " + std::to_string(shard) +
                              " from " + response.served_by + " failed: " + why);
    return false;
  };
  if (!response.status.is_ok()) return fail(response.status.to_string());
  counters_.catch_up_bytes += response.delta.size();
  counters_.catch_up_full_bytes += response.snapshot_bytes;
  // Bound what a (buggy or hostile) delta can make us allocate: a snapshot can grow, but not
  // beyond what the peer said it sent plus slack.
  Result<std::string> patched =
      rsync_patch(basis, response.delta, response.snapshot_bytes + (size_t(1) << 20));
  if (!patched.is_ok()) return fail("patch: " + patched.status().to_string());
  Result<Segment> segment = read_segment(*patched);
  if (!segment.is_ok()) return fail("patched segment: " + segment.status().to_string());
  if (segment->header != snapshot_header(config, shard) || !segment->replica) {
    return fail("patched segment is not this shard's snapshot");
  }
  if (to_hex(digest_shard(*segment->replica).root) != response.digest_root) {
    return fail("digest mismatch after patching");
  }
  const VersionVector before = state.collection->shard(shard).version_vector();
  // Both sides may have collected tombstones, at different frontiers: each side's view is the
  // truth below the frontier it is complete below, so neither may resurrect there what the
  // other dropped (ShardReplica::merge). Afterwards this shard holds everything the peer
  // applied, so it is complete below the peer's frontier too and is collected there.
  const uint64_t ours = shard_stable_frontier(collection, shard);
  Status merged = state.collection->merge_shard(*segment->replica, ours, response.stable_frontier);
  assert(merged.is_ok());
  (void)merged;
  // Unconditionally: the filters may have left ids with nothing in them.
  const uint64_t g = std::max(ours, response.stable_frontier);
  if (g > 0) counters_.tombstones_collected += state.collection->collect_garbage(shard, g);
  // A merge is no sequence of records: the next checkpoint writes a new sealed snapshot.
  state.active[shard].drop();
  state.next_sequence[shard] =
      std::max(state.next_sequence[shard],
               segment->replica->version_vector().max_sequence(options_.self.id));
  if (observer_ != nullptr) {
    observer_->on_caught_up(collection, shard, before,
                            state.collection->shard(shard).version_vector());
  }
  COVER("delta_catch_up_installed");
  ++counters_.catch_ups_installed;
  refresh_all_freshness();  // the merge may have covered heartbeats of any origin
  if (!state.waiters.empty()) wake_all_session_waiters(state);
  return true;
}

ShardDeltaResponse RegionNode::serve_shard_delta(const ShardDeltaRequest& request) {
  ShardDeltaResponse response;
  response.served_by = options_.self.name;
  CollectionState* state = find(request.collection);
  if (state == nullptr) {
    response.status = Status::not_found("no collection '" + request.collection + "'");
    return response;
  }
  const CollectionConfig& config = state->collection->config();
  if (request.shard >= config.num_shards) {
    response.status = Status::invalid_argument("collection '" + request.collection + "' has " +
                                               std::to_string(config.num_shards) + " shards");
    return response;
  }
  // Collected first, so the snapshot is normalised at the frontier it is sent with.
  collect_shard(*state, request.shard);
  const ShardReplica& replica = state->collection->shard(request.shard);
  response.stable_frontier = shard_stable_frontier(request.collection, request.shard);
  const std::string snapshot =
      write_snapshot_segment(snapshot_header(config, request.shard), replica);
  Result<std::string> delta = rsync_delta(request.signature, snapshot);
  if (!delta.is_ok()) {
    response.status = delta.status();
    return response;
  }
  response.delta = std::move(delta).value();
  response.digest_root = to_hex(digest_shard(replica).root);
  response.snapshot_bytes = snapshot.size();
  ++counters_.shard_deltas_served;
  return response;
}

std::vector<RegionNode::LagAlert> RegionNode::lag_alerts() const {
  std::vector<LagAlert> out;
  const env::TimeNs now = env_.clock.monotonic_ns();
  for (const auto& [key, behind] : behind_) {
    if (now - behind.since < options_.lag_alert_after) continue;
    out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), now - behind.since});
  }
  return out;
}

}  // namespace meridian::node
