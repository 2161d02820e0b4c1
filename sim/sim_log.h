// One region's Kafka cluster in the simulator: the brokers of that region, behind env::Log.
//
// Model (what a region node sees through env::Log, with the librdkafka settings of
// /work/shared/KAFKA.md: idempotent producer, acks=all, explicit partitions, no auto-create):
//
// Produce. A record goes to the brokers' disk (one SimDisk write of key + value +
//   record_overhead_bytes, with fsync), then is replicated to the in-sync quorum
//   (ack_latency_ns + uniform [0, ack_jitter_ns)); at that moment it is appended (gets its
//   offset, becomes visible to consumers) and `done(ok, offset)` runs. Per partition, records
//   are appended in produce order and acknowledged in that order (a later produce never
//   overtakes an earlier one, whatever the jitter).
// Failure. A produce fails with `unavailable`, and is not in the log, when
//   - it is not durable by its deadline (produce time + produce_timeout_ns), e.g. the disk
//     stalled; or
//   - it was lost to an outage: produced while the cluster was down, or in flight (not yet
//     replicated) when it went down. Such records are never appended; the failure is reported
//     when the cluster is back up or at the deadline, whichever is first (the producer learns
//     on reconnect that what it sent into the outage is gone).
//   Idempotence is modelled as the gapless guarantee: once a record of one producer on one
//   partition is lost, every record that producer sends to that partition until the loss is
//   reported is lost too, and they are all reported together. So no record sent after a lost
//   one is appended unless it was sent after the loss was reported: no silent gaps. (Real
//   librdkafka without enable.gapless.guarantee can leave a gap on a timeout; and it would
//   retry records held during a short outage instead of failing them. Both are not modelled.)
//   Records in flight when a node crashes (drop_clients) may still be appended with nobody
//   told: the ambiguity env::Log documents ("may or may not be in the log").
// Buffer. A producer holds at most producer_buffer_records records not yet acknowledged or
//   failed; past it produce fails at once with `unavailable: producer buffer full`.
// Subscribe. A subscription is a consumer fetch loop: a fetch returns when fetch_min_records
//   records are available past the position, or fetch_wait_ns after the first unread record
//   became available, whichever is first; its response (at most fetch_max_records records)
//   reaches the consumer fetch_latency_ns later and the records are delivered one by one, in
//   order. So a caught-up subscriber sees a record at most fetch_wait_ns + fetch_latency_ns after
//   it became durable (fetch_latency_ns with fetch_min_records = 1, the default). A position
//   past the end waits until the partition reaches it.
//   A new subscription starts fetching subscribe_setup_ns after subscribe(); when_reading runs
//   once it has started and the cluster is up (from an event; at once if it reads already, so
//   that with no set-up a node starts exactly as it would without asking).
// Outage (set_available(false): region outage or brokers killed). Nothing is appended;
//   produces fail (see Failure); subscribers receive nothing (responses in flight are
//   dropped) and resume from their position when the cluster is back. Appended records survive.
// Retention (retention_ns > 0). Records older than retention_ns are deleted from the head of a
//   partition, whenever the partition is appended to or read, and by enforce_retention() (Kafka
//   deletes whole segments on a periodic check, so real deletion is coarser and later). A
//   subscription whose position was deleted jumps to the partition's start offset
//   (auto.offset.reset=earliest) after calling the out-of-range handler, so the engine can
//   start a catch-up instead of silently missing records.
//
// Not modelled: brokers individually (leader election, ISR shrink, unclean election: the
//   cluster is up or down as a whole), producer batching/linger, compression, byte-based fetch
//   limits (counts of records instead), consumer groups and committed offsets (subscribers
//   bring their positions, as the engine's appliers do), transactions, log compaction, topic
//   deletion.
//
// Limits: producer_buffer_records per producer (so pending produces are bounded),
//   fetch_max_records per response, max_partitions_per_topic, one subscription per partition.
//   Records are held in memory; with retention_ns = 0 a partition grows for the whole run.
//
// Every callback runs from a scheduler event, never synchronously inside the call that caused
// it (except when_reading's, see Subscribe). Deterministic: the only randomness is ack jitter,
// drawn from the Rng given at construction. REQUIRES: the scheduler and the disk outlive the
// cluster, and the cluster outlives the events it scheduled (run the scheduler only while it
// exists).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "engine/env/env.h"
#include "sim/rng.h"
#include "sim/scheduler.h"
#include "sim/sim_disk.h"

namespace meridian::sim {

struct SimLogSpec {
  // Produce: leader → in-sync followers and the ack back, within the region.
  TimeNs ack_latency_ns = 1500 * env::kMicrosecond;
  TimeNs ack_jitter_ns = 500 * env::kMicrosecond;  // uniform [0, jitter) per record
  // Consume: one fetch response's trip from broker to consumer within the region.
  TimeNs fetch_latency_ns = 250 * env::kMicrosecond;
  TimeNs fetch_wait_ns = 5 * env::kMillisecond;  // fetch.wait.max.ms (> 0)
  // A new subscription fetches nothing before this (a real consumer first finds the
  // partition's leader and connects); when_reading runs once it has passed.
  TimeNs subscribe_setup_ns = 0;
  size_t fetch_min_records = 1;                  // fetch.min.bytes, counted in records (>= 1)
  size_t fetch_max_records = 500;                // records per fetch response (>= 1)
  TimeNs produce_timeout_ns = 5 * env::kSecond;  // message.timeout.ms (> 0)
  size_t producer_buffer_records = 10'000;       // per producer (>= 1)
  TimeNs retention_ns = 0;                       // 0 = keep forever
  size_t record_overhead_bytes = 70;             // record + batch headers, on disk and wire
  uint32_t max_partitions_per_topic = 4096;
};

struct SimLogStats {
  uint64_t produced = 0;                // produce calls
  uint64_t appended = 0;                // records appended (all producers, mirrors included)
  uint64_t failed = 0;                  // produces timed out or lost to an outage
  uint64_t rejected_buffer_full = 0;    // produces failed at once: producer buffer full
  uint64_t rejected_unknown_topic = 0;  // produces failed at once: no such topic/partition
  uint64_t orphaned = 0;                // produces whose producer died (drop_clients)
  uint64_t fenced = 0;                  // orphaned produces rejected by fencing, never appended
  uint64_t delivered = 0;               // records handed to subscribers
  uint64_t deleted_by_retention = 0;
  uint64_t out_of_range_resets = 0;  // subscriptions moved forward past deleted records
};

class SimLogCluster final : public env::Log {
 public:
  using ProducerId = uint64_t;
  // A subscription asked for records before the partition's start offset (deleted by
  // retention): it continues from `start_offset`.
  using OutOfRangeFn = std::function<void(const std::string& topic, uint32_t partition,
                                          uint64_t requested_offset, uint64_t start_offset)>;

  // `name` is the region's name: mirrors name this cluster's topics "<name>.<topic>" elsewhere.
  // `disk` is the brokers' disk (the region's disk, or a separate one). `rng`: derive it from
  // the run seed (e.g. Rng::derive(seed, "log/<region>")).
  SimLogCluster(Scheduler& scheduler, SimDisk& disk, std::string name, const SimLogSpec& spec,
                Rng rng);
  SimLogCluster(const SimLogCluster&) = delete;
  SimLogCluster& operator=(const SimLogCluster&) = delete;

  const std::string& name() const { return name_; }
  const SimLogSpec& spec() const { return spec_; }

  // Creates `topic` with `partitions` (1..max_partitions_per_topic) partitions. Creating an
  // existing topic with the same count is ok (idempotent); another count is invalid_argument.
  Status create_topic(const std::string& topic, uint32_t partitions);
  // Partitions of `topic`, 0 if it does not exist.
  uint32_t partition_count(const std::string& topic) const;

  // env::Log. produce() is produce_as(the node's producer, ...); a topic or partition that does
  // not exist fails at once with not_found. subscribe() replaces an existing subscription to
  // the same partition. end_offset() is the high watermark, also while the cluster is down.
  void produce(const std::string& topic, uint32_t partition, std::string key, std::string value,
               ProduceDone done) override;
  // Stamps the node producer's records (a crashed node's successor gets a fresh producer,
  // unstamped until it sets its own).
  void set_writer(uint64_t writer) override;
  void subscribe(const std::string& topic, uint32_t partition, uint64_t from_offset,
                 RecordFn on_record) override;
  void when_reading(const std::string& topic, uint32_t partition,
                    std::function<void()> ready) override;
  uint64_t end_offset(const std::string& topic, uint32_t partition) const override;

  // Producers other than the node's (e.g. a mirror's): each has its own buffer limit and its
  // own gapless lanes. Producer ids are never reused.
  ProducerId new_producer(size_t buffer_records);
  // `writer` stamps the record (LogRecord::writer; a mirror passes the source record's on).
  void produce_as(ProducerId producer, const std::string& topic, uint32_t partition,
                  std::string key, std::string value, ProduceDone done, uint64_t writer = 0);

  // --- faults ---
  // Down: a region outage or all brokers killed (see the model above). Coming back up resumes
  // every subscription and reports the produces lost in the outage (from an event at now).
  void set_available(bool up);
  bool available() const { return up_; }
  // The region's node process crashed: its subscriptions end and the callbacks of its pending
  // produces never run (records already sent may still be appended). The node's next produce
  // uses a fresh producer. Other producers (mirrors) are unaffected.
  void drop_clients();
  // The restarted node's producer initialises: records of crashed producers that are not yet
  // appended never will be (Kafka's InitProducerId with the region's transactional.id bumps the
  // producer epoch, and the brokers reject the older epoch from then on). After this, the log's
  // end offsets are final for everything a crashed incarnation sent, so a restarted node can
  // read its last sequence numbers from the log without racing its own ghost.
  void fence_crashed_producers();

  // --- retention ---
  void set_out_of_range_handler(OutOfRangeFn fn) { out_of_range_ = std::move(fn); }
  // Deletes every expired record now, in every partition.
  void enforce_retention();

  // --- read-only access for checkers and mirrors ---
  // The records still held (offsets start_offset(topic, p) .. end_offset(topic, p) - 1, in
  // order; records[i].offset == start_offset + i). Empty for an unknown topic or partition.
  const std::deque<env::LogRecord>& records(const std::string& topic, uint32_t partition) const;
  // First offset still held (0 until retention deletes something).
  uint64_t start_offset(const std::string& topic, uint32_t partition) const override;
  const SimLogStats& stats() const { return stats_; }

  // --- the remote-consumer side of a mirror (SimMirror) ---
  struct FetchResult {
    uint32_t partitions = 0;  // of the topic; 0 if it does not exist (yet)
    // Per partition: the records from max(position, start offset), at most
    // max_records_per_partition and, overall, about max_bytes (at least one record if any).
    std::vector<std::vector<env::LogRecord>> records;
    size_t bytes = 0;  // wire size of the records (key + value + overhead each)
  };
  // A long-poll fetch of `topic` from per-partition `positions` (missing entries mean 0): the
  // answer goes to `respond` as soon as any partition has records past its position, or after
  // fetch_wait_ns with nothing. If the cluster is down when the fetch arrives or when it would
  // answer, `respond` never runs (the remote consumer times out, as a real one does).
  void remote_fetch(const std::string& topic, std::vector<uint64_t> positions,
                    size_t max_records_per_partition, size_t max_bytes,
                    std::function<void(FetchResult)> respond);

 private:
  struct Partition {
    std::deque<env::LogRecord> records;
    std::deque<TimeNs> appended_at;  // parallel to records
    uint64_t start_offset = 0;
    TimeNs last_ack_at = 0;  // acks in produce order: no record acked before the previous one
  };
  struct Producer {
    size_t buffered = 0;  // produces neither acknowledged nor failed
    size_t limit = 0;
    bool dead = false;    // drop_clients(): callbacks are dropped
    uint64_t writer = 0;  // set_writer (the node's producer only)
  };
  // One producer's pending records to one partition, in produce order (gapless lane).
  struct Lane {
    std::deque<uint64_t> pending;
    bool doomed = false;  // a record was lost: everything pending fails with it
  };
  using LaneKey = std::tuple<ProducerId, std::string, uint32_t>;
  struct Pending {
    ProducerId producer = 0;
    std::string topic;
    uint32_t partition = 0;
    std::string key;
    std::string value;
    ProduceDone done;
    bool doomed = false;
    Scheduler::TimerId deadline_timer = 0;
    uint64_t writer = 0;
  };
  struct Subscription {
    uint64_t id = 0;  // changes when replaced; stale events compare it
    uint64_t position = 0;
    RecordFn on_record;
    bool fetching = false;              // a response is on its way
    Scheduler::TimerId wait_timer = 0;  // fetch_wait for fetch_min_records
    TimeNs fetches_from = 0;            // subscribe time + subscribe_setup_ns
    bool reading = false;               // started fetching (when_reading)
    std::vector<std::function<void()>> on_reading;
  };
  using PartitionKey = std::pair<std::string, uint32_t>;
  struct Waiter {  // a parked remote_fetch
    std::string topic;
    std::vector<uint64_t> positions;
    size_t max_records_per_partition = 0;
    size_t max_bytes = 0;
    std::function<void(FetchResult)> respond;
    Scheduler::TimerId timer = 0;
  };

  Partition* find_partition(const std::string& topic, uint32_t partition);
  const Partition* find_partition(const std::string& topic, uint32_t partition) const;
  void fail_soon(ProduceDone done, Status status);
  void on_disk_done(uint64_t id);
  void on_acked(uint64_t id);
  void on_deadline(uint64_t id);
  void fail_doomed_lanes();
  // Fails every pending record of the lanes, callbacks after all state changes.
  void fail_lanes(const std::vector<LaneKey>& keys, const std::string& why);
  void doom_lane_from(Lane& lane, uint64_t id);
  // Removes a pending produce (timer, lane, buffer); returns its callback, or nullptr if its
  // producer died.
  ProduceDone take(uint64_t id);
  void append(const std::string& topic, uint32_t partition, Partition& p, std::string key,
              std::string value, uint64_t writer);
  void trim(const std::string& topic, uint32_t partition, Partition& p);
  void kick(const PartitionKey& key);
  void run_reading(const PartitionKey& key, uint64_t sub_id, std::function<void()> ready);
  void start_response(Subscription& sub, const PartitionKey& key);
  void deliver(const PartitionKey& key, uint64_t sub_id);
  void wake_waiters(const std::string& topic);
  void answer_waiter(uint64_t waiter_id);

  Scheduler& scheduler_;
  SimDisk& disk_;
  std::string name_;
  SimLogSpec spec_;
  Rng rng_;
  bool up_ = true;
  std::map<std::string, std::vector<Partition>> topics_;
  std::map<ProducerId, Producer> producers_;
  ProducerId next_producer_ = 1;
  ProducerId node_producer_ = 0;
  std::map<LaneKey, Lane> lanes_;
  std::map<uint64_t, Pending> pending_;
  uint64_t next_pending_ = 1;
  std::map<PartitionKey, Subscription> subs_;
  uint64_t next_sub_ = 1;
  std::map<uint64_t, Waiter> waiters_;
  uint64_t next_waiter_ = 1;
  uint64_t fetch_rotation_ = 0;
  OutOfRangeFn out_of_range_;
  SimLogStats stats_;
};

}  // namespace meridian::sim
