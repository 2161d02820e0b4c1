// Per-collection state inside a RegionNode (private to engine/node).
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <vector>

#include "engine/core/collection.h"
#include "engine/core/segment_file.h"
#include "engine/node/active_segment.h"
#include "engine/node/region_node.h"
#include "engine/node/shard_producer.h"

namespace meridian::node {

struct RegionNode::SessionWaiter {
  SearchRequest request;
  std::function<void(SearchResponse)> done;
  env::Timers::TimerId deadline = 0;
};

struct RegionNode::CollectionState {
  std::unique_ptr<Collection> collection;
  std::vector<std::unique_ptr<ShardProducer>> producers;  // per shard
  std::vector<uint64_t> next_sequence;                    // per shard: last sequence issued here
  std::vector<uint64_t> writes_per_shard;                 // accepted here
  // Per shard: the own partition's end offset at start, until the replay has read up to it
  // (then 0). While any is non-zero the node is recovering.
  std::vector<uint64_t> recover_until;
  // Session reads waiting for their token; checked after every applied record. A list because
  // waiters leave from the middle and their order is the order they arrived.
  std::list<std::shared_ptr<SessionWaiter>> waiters;
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
