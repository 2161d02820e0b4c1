// RegionNode: start-up, recovery of its own log, and the replication path (every origin's
// records applied in per-partition order). The write path is region_node_write.cc, reads
// region_node_read.cc, heartbeats and staleness region_node_freshness.cc.
#include "engine/node/region_node.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "engine/core/record_codec.h"
#include "engine/node/collection_state.h"
#include "engine/node/coverage.h"

namespace meridian::node {

std::string wal_topic(const std::string& collection) { return "wal." + collection; }

std::string mirrored_topic(const std::string& origin_region, const std::string& topic) {
  return origin_region + "." + topic;
}

const char* consistency_name(Consistency c) {
  switch (c) {
    case Consistency::kEventual: return "eventual";
    case Consistency::kSession: return "session";
    case Consistency::kBounded: return "bounded";
  }
  return "unknown";
}

RegionNode::RegionNode(NodeOptions options, NodeEnv env)
    : options_(std::move(options)),
      env_(env),
      checkpoint_budget_(options_.checkpoint_bytes_per_s, options_.checkpoint_bytes_per_s) {}

RegionNode::~RegionNode() = default;

Status RegionNode::start() {
  bool self_listed = false;
  for (const RegionInfo& r : options_.regions) self_listed |= r.id == options_.self.id;
  if (!self_listed) return Status::invalid_argument("regions must include this node's region");
  for (const CollectionConfig& config : options_.collections) {
    Result<std::unique_ptr<Collection>> created = Collection::create(config);
    if (!created.is_ok()) return created.status();
    auto state = std::make_unique<CollectionState>();
    state->collection = std::move(created).value();
    for (uint32_t s = 0; s < config.num_shards; ++s) {
      state->producers.push_back(
          std::make_unique<ShardProducer>(env_, wal_topic(config.name), s, options_.producer));
    }
    state->next_sequence.assign(config.num_shards, 0);
    // A re-send reaches back at most over the writes still pending (own_writer_check.h).
    state->own_writes.assign(config.num_shards, OwnWriterCheck(options_.max_pending_writes +
                                                               options_.producer.max_in_flight));
    state->writes_per_shard.assign(config.num_shards, 0);
    state->active.resize(config.num_shards);
    if (!collections_.emplace(config.name, std::move(state)).second) {
      return Status::invalid_argument("collection '" + config.name + "' is configured twice");
    }
  }
  started_at_ = env_.clock.monotonic_ns();
  writer_nonce_ = uint32_t(env_.random.next_u64() >> 32);
  const Positions from = env_.files != nullptr ? recover_from_files() : Positions{};
  consumed_ = from;
  // Counts the set-up itself, so that no partition that finishes at once (an empty log, a
  // subscription that reads at once) can complete recovery before every one has been counted.
  recovering_partitions_ = 1;
  begin_recovery(from);
  subscribe_all(from);
  finish_recovering_partition();
  if (env_.files != nullptr && options_.checkpoint_interval > 0) {
    env_.timers.after(options_.checkpoint_interval, [this] { checkpoint(); });
  }
  if (options_.anti_entropy_interval > 0) {
    env_.timers.after(options_.anti_entropy_interval, [this] { anti_entropy(); });
  }
  if (options_.digest_check_interval > 0 && options_.regions.size() > 1) {
    env_.timers.after(options_.digest_check_interval, [this] { check_next_digest(); });
  }
  for (const auto& [name, shard] : needs_peer_recovery_) {
    env_.timers.after(0, [this, name, shard] { recover_from_peer(name, shard); });
  }
  return Status::ok();
}

void RegionNode::begin_recovery(const Positions& from) {
  // The log is fenced against earlier incarnations (env::Log), so these end offsets are final
  // for everything they appended.
  for (auto& [name, state] : collections_) {
    const uint32_t shards = state->collection->config().num_shards;
    state->recover_until.assign(shards, 0);
    for (uint32_t s = 0; s < shards; ++s) {
      // Records before the checkpoint's position are in the restored state already, and
      // next_sequence covers them (recover_from_files()).
      auto it = from.find({name, options_.self.id, s});
      const uint64_t start = it == from.end() ? 0 : it->second;
      const uint64_t end = env_.log.end_offset(wal_topic(name), s);
      state->recover_until[s] = end > start ? end : 0;
      state->own_writes[s].start(end);
      if (state->recover_until[s] > 0) ++recovering_partitions_;
      if (end > 0 && env_.log.start_offset(wal_topic(name), s) >= end &&
          needs_peer_recovery_.count({name, s}) != 0) {
        // Neither the rejected segment nor the log knows this shard's last sequence: the
        // partition counts as recovering until a peer's snapshot arrives (peer_recovery.cc).
        COVER("own_log_gone");
        own_log_gone_.insert({name, s});
      }
    }
  }
  // The newest heartbeat of earlier incarnations (heartbeats are fenced like the wal): its
  // stamp promised that no write older than it follows, so the clock must pass it before the
  // first write (on_own_heartbeat).
  // If retention has deleted even the newest one there is nothing to wait for (waiting would
  // never end); the wal replay's observe() is then all the clock gets.
  // Read on after that as well: another live writer's heartbeats (own_writer_check.h).
  const uint64_t heartbeats = env_.log.end_offset(kHeartbeatTopic, 0);
  const bool newest_held = heartbeats > 0 && env_.log.start_offset(kHeartbeatTopic, 0) < heartbeats;
  if (newest_held) {
    own_heartbeat_until_ = heartbeats;
    ++recovering_partitions_;
  }
  env_.log.subscribe(kHeartbeatTopic, 0, newest_held ? heartbeats - 1 : heartbeats,
                     [this](const env::LogRecord& r) { on_own_heartbeat(r); });
  if (recovering_partitions_ > 1) COVER("node_recovering_own_log");  // more than the set-up
  await_reading(kHeartbeatTopic, 0);
}

void RegionNode::note_own_record(CollectionState& state, uint32_t shard, uint64_t offset,
                                 uint64_t sequence) {
  // A record this region appended (in this or an earlier incarnation): never issue its
  // sequence again.
  state.next_sequence[shard] = std::max(state.next_sequence[shard], sequence);
  uint64_t& until = state.recover_until[shard];
  if (until == 0 || offset + 1 < until) return;
  finish_own_recovery(state, shard);
}

void RegionNode::finish_own_recovery(CollectionState& state, uint32_t shard) {
  uint64_t& until = state.recover_until[shard];
  if (until == 0) return;
  until = 0;
  finish_recovering_partition();
}

void RegionNode::await_reading(const std::string& topic, uint32_t partition) {
  // Writes wait for the node's own subscriptions to read (env::Log::when_reading): a session
  // read right after the first acknowledged write then finds its write applied in time instead
  // of waiting for a consumer that is still being set up, and the node's heartbeats and the
  // records of another live writer of its region are seen from its first write on.
  ++recovering_partitions_;
  env_.log.when_reading(topic, partition, [this] { finish_recovering_partition(); });
}

void RegionNode::finish_recovering_partition() {
  assert(recovering_partitions_ > 0);
  if (--recovering_partitions_ == 0) {
    COVER("node_recovered");
    on_recovered();
  }
}

void RegionNode::on_recovered() {
  // Newer than every writer whose records or heartbeats this node has read: a live node it
  // replaces yields once it reads this one's (own_writer_check.h).
  writer_id_ = make_writer_id(newest_epoch_seen_ + 1, writer_nonce_);
  env_.log.set_writer(writer_id_);
  heartbeat();
}

RegionNode::CollectionState* RegionNode::find(const std::string& name) {
  auto it = collections_.find(name);
  return it == collections_.end() ? nullptr : it->second.get();
}

const RegionNode::CollectionState* RegionNode::find(const std::string& name) const {
  auto it = collections_.find(name);
  return it == collections_.end() ? nullptr : it->second.get();
}

NodeCounters RegionNode::counters() const {
  NodeCounters out = counters_;
  out.searches = searches_.load(std::memory_order_relaxed);
  out.searches_stale = searches_stale_.load(std::memory_order_relaxed);
  for (const auto& [name, state] : collections_) {
    for (const OwnWriterCheck& check : state->own_writes)
      out.writer_collisions += check.collisions();
  }
  return out;
}

const Collection* RegionNode::collection(const std::string& name) const {
  auto it = collections_.find(name);
  return it == collections_.end() ? nullptr : it->second->collection.get();
}

const RegionInfo* RegionNode::region_by_id(RegionId id) const {
  for (const RegionInfo& r : options_.regions) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

// ---- replication path ----

std::vector<RegionNode::ShardLag> RegionNode::replication_lag() const {
  std::vector<ShardLag> out;
  for (const auto& [name, state] : collections_) {
    for (const RegionInfo& origin : options_.regions) {
      const bool self = origin.id == options_.self.id;
      const std::string topic =
          self ? wal_topic(name) : mirrored_topic(origin.name, wal_topic(name));
      for (uint32_t s = 0; s < state->collection->config().num_shards; ++s) {
        // Records before the log's start offset were deleted (retention): the subscription
        // continues after them, so they are neither consumed nor backlog.
        ShardLag lag{name, origin.id, s, env_.log.start_offset(topic, s),
                     env_.log.end_offset(topic, s)};
        auto it = consumed_.find({name, origin.id, s});
        if (it != consumed_.end()) lag.consumed = std::max(lag.consumed, it->second);
        out.push_back(lag);
      }
    }
  }
  return out;
}

void RegionNode::subscribe_all(const Positions& from) {
  for (const RegionInfo& origin : options_.regions) {
    const bool self = origin.id == options_.self.id;
    for (const auto& [name, state] : collections_) {
      const std::string topic =
          self ? wal_topic(name) : mirrored_topic(origin.name, wal_topic(name));
      for (uint32_t s = 0; s < state->collection->config().num_shards; ++s) {
        auto it = from.find({name, origin.id, s});
        env_.log.subscribe(topic, s, it == from.end() ? 0 : it->second,
                           [this, origin, collection = name](const env::LogRecord& record) {
                             on_record(origin, collection, record);
                           });
        if (self) await_reading(topic, s);
      }
    }
    if (!self) {
      env_.log.subscribe(
          mirrored_topic(origin.name, kHeartbeatTopic), 0, 0,
          [this, id = origin.id](const env::LogRecord& r) { on_heartbeat(id, r.value); });
    }
  }
}

void RegionNode::on_record(const RegionInfo& origin, const std::string& collection,
                           const env::LogRecord& record) {
  CollectionState* state = find(collection);
  assert(state != nullptr);
  consumed_[{collection, origin.id, record.partition}] = record.offset + 1;
  const bool own = origin.id == options_.self.id;
  Status decoded = decode_mutation_into(record.value, &scratch_);
  if (decoded.is_ok() &&
      (scratch_.collection != collection || scratch_.origin_region != origin.id ||
       state->collection->shard_of(scratch_.vector_id) != record.partition)) {
    decoded = Status::corruption("record does not belong to " + record.topic + "/" +
                                 std::to_string(record.partition));
  }
  if (!decoded.is_ok()) {
    // Detected and reported, never applied. The version vector keeps the hole visible.
    COVER("corrupt_record_rejected");
    ++counters_.records_corrupt;
    if (observer_ != nullptr) observer_->on_corrupt_record(record, decoded);
    if (own) note_own_record(*state, record.partition, record.offset, 0);
    return;
  }
  if (own) {
    note_own_record(*state, record.partition, record.offset, scratch_.origin_sequence);
    note_writer(record.writer);
    const std::string foreign = state->own_writes[record.partition].check(
        record.offset, scratch_.origin_sequence, stored_record_crc(record.value));
    // Applied all the same: every region applies the log as it is, so all stay equal.
    if (!foreign.empty())
      on_writer_conflict(record.topic, record.partition, record.writer, foreign);
  }
  clock_.observe(scratch_.timestamp, env_.clock.wall_ms());
  Result<ApplyOutcome> outcome = state->collection->apply(scratch_);
  if (!outcome.is_ok()) {
    // Well-formed but not for this collection as configured here (e.g. another dimension while
    // a configuration change rolls out): reported like a corrupt record, never applied.
    COVER("record_rejected_by_collection");
    ++counters_.records_corrupt;
    if (observer_ != nullptr) observer_->on_corrupt_record(record, outcome.status());
    return;
  }
  if (BUGGIFY("apply_twice")) {
    // At-least-once delivery, exaggerated: the second apply must be a no-op.
    COVER("apply_twice");
    Result<ApplyOutcome> again = state->collection->apply(scratch_);
    assert(again.is_ok() && again->duplicate);
    (void)again;
  }
  const bool duplicate = outcome->duplicate;
  // Only what a checkpoint can write out is kept: the records segment follows the snapshot.
  if (!duplicate && env_.files != nullptr) {
    state->active[record.partition].append(scratch_, record.value.size());
  }
  ++(duplicate ? counters_.records_duplicate : counters_.records_applied);
  // The origin's frontier may have moved past a heartbeat waiting for its data.
  if (!duplicate) refresh_freshness(origin.id);
  if (observer_ != nullptr)
    observer_->on_applied(collection, record.partition, scratch_, duplicate);
  if (!duplicate && !state->waiters.empty()) {
    wake_session_waiters(*state, {record.partition, origin.id, scratch_.origin_sequence});
  }
}

}  // namespace meridian::node
