// RegionNode: recovery from a peer of shards whose segment was rejected at start.
//
// A rejected segment (bad checksum, torn, another shard's) is never loaded; the shard is
// rebuilt from what the logs still hold. That is not enough once retention has deleted the
// records the segment covered: replay then yields a shard that silently misses data. Anti-
// entropy would notice other origins' missing records only after catch_up_after, and never this
// region's own (heartbeat claims are compared per other origin). So the node asks a peer for
// the shard at once, by the delta catch-up of catch_up.cc (signature of what it has, delta to
// the peer's snapshot, verified and merged as a join): whatever replay delivers meanwhile or
// later is kept, duplicates are dropped by the version vector. A failed attempt (peer
// unreachable, snapshot not verified) is retried after peer_recovery_retry with the next peer.
//
// The node's own partition: if its log has nothing left before its end (start offset == end),
// nothing but the peer's snapshot says which sequences this region issued in the shard, so the
// partition stays "recovering" (writes refused, no heartbeat) until the snapshot is installed;
// next_sequence then continues after the highest own sequence the peer has seen. Own records
// acknowledged but neither mirrored nor left in the log are lost either way.
#include <cassert>

#include "engine/node/collection_state.h"
#include "engine/node/coverage.h"
#include "engine/node/region_node.h"

namespace meridian::node {

void RegionNode::recover_from_peer(const std::string& collection, uint32_t shard) {
  if (needs_peer_recovery_.count({collection, shard}) == 0) return;  // done meanwhile
  // A catch-up of this shard is in flight (anti-entropy's): its completion counts as well.
  if (catching_up_.count({collection, shard}) != 0) return;
  const RegionInfo* first = nullptr;
  for (const RegionInfo& r : options_.regions) {
    if (r.id != options_.self.id) {
      first = &r;
      break;
    }
  }
  if (first == nullptr) {
    // A single region has no peer: what the logs held is all there is.
    needs_peer_recovery_.erase({collection, shard});
    if (own_log_gone_.erase({collection, shard}) != 0) {
      finish_own_recovery(*find(collection), shard);
    }
    return;
  }
  COVER("peer_recovery_started");
  // start_catch_up rotates through the peers from `first` on every attempt.
  start_catch_up(collection, shard, first->id);
}

void RegionNode::on_peer_recovery_done(const std::string& collection, uint32_t shard,
                                       bool installed, const std::string& peer) {
  if (needs_peer_recovery_.count({collection, shard}) == 0) return;
  if (!installed) {
    COVER("peer_recovery_retried");
    env_.timers.after(options_.peer_recovery_retry,
                      [this, collection, shard] { recover_from_peer(collection, shard); });
    return;
  }
  COVER("peer_recovery_installed");
  needs_peer_recovery_.erase({collection, shard});
  ++counters_.shards_recovered_from_peer;
  report_durability_problem(collection + " shard " + std::to_string(shard) +
                            " recovered from peer " + peer + " (its segment was rejected)");
  if (own_log_gone_.erase({collection, shard}) != 0) {
    finish_own_recovery(*find(collection), shard);
  }
}

}  // namespace meridian::node
