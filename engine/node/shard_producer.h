// Appends one shard's write records to the region's log, partition-aware.
//
// Each record already carries its origin sequence, so a record must never be dropped once it is
// accepted: dropping it would leave a hole that every region's version vector would wait on
// forever. Failed appends are therefore retried with exponential backoff and jitter until they
// succeed. What is bounded is admission: the node refuses new writes when too many are pending
// (NodeOptions::max_pending_writes), and a client whose write is not durable within
// `write_timeout` gets an error (the write may still become durable and visible later; it was
// never acknowledged, so nothing acknowledged is lost).
//
// Up to `max_in_flight` appends run concurrently. A retry can land behind a later record of the
// same partition; replicas apply by CRDT merge and track gaps exactly, so order is a
// performance property here, not a correctness one.
#pragma once

#include <cstdint>
#include <deque>
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

 private:
  struct Item {
    std::string key;
    std::string record;
    WriteResponse ack;
    Done done;  // empty once replied
    env::Timers::TimerId timeout = 0;
    uint32_t attempts = 0;
  };

  void pump();
  void send(uint64_t id);    // counts the attempt, then appends (maybe delayed by BUGGIFY)
  void append(uint64_t id);  // hands the item's record to the log
  void on_produced(uint64_t id, Status status);
  void reply(Item& item, WriteResponse response);
  env::TimeNs backoff(uint32_t attempts);

  NodeEnv& env_;
  std::string topic_;
  uint32_t partition_;
  ProducerOptions options_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Item> items_;  // by admission order
  std::deque<uint64_t> ready_;      // ids waiting for an in-flight slot
  uint32_t in_flight_ = 0;
  uint64_t retries_ = 0;
};

}  // namespace meridian::node
