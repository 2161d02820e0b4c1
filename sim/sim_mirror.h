// MirrorMaker-2-like replication of one topic between two regions' simulated Kafka clusters.
//
// The copy of topic T of the source cluster (region A) is the topic "<A>.<T>" of the target
// cluster (region B), MM2's DefaultReplicationPolicy naming, with the same number of partitions
// (created in the target automatically when the mirror first sees the source topic); each
// record keeps its partition, key and value (offsets are the target's own).
//
// Model: the MM2 process runs in region B. It repeats one cycle (stop-and-wait):
//   1. fetch request B→A over the network (request_bytes);
//   2. at A, a long-poll fetch from the mirror's committed positions (SimLogCluster::
//      remote_fetch: answers when any partition has records, else after A's fetch_wait_ns; at
//      most fetch_max_records_per_partition per partition and about fetch_max_bytes in all);
//   3. the response A→B over the network (request_bytes + the records' wire size), so link
//      latency, bandwidth, loss and partitions all apply;
//   4. the records are produced to the target cluster (acks=all, in order per partition) with
//      the mirror's own producer; the position of each partition advances past a record only
//      when its append is acknowledged (MM2 commits offsets only for acked records).
// A lost request or response (cut link, loss, source down) is detected by a timeout of
// 2 × expected RTT + A's fetch_wait_ns + the time a full response (fetch_max_bytes) takes on
// the A→B link's bandwidth + retry_timeout_floor_ns (which must cover the links' jitter);
// the cycle is then retried from
// the committed positions after a backoff (backoff_initial_ns doubling per consecutive failure,
// at most backoff_max_ns, times a uniform [0.5, 1) jitter factor). A failed target append
// (target down, disk stall) is retried the same way. A response that arrives after its
// timeout is ignored.
//
// Guarantees (checked by sim_mirror_test): at-least-once and order-preserving per partition.
// The target never holds a record before an earlier record of the same source partition has
// appeared at least once: the target producer's lanes are gapless (sim_log.h), so within one
// cycle the acknowledged records are a prefix, and the next cycle resumes right after that
// prefix. Retries alone therefore do not duplicate; restart() (the MM2 process crashing and
// resuming from its last offset commit) does, as real MM2 does. Consumers de-duplicate by
// origin sequence.
//
// Records deleted by the source's retention before the mirror copied them are skipped (counted
// in skipped_by_retention): like MM2 with auto.offset.reset=earliest.
//
// Not modelled: pipelining of fetch and produce (throughput here is at most
// fetch_max_records_per_partition per partition per cycle, a cycle lasting one RTT plus the
// target's produce latency), topic-config and ACL sync, checkpoints, heartbeats, partition
// count changes after creation, topic creation failing while the target is down.
//
// REQUIRES: the scheduler, network and both clusters outlive the mirror, and the mirror outlives
// the events it scheduled (run the scheduler only while it exists).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/network.h"
#include "sim/rng.h"
#include "sim/scheduler.h"
#include "sim/sim_log.h"

namespace meridian::sim {

struct SimMirrorSpec {
  size_t fetch_max_records_per_partition = 500;  // max.poll.records-like cap per cycle
  size_t fetch_max_bytes = 4u << 20;             // per response (Kafka's fetch.max.bytes is 50 MiB)
  size_t request_bytes = 200;                    // a fetch request's (and header's) wire size
  TimeNs retry_timeout_floor_ns = 100 * env::kMillisecond;
  TimeNs backoff_initial_ns = 100 * env::kMillisecond;
  TimeNs backoff_max_ns = 2 * env::kSecond;
  // The mirror's producer buffer in the target cluster; also caps the records of one cycle.
  size_t producer_buffer_records = 100'000;
  // How often positions are committed to the (notional) offsets topic, from which a restarted
  // process resumes (Kafka Connect's offset.flush.interval.ms; its default is 60 s).
  TimeNs offset_commit_interval_ns = 10 * env::kSecond;
};

struct SimMirrorStats {
  uint64_t cycles = 0;           // fetch requests sent
  uint64_t responses = 0;        // responses accepted
  uint64_t stale_responses = 0;  // responses that arrived after their timeout
  uint64_t timeouts = 0;         // requests or responses lost (or the source down)
  uint64_t records_fetched = 0;
  uint64_t records_appended = 0;  // acknowledged by the target, duplicates included
  uint64_t records_failed = 0;    // target appends that failed (retried later)
  uint64_t skipped_by_retention = 0;
  uint64_t restarts = 0;
};

class SimMirror {
 public:
  // Mirrors `topic` of `source` (in region `source_region`) to `target` (in `target_region`,
  // where the MM2 process runs). `rng`: derive it from the run seed (e.g.
  // Rng::derive(seed, "mirror/A->B/topic")). Does nothing until start().
  SimMirror(Scheduler& scheduler, Network& network, SimLogCluster& source,
            RegionIndex source_region, SimLogCluster& target, RegionIndex target_region,
            std::string topic, const SimMirrorSpec& spec, Rng rng);
  SimMirror(const SimMirror&) = delete;
  SimMirror& operator=(const SimMirror&) = delete;

  // Starts the cycle (the first request is sent from a scheduler event at now). Idempotent.
  void start();
  // Fault: the MM2 process crashes and is back after `downtime_ns`. It forgets everything in
  // flight (appends it had sent may still land) and resumes from the last committed positions
  // (see offset_commit_interval_ns), so records since then are appended again: duplicates, in
  // order. REQUIRES: started.
  void restart(TimeNs downtime_ns);

  const std::string& source_topic() const { return topic_; }
  // "<source cluster name>.<topic>".
  const std::string& target_topic() const { return target_topic_; }
  // Committed position of a source partition: every source record below it has been appended
  // to the target at least once. 0 for a partition not seen yet.
  uint64_t position(uint32_t partition) const;
  const SimMirrorStats& stats() const { return stats_; }

 private:
  void cycle();
  void on_fetched(uint64_t attempt, SimLogCluster::FetchResult result);
  void on_response(uint64_t attempt, const SimLogCluster::FetchResult& result);
  void on_timeout(uint64_t attempt);
  void on_appended(uint64_t attempt, uint32_t partition, uint64_t source_offset, bool ok);
  // Ends the cycle: the next one starts now (after success) or after a backoff (failure).
  void end_cycle(bool ok);
  void schedule_cycle(TimeNs delay_ns);
  TimeNs backoff();

  Scheduler& scheduler_;
  Network& network_;
  SimLogCluster& source_;
  RegionIndex source_region_;
  SimLogCluster& target_;
  RegionIndex target_region_;
  std::string topic_;
  std::string target_topic_;
  SimMirrorSpec spec_;
  Rng rng_;
  SimLogCluster::ProducerId producer_;
  bool started_ = false;

  std::vector<uint64_t> positions_;  // per source partition: committed position
  std::vector<uint64_t> committed_;  // positions as of the last offset commit
  TimeNs last_commit_at_ = 0;
  uint64_t attempt_ = 0;  // current cycle; stale callbacks compare it
  Scheduler::TimerId timeout_ = 0;
  Scheduler::TimerId next_cycle_ = 0;
  uint32_t consecutive_failures_ = 0;
  // The current cycle's appends.
  size_t appends_outstanding_ = 0;
  bool append_failed_ = false;
  std::vector<uint64_t> acked_to_;  // per partition: one past the contiguous acknowledged prefix
  SimMirrorStats stats_;
};

}  // namespace meridian::sim
