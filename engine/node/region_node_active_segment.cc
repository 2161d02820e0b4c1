// RegionNode: a checkpoint writes a lightly changed shard as its active segment (the records
// applied since its sealed snapshot) and compacts the others into a new sealed snapshot;
// recovery applies a shard's records segment on top of its snapshot (active_segment.h).
#include <cassert>
#include <memory>
#include <utility>

#include "engine/core/record_codec.h"
#include "engine/core/segment_file.h"
#include "engine/node/collection_state.h"
#include "engine/node/coverage.h"
#include "engine/node/region_node.h"

namespace meridian::node {

RegionNode::CheckpointSegment RegionNode::prepare_checkpoint_segment(PendingCheckpoint& p,
                                                                     const std::string& collection,
                                                                     uint32_t shard) {
  CollectionState& state = *find(collection);
  const CollectionConfig& config = state.collection->config();
  const ShardReplica& replica = state.collection->shard(shard);
  ActiveSegment& active = state.active[shard];
  const std::pair<std::string, uint32_t> key{collection, shard};
  auto durable = durable_checkpoint_.segments.find(key);
  const bool had_snapshot = durable != durable_checkpoint_.segments.end();
  // Each branch copies what its encoding reads: the encoding runs off the loop (env::Files::
  // write_encoded) while the shard keeps changing.
  if (had_snapshot && active.follows(durable->second)) {
    // The whole active segment again (not just what is new since the last checkpoint): one
    // records file per shard, so recovery never chains them. Its version vector is the
    // shard's now, which the records applied to the snapshot reproduce exactly.
    COVER("records_segment_encoded");
    const std::string file = records_file_name(collection, shard, p.manifest.checkpoint);
    p.manifest.segments[key] = durable->second;
    p.manifest.records[key] = file;
    ++p.records_segments;
    return {file,
            [header = records_header(config, shard), records = active.records(),
             vv = replica.version_vector()] { return write_records_segment(header, records, vv); }};
  }
  // No durable snapshot to follow, the buffer was dropped (too large, or the shard changed by
  // a merge), or the snapshot it follows belongs to a checkpoint that failed: compact.
  if (had_snapshot) {
    COVER("shard_compacted");
    ++p.compactions;
  }
  const std::string file = segment_file_name(collection, shard, p.manifest.checkpoint);
  p.manifest.segments[key] = file;
  p.manifest.records.erase(key);
  // Records applied from now on follow this snapshot; they are written as records only once
  // its checkpoint is durable (ActiveSegment::follows). Its size is known once encoded.
  active.seal(file, active.snapshot_bytes());
  return {file, [header = snapshot_header(config, shard),
                 copy = std::make_shared<const ShardReplica>(replica)] {
            return write_snapshot_segment(header, *copy);
          }};
}

Status RegionNode::load_records_segment(const CollectionConfig& config, uint32_t shard,
                                        const std::string& file, ShardReplica* replica,
                                        std::vector<Mutation>* records) {
  Result<std::string> bytes = env_.files->read(file);
  if (!bytes.is_ok()) return bytes.status();
  // Every checksum and the whole body are verified before a single record is applied.
  Result<Segment> segment = read_segment(*bytes);
  if (!segment.is_ok()) return segment.status();
  if (segment->header != records_header(config, shard)) {
    return Status::corruption("holds " + std::string(segment_kind_name(segment->header.kind)) +
                              " of " + segment->header.collection + " shard " +
                              std::to_string(segment->header.shard_index) +
                              ", not this shard's applied records as configured");
  }
  // In order; a record the snapshot already holds is a duplicate and skipped.
  for (const Mutation& m : segment->records) replica->apply(m);
  // The writer put the shard's version vector in the footer: anything else means these records
  // do not follow this snapshot.
  if (replica->version_vector() != segment->version_vector) {
    return Status::corruption("records end at version vector " +
                              replica->version_vector().to_string() + ", the footer says " +
                              segment->version_vector.to_string());
  }
  *records = std::move(segment->records);
  return Status::ok();
}

}  // namespace meridian::node
