#include "engine/node/region_node.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "engine/core/record_codec.h"
#include "engine/core/routing.h"
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
  const Positions from = env_.files != nullptr ? recover_from_files() : Positions{};
  consumed_ = from;
  begin_recovery(from);
  subscribe_all(from);
  if (recovered()) heartbeat();
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
  const uint64_t heartbeats = env_.log.end_offset(kHeartbeatTopic, 0);
  if (heartbeats > 0 && env_.log.start_offset(kHeartbeatTopic, 0) < heartbeats) {
    own_heartbeat_until_ = heartbeats;
    ++recovering_partitions_;
    env_.log.subscribe(kHeartbeatTopic, 0, heartbeats - 1,
                       [this](const env::LogRecord& r) { on_own_heartbeat(r); });
  }
  if (!recovered()) COVER("node_recovering_own_log");
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

void RegionNode::finish_recovering_partition() {
  assert(recovering_partitions_ > 0);
  if (--recovering_partitions_ == 0) {
    COVER("node_recovered");
    heartbeat();
  }
}

void RegionNode::on_writer_conflict(const std::string& topic, uint32_t shard,
                                    const std::string& why) {
  COVER("writer_conflict");
  ++counters_.writer_conflicts;
  if (!writer_conflict_.empty()) return;  // reported once; counted every time
  writer_conflict_ = topic + "/" + std::to_string(shard) + ": " + why;
  // The acknowledged writes of whichever writer's copy of a sequence came second are lost: only
  // stopping one of the two ends it. This node stops taking writes; so does the other once it
  // reads this one's records.
  if (observer_ != nullptr) {
    observer_->on_durability_problem(
        "another node is writing as region " + options_.self.name + ": " + writer_conflict_ +
        "; this node no longer accepts writes (acknowledged writes of either node may have been "
        "lost: stop one node and restart the other)");
  }
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

// ---- write path ----

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
        std::to_string(recovering_partitions_) + " partitions to go)");
    done(std::move(response));
    return;
  }
  if (!writer_conflict_.empty()) {
    ++counters_.writes_rejected;
    response.status = Status::unavailable(
        "region node stopped accepting writes: another node is writing as region " +
        options_.self.name + " (" + writer_conflict_ + "); stop one of them and restart the other");
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
    const std::string foreign = state->own_writes[record.partition].check(
        record.offset, scratch_.origin_sequence, stored_record_crc(record.value));
    // Applied all the same: every region applies the log as it is, so all stay equal.
    if (!foreign.empty()) on_writer_conflict(record.topic, record.partition, foreign);
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

std::string RegionNode::encode_heartbeat(uint64_t hlc, uint64_t stable_point) const {
  // Little-endian u64s: this region's wall clock (ms), then per (collection in name order,
  // shard) the last sequence issued here, then the heartbeat's HLC stamp and this region's
  // stable point (appended last, so that a node that predates them reads the rest unchanged).
  std::string out;
  auto put = [&out](uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(char(v >> (8 * i)));
  };
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
  auto get = [&value](size_t i) {
    uint64_t v = 0;
    for (int b = 7; b >= 0; --b) v = (v << 8) | uint8_t(value[8 * i + b]);
    return v;
  };
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
