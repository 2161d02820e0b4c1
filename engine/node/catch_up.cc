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
        auto consumed = consumed_.find(key);
        const uint64_t position = consumed == consumed_.end() ? 0 : consumed->second;
        if (env_.log.end_offset(mirrored_topic(origin.name, wal_topic(name)), s) > position) {
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
  env_.peers.fetch_shard_delta(
      peer.name, request,
      [this, collection, shard, basis = std::move(basis)](ShardDeltaResponse response) {
        catching_up_.erase({collection, shard});
        install_shard_delta(collection, shard, basis, response);
      });
}

void RegionNode::install_shard_delta(const std::string& collection, uint32_t shard,
                                     const std::string& basis, const ShardDeltaResponse& response) {
  CollectionState& state = *find(collection);
  const CollectionConfig& config = state.collection->config();
  auto fail = [&](const std::string& why) {
    COVER("delta_catch_up_failed");
    ++counters_.catch_up_failures;
    report_durability_problem("catch-up of " + collection + " shard " + std::to_string(shard) +
                              " from " + response.served_by + " failed: " + why);
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
  Status merged = state.collection->merge_shard(*segment->replica);
  assert(merged.is_ok());
  (void)merged;
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
  if (!state.waiters.empty()) wake_session_waiters(state);
}

ShardDeltaResponse RegionNode::serve_shard_delta(const ShardDeltaRequest& request) {
  ShardDeltaResponse response;
  response.served_by = options_.self.name;
  const CollectionState* state = find(request.collection);
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
  const ShardReplica& replica = state->collection->shard(request.shard);
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
