// An in-process env::Log with Kafka semantics, for meridian-node's single-process mode.
//
// `log: {kind: memory}` in a node config (docs/api.md) runs one region without brokers: for
// demos, local development and tests of the data plane that need no Kafka. It is an honest log,
// not a mock: topics of partitions created on first use, each an append-only sequence of records
// with offsets 0, 1, 2, ...; produce() assigns the offset at once and reports it (acks=all has
// nothing to wait for in one process) from a later loop iteration, never synchronously;
// subscriptions deliver every record from their offset on, in offset order, from posted loop
// tasks, also records appended after they subscribed. end_offset() is the high watermark.
//
// What it is not: durable (the process ending loses everything; a restarted node starts empty)
// or shared (no other region sees these records, so a memory-mode deployment has one region).
//
// Limits: at most `max_bytes` of keys and values in total (no retention); past it produce fails
// with `unavailable: memory log full`, which the engine treats like an unreachable cluster
// (its producers retry, its admission bound refuses new writes). One subscription per
// partition: subscribing again replaces the previous one.
//
// Threading: loop thread only, like the engine that calls it (EventLoop::post is the only way
// in from other threads). Callbacks run on the loop thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "engine/env/env.h"
#include "engine/real/event_loop.h"

namespace meridian::real {

struct MemoryLogOptions {
  size_t max_bytes = size_t(1) << 30;  // keys + values held, over all partitions
};

class MemoryLog final : public env::Log {
 public:
  // REQUIRES: `loop` outlives this log and runs every task this log posts; callbacks of a
  // destroyed log never run.
  MemoryLog(EventLoop& loop, MemoryLogOptions options = {});
  ~MemoryLog() override;
  MemoryLog(const MemoryLog&) = delete;
  MemoryLog& operator=(const MemoryLog&) = delete;

  void produce(const std::string& topic, uint32_t partition, std::string key, std::string value,
               ProduceDone done) override;
  void set_writer(uint64_t writer) override { writer_ = writer; }
  void subscribe(const std::string& topic, uint32_t partition, uint64_t from_offset,
                 RecordFn on_record) override;
  uint64_t end_offset(const std::string& topic, uint32_t partition) const override;

  size_t bytes() const { return bytes_; }

 private:
  using PartitionKey = std::pair<std::string, uint32_t>;
  struct Subscription {
    uint64_t id = 0;  // changes when replaced, so stale delivery tasks do nothing
    uint64_t position = 0;
    RecordFn on_record;
    bool scheduled = false;  // a delivery task is posted
  };

  // Posts a task that delivers everything past the subscription's position.
  void schedule(const PartitionKey& key);
  void deliver(const PartitionKey& key, uint64_t sub_id);

  EventLoop& loop_;
  MemoryLogOptions options_;
  std::map<PartitionKey, std::deque<env::LogRecord>> partitions_;
  std::map<PartitionKey, Subscription> subs_;
  uint64_t next_sub_ = 1;
  size_t bytes_ = 0;
  uint64_t writer_ = 0;  // set_writer
  // Tasks posted to the loop hold a weak reference: they do nothing once the log is gone.
  std::shared_ptr<MemoryLog*> alive_;
};

}  // namespace meridian::real
