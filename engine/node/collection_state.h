// Per-collection state inside a RegionNode (private to engine/node).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "engine/core/collection.h"
#include "engine/core/segment_file.h"
#include "engine/node/active_segment.h"
#include "engine/node/own_writer_check.h"
#include "engine/node/region_node.h"
#include "engine/node/shard_producer.h"

namespace meridian::node {

struct RegionNode::SessionWaiter {
  SearchRequest request;
  std::function<void(SearchResponse)> done;
  env::Timers::TimerId deadline = 0;
  uint64_t arrival = 0;  // reads that become covered together are answered in this order
  SessionNeed need{};    // the first entry of its token not applied here when last looked at
};

struct RegionNode::CollectionState {
  std::unique_ptr<Collection> collection;
  std::vector<std::unique_ptr<ShardProducer>> producers;  // per shard
  std::vector<uint64_t> next_sequence;                    // per shard: last sequence issued here
  std::vector<uint64_t> writes_per_shard;                 // accepted here
  // Per shard: the own partition's end offset at start, until the replay has read up to it
  // (then 0). While any is non-zero the node is recovering.
  std::vector<uint64_t> recover_until;
  // Per shard: recognises another writer's records in the own partition (split brain).
  std::vector<OwnWriterCheck> own_writes;
  // Session reads waiting for their token, filed under the token entry each still needs: an
  // applied record looks only at the reads filed under it, not at every waiting read (with
  // 10,000 reads parked, scanning all of them on every apply cut the apply rate ~10x:
  // bench/session_wait_bench.cc). A read whose entry arrives is answered or filed again under
  // its next missing entry.
  std::map<SessionNeed, std::vector<std::shared_ptr<SessionWaiter>>> waiters;
  uint64_t waiter_arrivals = 0;
  // Per shard: the records applied since its last sealed snapshot (kept only with files).
  std::vector<ActiveSegment> active;
};

// The header of a shard's snapshot segment as this node is configured.
inline SegmentHeader snapshot_header(const CollectionConfig& config, uint32_t shard) {
  SegmentHeader h;
  h.kind = SegmentKind::kShardSnapshot;
  h.collection = config.name;
  h.shard_index = shard;
  h.num_shards = config.num_shards;
  h.dimension = config.index.dimension;
  h.routing_seed = config.routing_seed;
  return h;
}

// The header of a shard's applied-records segment as this node is configured.
inline SegmentHeader records_header(const CollectionConfig& config, uint32_t shard) {
  SegmentHeader h = snapshot_header(config, shard);
  h.kind = SegmentKind::kAppliedRecords;
  return h;
}

}  // namespace meridian::node
