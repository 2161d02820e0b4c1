// RegionNode's write path: a client's write becomes a mutation with this region's next
// sequence and HLC stamp, and is acknowledged once its shard's producer has it durable in the
// region's log (shard_producer.h). Writes are refused, never queued without bound, while the node
// recovers its own log, while too many are pending, and for good once another node is found
// writing as this region (own_writer_check.h; the read-back side is on_record).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/record_codec.h"
#include "engine/node/collection_state.h"
#include "engine/node/coverage.h"
#include "engine/node/region_node.h"

namespace meridian::node {

Status RegionNode::to_mutation(const WriteRequest& request, const CollectionState& state,
                               Mutation* m) const {
  m->op = request.op;
  m->collection = request.collection;
  m->vector_id = request.vector_id;
  m->embedding = request.embedding;
  m->payload = request.payload;
  m->unset_fields = request.unset_fields;
  m->removed_tags = request.removed_tags;
  m->origin_region = options_.self.id;
  m->timestamp = 1;  // placeholders so that validate() checks the client's part only
  m->origin_sequence = 1;
  if (Status s = validate(*m); !s.is_ok()) return s;
  const uint32_t dim = state.collection->config().index.dimension;
  if (m->op == Op::kUpsert && m->embedding.size() != dim) {
    return Status::invalid_argument("embedding has " + std::to_string(m->embedding.size()) +
                                    " dimensions; collection '" + m->collection + "' has " +
                                    std::to_string(dim));
  }
  return Status::ok();
}

void RegionNode::write(WriteRequest request, std::function<void(WriteResponse)> done) {
  CollectionState* state = find(request.collection);
  WriteResponse response;
  response.origin = options_.self.id;
  if (state == nullptr) {
    ++counters_.writes_rejected;
    response.status = Status::not_found("no collection '" + request.collection + "'");
    done(std::move(response));
    return;
  }
  Mutation m;
  if (Status s = to_mutation(request, *state, &m); !s.is_ok()) {
    ++counters_.writes_rejected;
    response.status = std::move(s);
    done(std::move(response));
    return;
  }
  if (!recovered()) {
    ++counters_.writes_refused_recovering;
    response.status = Status::unavailable(
        "region node is recovering: reading its own log before it accepts writes (" +
        std::to_string(recovering_partitions_) + " partitions or subscriptions to go)");
    done(std::move(response));
    return;
  }
  if (!writer_conflict_.empty()) {
    ++counters_.writes_rejected;
    response.status = Status::unavailable(
        "region node stopped accepting writes: another node is writing as region " +
        options_.self.name + " (" + writer_conflict_ + ")");
    done(std::move(response));
    return;
  }
  if (pending_writes() >= options_.max_pending_writes) {
    // Partition-aware admission: refuse fast instead of queueing without bound.
    COVER("producer_buffer_full");
    ++counters_.writes_rejected;
    response.status = Status::unavailable("too many writes pending (" +
                                          std::to_string(options_.max_pending_writes) +
                                          "); the region's log is not keeping up or unreachable");
    done(std::move(response));
    return;
  }
  const uint32_t shard = state->collection->shard_of(m.vector_id);
  m.timestamp = clock_.tick(env_.clock.wall_ms());
  m.origin_sequence = ++state->next_sequence[shard];
  ++state->writes_per_shard[shard];
  ++counters_.writes_accepted;
  response.shard = shard;
  response.sequence = m.origin_sequence;
  response.timestamp = m.timestamp;
  std::string record;
  encode_mutation(m, &record);
  state->own_writes[shard].issued(m.origin_sequence, stored_record_crc(record));
  state->producers[shard]->enqueue(m.vector_id, std::move(record), std::move(response),
                                   [this, done = std::move(done)](WriteResponse r) {
                                     if (r.status.is_ok()) ++counters_.writes_acknowledged;
                                     done(std::move(r));
                                   });
}

size_t RegionNode::pending_writes() const {
  size_t n = 0;
  for (const auto& [name, state] : collections_) {
    for (const auto& p : state->producers) n += p->pending();
  }
  return n;
}

std::vector<uint64_t> RegionNode::shard_write_counts(const std::string& collection) const {
  auto it = collections_.find(collection);
  return it == collections_.end() ? std::vector<uint64_t>() : it->second->writes_per_shard;
}

void RegionNode::note_writer(uint64_t writer) {
  if (writer_id_ != 0) return;  // the epoch is taken once, when recovery ends
  newest_epoch_seen_ = std::max(newest_epoch_seen_, writer_epoch(writer));
}

void RegionNode::on_writer_conflict(const std::string& topic, uint32_t shard, uint64_t writer,
                                    const std::string& why) {
  COVER("writer_conflict");
  ++counters_.writer_conflicts;  // counted every time: each may be an acknowledged write lost
  const std::string where = topic + "/" + std::to_string(shard);
  // Before this node's first write any stamped writer is older than the epoch it will take.
  const bool older = writer != 0 && (writer_id_ == 0 || writer < writer_id_);
  if (!older) {
    stop_writes_if_not_newest(writer, where, why);
    return;
  }
  COVER("older_writer_still_writing");
  if (older_writer_reported_) return;
  older_writer_reported_ = true;
  // Whichever copy of a sequence came second is dropped everywhere as a duplicate: acknowledged
  // writes of either node in the overlap may be gone. The older node stops once it reads this
  // one's records or heartbeats; this one keeps the region writable.
  if (observer_ != nullptr) {
    observer_->on_durability_problem(
        "another node is writing as region " + options_.self.name + ": " + where + ": " + why +
        " (an older node, writer epoch " + std::to_string(writer_epoch(writer)) + "); this node (" +
        (writer_id_ == 0 ? std::string("still recovering: it takes a newer epoch")
                         : "epoch " + std::to_string(writer_epoch(writer_id_))) +
        ") keeps accepting writes and the older one stops when it reads them (acknowledged "
        "writes of either node may have been lost meanwhile)");
  }
}

void RegionNode::stop_writes_if_not_newest(uint64_t other_writer, const std::string& where,
                                           const std::string& what) {
  if (!writer_conflict_.empty()) return;                       // stopped and reported already
  if (other_writer != 0 && other_writer < writer_id_) return;  // an older one: it yields
  COVER("writes_stopped_for_another_writer");
  if (other_writer == 0) {
    writer_conflict_ = where + ": " + what +
                       " (by a node without a writer id, which cannot be ordered against this "
                       "one: stop one node and restart the other)";
  } else {
    writer_conflict_ = where + ": " + what + " (by a newer node, writer epoch " +
                       std::to_string(writer_epoch(other_writer)) + ", against this node's " +
                       std::to_string(writer_epoch(writer_id_)) +
                       ": the newer node takes the region's writes)";
  }
  if (observer_ != nullptr) {
    observer_->on_durability_problem(
        "another node is writing as region " + options_.self.name + ": " + writer_conflict_ +
        "; this node no longer accepts writes (acknowledged writes of either node may have been "
        "lost meanwhile)");
  }
}

}  // namespace meridian::node
