// The simulated Kafka cluster of one region (see sim_log.h for the model).
//
// A produce's life: produce_as() → [disk write with fsync] → on_disk_done() → [ack latency,
// never before the partition's previous ack] → on_acked(): append + done(ok). Its deadline timer
// (on_deadline) fails it and everything behind it in its lane if it is still pending then; a
// lane doomed by an outage fails as soon as the cluster is back (fail_doomed_lanes).
// Invariant (gapless lanes): a lane's pending ids are in produce order, and only the lane's
// front is ever appended or reaches its deadline.
#include "sim/sim_log.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace meridian::sim {

namespace {

const std::deque<env::LogRecord>& empty_records() {
  static const std::deque<env::LogRecord> kEmpty;
  return kEmpty;
}

}  // namespace

SimLogCluster::SimLogCluster(Scheduler& scheduler, SimDisk& disk, std::string name,
                             const SimLogSpec& spec, Rng rng)
    : scheduler_(scheduler), disk_(disk), name_(std::move(name)), spec_(spec), rng_(rng) {
  assert(spec_.ack_latency_ns >= 0 && spec_.ack_jitter_ns >= 0 && spec_.fetch_latency_ns >= 0);
  assert(spec_.fetch_wait_ns > 0 && spec_.produce_timeout_ns > 0 && spec_.retention_ns >= 0);
  assert(spec_.fetch_min_records >= 1 && spec_.fetch_max_records >= 1);
  assert(spec_.producer_buffer_records >= 1 && spec_.max_partitions_per_topic >= 1);
  node_producer_ = new_producer(spec_.producer_buffer_records);
}

Status SimLogCluster::create_topic(const std::string& topic, uint32_t partitions) {
  if (topic.empty()) return Status::invalid_argument("empty topic name");
  if (partitions == 0 || partitions > spec_.max_partitions_per_topic) {
    return Status::invalid_argument("topic " + topic + ": " + std::to_string(partitions) +
                                    " partitions (want 1.." +
                                    std::to_string(spec_.max_partitions_per_topic) + ")");
  }
  auto it = topics_.find(topic);
  if (it != topics_.end()) {
    if (it->second.size() == partitions) return Status::ok();
    return Status::invalid_argument("topic " + topic + " exists with " +
                                    std::to_string(it->second.size()) + " partitions, not " +
                                    std::to_string(partitions));
  }
  topics_.emplace(topic, std::vector<Partition>(partitions));
  wake_waiters(topic);
  return Status::ok();
}

uint32_t SimLogCluster::partition_count(const std::string& topic) const {
  auto it = topics_.find(topic);
  return it == topics_.end() ? 0 : uint32_t(it->second.size());
}

SimLogCluster::Partition* SimLogCluster::find_partition(const std::string& topic, uint32_t p) {
  auto it = topics_.find(topic);
  if (it == topics_.end() || p >= it->second.size()) return nullptr;
  return &it->second[p];
}

const SimLogCluster::Partition* SimLogCluster::find_partition(const std::string& topic,
                                                              uint32_t p) const {
  auto it = topics_.find(topic);
  if (it == topics_.end() || p >= it->second.size()) return nullptr;
  return &it->second[p];
}

// --- produce ---

void SimLogCluster::produce(const std::string& topic, uint32_t partition, std::string key,
                            std::string value, ProduceDone done) {
  produce_as(node_producer_, topic, partition, std::move(key), std::move(value), std::move(done),
             producers_.at(node_producer_).writer);
}

void SimLogCluster::set_writer(uint64_t writer) { producers_.at(node_producer_).writer = writer; }

SimLogCluster::ProducerId SimLogCluster::new_producer(size_t buffer_records) {
  assert(buffer_records >= 1);
  const ProducerId id = next_producer_++;
  producers_[id].limit = buffer_records;
  return id;
}

void SimLogCluster::fail_soon(ProduceDone done, Status status) {
  scheduler_.after(0, [done = std::move(done), status = std::move(status)] {
    if (done) done(status, 0);
  });
}

void SimLogCluster::produce_as(ProducerId producer, const std::string& topic, uint32_t partition,
                               std::string key, std::string value, ProduceDone done,
                               uint64_t writer) {
  ++stats_.produced;
  auto pit = producers_.find(producer);
  assert(pit != producers_.end() && !pit->second.dead);
  Producer& pr = pit->second;
  if (find_partition(topic, partition) == nullptr) {
    ++stats_.rejected_unknown_topic;
    fail_soon(std::move(done), Status::not_found("cluster " + name_ + ": no topic partition " +
                                                 topic + "/" + std::to_string(partition)));
    return;
  }
  if (pr.buffered >= pr.limit) {
    ++stats_.rejected_buffer_full;
    fail_soon(std::move(done),
              Status::unavailable("producer buffer full: " + std::to_string(pr.buffered) +
                                  " records pending for cluster " + name_ + " (limit " +
                                  std::to_string(pr.limit) + ")"));
    return;
  }
  ++pr.buffered;
  const uint64_t id = next_pending_++;
  Lane& lane = lanes_[LaneKey{producer, topic, partition}];
  lane.pending.push_back(id);
  const size_t bytes = key.size() + value.size() + spec_.record_overhead_bytes;
  Pending pd{producer,
             topic,
             partition,
             std::move(key),
             std::move(value),
             std::move(done),
             /*doomed=*/!up_ || lane.doomed,
             0,
             writer};
  pd.deadline_timer = scheduler_.after(spec_.produce_timeout_ns, [this, id] { on_deadline(id); });
  if (pd.doomed) {
    lane.doomed = true;  // produced while down: never appended
  } else {
    disk_.write(bytes, /*fsync=*/true, [this, id] { on_disk_done(id); });
  }
  pending_.emplace(id, std::move(pd));
}

void SimLogCluster::on_disk_done(uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second.doomed) return;
  Partition* p = find_partition(it->second.topic, it->second.partition);
  assert(p != nullptr);
  const TimeNs jitter =
      spec_.ack_jitter_ns > 0 ? TimeNs(rng_.below(uint64_t(spec_.ack_jitter_ns))) : 0;
  const TimeNs ack_at = std::max(scheduler_.now() + spec_.ack_latency_ns + jitter, p->last_ack_at);
  p->last_ack_at = ack_at;
  scheduler_.at(ack_at, [this, id] { on_acked(id); });
}

void SimLogCluster::on_acked(uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second.doomed) return;
  Pending& pd = it->second;
  Lane& lane = lanes_.at(LaneKey{pd.producer, pd.topic, pd.partition});
  if (!up_) {  // the brokers died before the quorum had it
    doom_lane_from(lane, id);
    return;
  }
  assert(!lane.pending.empty() && lane.pending.front() == id);
  Partition* p = find_partition(pd.topic, pd.partition);
  assert(p != nullptr);
  append(pd.topic, pd.partition, *p, std::move(pd.key), std::move(pd.value), pd.writer);
  const uint64_t offset = p->start_offset + p->records.size() - 1;
  ProduceDone done = take(id);
  if (done) done(Status::ok(), offset);
}

void SimLogCluster::doom_lane_from(Lane& lane, uint64_t id) {
  assert(!lane.pending.empty() && lane.pending.front() == id);
  lane.doomed = true;
  for (uint64_t other : lane.pending) pending_.at(other).doomed = true;
}

void SimLogCluster::on_deadline(uint64_t id) {
  auto it = pending_.find(id);
  assert(it != pending_.end());  // take() cancels the timer
  it->second.deadline_timer = 0;
  const LaneKey key{it->second.producer, it->second.topic, it->second.partition};
  // The lane's front: anything produced earlier had an earlier (or equal, earlier-scheduled)
  // deadline and was finished first. Everything behind it fails with it (gapless).
  assert(lanes_.at(key).pending.front() == id);
  fail_lanes({key}, "not durable within " +
                        std::to_string(spec_.produce_timeout_ns / env::kMillisecond) + " ms");
}

void SimLogCluster::fail_doomed_lanes() {
  std::vector<LaneKey> doomed;
  for (const auto& [key, lane] : lanes_) {
    if (lane.doomed) doomed.push_back(key);
  }
  if (!up_ || doomed.empty()) return;  // down again: the deadlines will report
  fail_lanes(doomed, "lost in an outage of the cluster");
}

void SimLogCluster::fail_lanes(const std::vector<LaneKey>& keys, const std::string& why) {
  std::vector<std::pair<ProduceDone, Status>> callbacks;
  for (const LaneKey& key : keys) {
    const Status status = Status::unavailable(
        "record to " + name_ + "/" + std::get<1>(key) + "/" + std::to_string(std::get<2>(key)) +
        " " + why + " (or an earlier record to the partition was); it is not in the log");
    const std::deque<uint64_t> cascade = lanes_.at(key).pending;
    for (uint64_t failed : cascade) {
      ++stats_.failed;
      callbacks.emplace_back(take(failed), status);
    }
  }
  // State first, callbacks after: a callback may produce to the same partition again.
  for (auto& [done, status] : callbacks) {
    if (done) done(status, 0);
  }
}

SimLogCluster::ProduceDone SimLogCluster::take(uint64_t id) {
  auto it = pending_.find(id);
  assert(it != pending_.end());
  Pending pd = std::move(it->second);
  pending_.erase(it);
  if (pd.deadline_timer != 0) scheduler_.cancel(pd.deadline_timer);
  auto lit = lanes_.find(LaneKey{pd.producer, pd.topic, pd.partition});
  assert(lit != lanes_.end() && lit->second.pending.front() == id);
  lit->second.pending.pop_front();
  if (lit->second.pending.empty()) lanes_.erase(lit);  // also clears `doomed`
  auto pit = producers_.find(pd.producer);
  assert(pit != producers_.end() && pit->second.buffered > 0);
  --pit->second.buffered;
  if (pit->second.dead) {
    if (pit->second.buffered == 0) producers_.erase(pit);
    return nullptr;  // a crashed process never hears back
  }
  return std::move(pd.done);
}

void SimLogCluster::append(const std::string& topic, uint32_t partition, Partition& p,
                           std::string key, std::string value, uint64_t writer) {
  trim(topic, partition, p);
  const uint64_t offset = p.start_offset + p.records.size();
  p.records.push_back(
      env::LogRecord{topic, partition, offset, std::move(key), std::move(value), writer});
  p.appended_at.push_back(scheduler_.now());
  ++stats_.appended;
  kick(PartitionKey{topic, partition});
  wake_waiters(topic);
}

void SimLogCluster::trim(const std::string& topic, uint32_t partition, Partition& p) {
  if (spec_.retention_ns == 0) return;
  const TimeNs cutoff = scheduler_.now() - spec_.retention_ns;
  while (!p.records.empty() && p.appended_at.front() < cutoff) {
    assert(p.records.front().offset == p.start_offset && p.records.front().topic == topic &&
           p.records.front().partition == partition);
    p.records.pop_front();
    p.appended_at.pop_front();
    ++p.start_offset;
    ++stats_.deleted_by_retention;
  }
}

void SimLogCluster::enforce_retention() {
  for (auto& [topic, partitions] : topics_) {
    for (uint32_t i = 0; i < partitions.size(); ++i) trim(topic, i, partitions[i]);
  }
}

// --- faults ---

void SimLogCluster::set_available(bool up) {
  if (up == up_) return;
  up_ = up;
  if (!up_) {
    for (auto& [key, sub] : subs_) {
      if (sub.wait_timer != 0) scheduler_.cancel(sub.wait_timer);
      sub.wait_timer = 0;
    }
    for (auto& [id, waiter] : waiters_) scheduler_.cancel(waiter.timer);
    waiters_.clear();  // parked remote fetches die with the brokers
    return;
  }
  for (auto& [key, sub] : subs_) kick(key);
  // Producers learn on reconnect that what they sent into the outage was lost.
  scheduler_.after(0, [this] { fail_doomed_lanes(); });
}

void SimLogCluster::drop_clients() {
  Producer& old = producers_.at(node_producer_);
  old.dead = true;
  for (auto& [id, pd] : pending_) {
    if (pd.producer == node_producer_) {
      pd.done = nullptr;
      ++stats_.orphaned;
    }
  }
  if (old.buffered == 0) producers_.erase(node_producer_);
  node_producer_ = new_producer(spec_.producer_buffer_records);
  for (auto& [key, sub] : subs_) {
    if (sub.wait_timer != 0) scheduler_.cancel(sub.wait_timer);
  }
  subs_.clear();  // responses in flight find no subscription
}

void SimLogCluster::fence_crashed_producers() {
  for (auto& [id, pd] : pending_) {
    if (pd.doomed || producers_.at(pd.producer).dead == false) continue;
    // Doomed records are never appended; their deadline timers clean them up silently.
    pd.doomed = true;
    lanes_.at(LaneKey{pd.producer, pd.topic, pd.partition}).doomed = true;
    ++stats_.fenced;
  }
}

// --- subscribe ---

void SimLogCluster::subscribe(const std::string& topic, uint32_t partition, uint64_t from_offset,
                              RecordFn on_record) {
  const PartitionKey key{topic, partition};
  Subscription& sub = subs_[key];
  if (sub.wait_timer != 0) scheduler_.cancel(sub.wait_timer);
  sub = Subscription{};
  sub.id = next_sub_++;
  sub.position = from_offset;
  sub.on_record = std::move(on_record);
  sub.fetches_from = scheduler_.now() + spec_.subscribe_setup_ns;
  if (spec_.subscribe_setup_ns > 0) {
    scheduler_.after(spec_.subscribe_setup_ns, [this, key, id = sub.id] {
      auto it = subs_.find(key);
      if (it != subs_.end() && it->second.id == id) kick(key);
    });
  }
  kick(key);
}

void SimLogCluster::when_reading(const std::string& topic, uint32_t partition,
                                 std::function<void()> ready) {
  auto it = subs_.find(PartitionKey{topic, partition});
  assert(it != subs_.end() && "subscribe() before when_reading()");
  if (it == subs_.end()) return;
  if (it->second.reading) {
    ready();  // the one synchronous callback (env::Log allows it): no set-up, no extra event
  } else {
    it->second.on_reading.push_back(std::move(ready));
  }
}

void SimLogCluster::run_reading(const PartitionKey& key, uint64_t sub_id,
                                std::function<void()> ready) {
  // From an event, and only while the subscription lives (a crashed node's never runs).
  scheduler_.after(0, [this, key, sub_id, ready = std::move(ready)] {
    auto it = subs_.find(key);
    if (it != subs_.end() && it->second.id == sub_id) ready();
  });
}

uint64_t SimLogCluster::end_offset(const std::string& topic, uint32_t partition) const {
  const Partition* p = find_partition(topic, partition);
  return p == nullptr ? 0 : p->start_offset + p->records.size();
}

const std::deque<env::LogRecord>& SimLogCluster::records(const std::string& topic,
                                                         uint32_t partition) const {
  const Partition* p = find_partition(topic, partition);
  return p == nullptr ? empty_records() : p->records;
}

uint64_t SimLogCluster::start_offset(const std::string& topic, uint32_t partition) const {
  const Partition* p = find_partition(topic, partition);
  return p == nullptr ? 0 : p->start_offset;
}

// Starts a fetch response for the subscription if its fetch would be answered now; otherwise
// arms the fetch_wait timer (only once a record is waiting: an idle consumer costs no events).
void SimLogCluster::kick(const PartitionKey& key) {
  auto it = subs_.find(key);
  if (it == subs_.end() || !up_ || it->second.fetching) return;
  Subscription& sub = it->second;
  const Partition* p = find_partition(key.first, key.second);
  if (p == nullptr || scheduler_.now() < sub.fetches_from) return;
  if (!sub.reading) {
    sub.reading = true;
    for (auto& ready : sub.on_reading) run_reading(key, sub.id, std::move(ready));
    sub.on_reading.clear();
  }
  const uint64_t end = p->start_offset + p->records.size();
  const uint64_t from = std::max(sub.position, p->start_offset);
  if (from >= end) return;  // caught up: the fetch stays parked at the broker
  if (end - from >= spec_.fetch_min_records) {
    start_response(sub, key);
    return;
  }
  if (sub.wait_timer != 0) return;  // already waiting for more records
  sub.wait_timer = scheduler_.after(spec_.fetch_wait_ns, [this, key, id = sub.id] {
    auto s = subs_.find(key);
    if (s == subs_.end() || s->second.id != id) return;
    s->second.wait_timer = 0;
    if (up_ && !s->second.fetching) start_response(s->second, key);
  });
}

void SimLogCluster::start_response(Subscription& sub, const PartitionKey& key) {
  if (sub.wait_timer != 0) scheduler_.cancel(sub.wait_timer);
  sub.wait_timer = 0;
  sub.fetching = true;
  scheduler_.after(spec_.fetch_latency_ns, [this, key, id = sub.id] { deliver(key, id); });
}

// A fetch response arrives: delivers up to fetch_max_records from the subscription's position.
// The batch is cut when the response arrives (records are immutable once appended, so this
// equals cutting it when the broker answered, up to records appended during fetch_latency).
void SimLogCluster::deliver(const PartitionKey& key, uint64_t sub_id) {
  auto it = subs_.find(key);
  if (it == subs_.end() || it->second.id != sub_id) return;
  it->second.fetching = false;
  if (!up_) return;  // the response died with the brokers; set_available(true) re-kicks
  Partition* p = find_partition(key.first, key.second);
  assert(p != nullptr);
  trim(key.first, key.second, *p);
  if (it->second.position < p->start_offset) {
    const uint64_t requested = it->second.position;
    it->second.position = p->start_offset;
    ++stats_.out_of_range_resets;
    if (out_of_range_) out_of_range_(key.first, key.second, requested, p->start_offset);
    it = subs_.find(key);
    if (it == subs_.end() || it->second.id != sub_id) return;
  }
  const uint64_t end =
      std::min(p->start_offset + p->records.size(), it->second.position + spec_.fetch_max_records);
  while (it->second.position < end && it->second.position >= p->start_offset) {
    // A copy: the callback may call enforce_retention(), which would free the original.
    const env::LogRecord record = p->records[it->second.position - p->start_offset];
    ++it->second.position;
    ++stats_.delivered;
    // Moved out for the call: the callback may replace or end its own subscription.
    RecordFn fn = std::move(it->second.on_record);
    fn(record);
    it = subs_.find(key);
    if (it == subs_.end() || it->second.id != sub_id) return;
    it->second.on_record = std::move(fn);
    if (!up_) return;
  }
  kick(key);
}

// --- remote fetch (mirrors) ---

void SimLogCluster::remote_fetch(const std::string& topic, std::vector<uint64_t> positions,
                                 size_t max_records_per_partition, size_t max_bytes,
                                 std::function<void(FetchResult)> respond) {
  assert(max_records_per_partition >= 1);
  if (!up_) return;
  const uint64_t id = next_waiter_++;
  Waiter& w = waiters_[id];
  w.topic = topic;
  w.positions = std::move(positions);
  w.max_records_per_partition = max_records_per_partition;
  w.max_bytes = max_bytes;
  w.respond = std::move(respond);
  bool any = false;
  auto it = topics_.find(topic);
  for (uint32_t i = 0; it != topics_.end() && i < it->second.size() && !any; ++i) {
    const Partition& p = it->second[i];
    const uint64_t pos = i < w.positions.size() ? w.positions[i] : 0;
    any = std::max(pos, p.start_offset) < p.start_offset + p.records.size();
  }
  w.timer = scheduler_.after(any ? 0 : spec_.fetch_wait_ns, [this, id] { answer_waiter(id); });
}

void SimLogCluster::wake_waiters(const std::string& topic) {
  for (auto& [id, w] : waiters_) {
    if (w.topic != topic) continue;
    scheduler_.cancel(w.timer);
    w.timer = scheduler_.after(0, [this, id = id] { answer_waiter(id); });
  }
}

void SimLogCluster::answer_waiter(uint64_t waiter_id) {
  auto wit = waiters_.find(waiter_id);
  if (wit == waiters_.end()) return;
  Waiter w = std::move(wit->second);
  waiters_.erase(wit);
  if (!up_) return;
  FetchResult result;
  auto it = topics_.find(w.topic);
  if (it != topics_.end()) {
    result.partitions = uint32_t(it->second.size());
    result.records.resize(result.partitions);
    // Start at a rotating partition so a byte-capped answer does not starve the last ones.
    const uint32_t first =
        result.partitions == 0 ? 0 : uint32_t(fetch_rotation_++ % result.partitions);
    for (uint32_t k = 0; k < result.partitions; ++k) {
      const uint32_t i = (first + k) % result.partitions;
      Partition& p = it->second[i];
      trim(w.topic, i, p);
      const uint64_t pos = i < w.positions.size() ? w.positions[i] : 0;
      uint64_t off = std::max(pos, p.start_offset);
      const uint64_t end =
          std::min(p.start_offset + p.records.size(), off + w.max_records_per_partition);
      for (; off < end; ++off) {
        const env::LogRecord& r = p.records[off - p.start_offset];
        const size_t bytes = r.key.size() + r.value.size() + spec_.record_overhead_bytes;
        if (result.bytes > 0 && result.bytes + bytes > w.max_bytes) break;
        result.bytes += bytes;
        result.records[i].push_back(r);
      }
    }
  }
  w.respond(std::move(result));
}

}  // namespace meridian::sim
