// Appends one shard's write records to the region's log, partition-aware and in order.
//
// Each record already carries its origin sequence, so a record must never be dropped once it is
// accepted: dropping it would leave a hole that every region's version vector would wait on
// forever. Failed appends are therefore retried with exponential backoff and jitter until they
// succeed. What is bounded is admission: the node refuses new writes when too many are pending
// (NodeOptions::max_pending_writes), and a client whose write is not durable within
// `write_timeout` gets an error (the write may still become durable and visible later; it was
// never acknowledged, so nothing acknowledged is lost).
//
// Order: records reach the log in sequence order, like Kafka's idempotent producer. Up to
// `max_in_flight` appends run concurrently; the log keeps one producer's records of a partition
// gapless (env::Log), so after a failure nothing later is appended either. The producer then
// stops sending, waits for the appends still in flight, backs off, and re-sends everything not
// yet durable from the oldest. So the log holds, per incarnation, a gap-free run of sequences
// (duplicates possible), which is what lets a restarted node continue after the highest
// sequence it finds in its log without leaving a hole.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "engine/node/node_env.h"
#include "engine/node/requests.h"

namespace meridian::node {

struct ProducerOptions {
  uint32_t max_in_flight = 64;
  env::TimeNs write_timeout = 5 * env::kSecond;
  env::TimeNs retry_backoff_min = 20 * env::kMillisecond;
  env::TimeNs retry_backoff_max = 2 * env::kSecond;
};

class ShardProducer {
 public:
  using Done = std::function<void(WriteResponse)>;

  ShardProducer(NodeEnv& env, std::string topic, uint32_t partition, ProducerOptions options);
  ShardProducer(const ShardProducer&) = delete;
  ShardProducer& operator=(const ShardProducer&) = delete;

  // Takes ownership of an encoded record and its message key (the vector id, as Kafka keys
  // records); `done` runs once: `ack` (status ok) when the record is
  // durable, or an error response after write_timeout.
  void enqueue(std::string key, std::string record, WriteResponse ack, Done done);

  // Records accepted and not yet durable (queued, in flight or waiting to retry).
  size_t pending() const { return items_.size(); }
  uint64_t retries() const { return retries_; }
  // The first sequence-ordered item not acknowledged yet has failed and is waiting to be re-sent.
  bool retrying() const { return resend_armed_ || stopped_by_failure_; }

 private:
  struct Item {
    std::string key;
    std::string record;
    WriteResponse ack;
    Done done;  // empty once replied
    env::Timers::TimerId timeout = 0;
  };

  void pump();
  void send(uint64_t id);    // appends, maybe after a BUGGIFY delay that holds later items back
  void append(uint64_t id);  // hands the item's record to the log
  void on_produced(uint64_t id, Status status);
  // Once nothing is in flight after a failure: re-send from the oldest item after a backoff.
  void maybe_arm_resend();
  void reply(Item& item, WriteResponse response);
  env::TimeNs backoff(uint32_t failures);

  NodeEnv& env_;
  std::string topic_;
  uint32_t partition_;
  ProducerOptions options_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Item> items_;  // not yet durable, by admission (= sequence) order
  uint64_t send_cursor_ = 0;        // items with a smaller id were sent in the current round
  uint32_t in_flight_ = 0;
  bool held_ = false;                // a BUGGIFY-delayed append holds later items back
  bool stopped_by_failure_ = false;  // an append failed: send nothing until in-flight drain
  bool resend_armed_ = false;        // the backoff timer before re-sending is running
  uint32_t consecutive_failures_ = 0;
  uint64_t retries_ = 0;
};

}  // namespace meridian::node
