#include "engine/node/shard_producer.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "engine/node/coverage.h"

namespace meridian::node {

ShardProducer::ShardProducer(NodeEnv& env, std::string topic, uint32_t partition,
                             ProducerOptions options)
    : env_(env), topic_(std::move(topic)), partition_(partition), options_(options) {}

void ShardProducer::enqueue(std::string key, std::string record, WriteResponse ack, Done done) {
  const uint64_t id = next_id_++;
  Item& item = items_[id];
  item.key = std::move(key);
  item.record = std::move(record);
  item.ack = std::move(ack);
  item.done = std::move(done);
  item.timeout = env_.timers.after(options_.write_timeout, [this, id] {
    auto it = items_.find(id);
    if (it == items_.end()) return;
    COVER("write_not_durable_in_time");
    WriteResponse failed = it->second.ack;
    failed.status = Status::unavailable(
        "write not durable within " + std::to_string(options_.write_timeout / env::kMillisecond) +
        " ms (log unreachable?); it was not acknowledged and may still be applied later");
    it->second.timeout = 0;
    reply(it->second, std::move(failed));
  });
  pump();
}

void ShardProducer::pump() {
  while (!held_ && !stopped_by_failure_ && !resend_armed_ && in_flight_ < options_.max_in_flight) {
    auto next = items_.lower_bound(send_cursor_);
    if (next == items_.end()) return;
    send_cursor_ = next->first + 1;
    send(next->first);
  }
}

void ShardProducer::send(uint64_t id) {
  ++in_flight_;
  if (BUGGIFY("produce_delayed")) {
    // Hold this append back for a while, and everything after it with it: a slow producer
    // must not reorder its own records (see the header).
    COVER("produce_delayed");
    held_ = true;
    env_.timers.after(env::TimeNs(env_.random.next_unit() * 50 * env::kMillisecond), [this, id] {
      held_ = false;
      append(id);
      pump();
    });
    return;
  }
  append(id);
}

void ShardProducer::append(uint64_t id) {
  const Item& item = items_.at(id);
  env_.log.produce(
      topic_, partition_, item.key, item.record,
      [this, id](Status status, uint64_t /*offset*/) { on_produced(id, std::move(status)); });
}

void ShardProducer::on_produced(uint64_t id, Status status) {
  assert(in_flight_ > 0);
  --in_flight_;
  auto it = items_.find(id);
  assert(it != items_.end());
  Item& item = it->second;
  if (status.is_ok()) {
    consecutive_failures_ = 0;
    if (item.timeout != 0) env_.timers.cancel(item.timeout);
    reply(item, item.ack);
    items_.erase(it);
  } else {
    COVER("produce_retry");
    ++retries_;
    stopped_by_failure_ = true;
  }
  maybe_arm_resend();
  pump();
}

void ShardProducer::maybe_arm_resend() {
  if (!stopped_by_failure_ || in_flight_ > 0) return;
  stopped_by_failure_ = false;
  resend_armed_ = true;
  env_.timers.after(backoff(++consecutive_failures_), [this] {
    resend_armed_ = false;
    send_cursor_ = 0;  // from the oldest record not yet durable
    pump();
  });
}

void ShardProducer::reply(Item& item, WriteResponse response) {
  if (!item.done) return;
  Done done = std::move(item.done);
  item.done = nullptr;
  done(std::move(response));
}

env::TimeNs ShardProducer::backoff(uint32_t failures) {
  // Exponential with full jitter (the AWS architecture blog's recommendation): uniform in
  // [min, min * 2^failures], capped.
  const uint32_t shift = std::min<uint32_t>(failures, 20);
  const env::TimeNs ceiling =
      std::min(options_.retry_backoff_max, options_.retry_backoff_min << shift);
  const auto span = double(ceiling - options_.retry_backoff_min);
  return options_.retry_backoff_min + env::TimeNs(span * env_.random.next_unit());
}

}  // namespace meridian::node
