#include "engine/real/kafka/kafka_log.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstdio>

#include "engine/core/binary_io.h"
#include "engine/real/kafka/kafka_log_internal.h"

namespace meridian::real {

using kafka_internal::partition_name;

namespace {

Status set_property(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) !=
      RD_KAFKA_CONF_OK) {
    return Status::invalid_argument("librdkafka property " + name + "=" + value + ": " + error);
  }
  return Status::ok();
}

Status set_properties(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& props) {
  for (const auto& [name, value] : props) {
    Status status = set_property(conf, name, value);
    if (!status.is_ok()) return status;
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<KafkaLog>> KafkaLog::create(EventLoop& loop, KafkaLogOptions options) {
  if (options.bootstrap_servers.empty()) {
    return Status::invalid_argument("KafkaLogOptions.bootstrap_servers is empty");
  }
  std::unique_ptr<KafkaLog> log(new KafkaLog(loop, std::move(options)));
  Status status = log->init();
  if (!status.is_ok()) return status;
  return log;
}

KafkaLog::KafkaLog(EventLoop& loop, KafkaLogOptions options)
    : loop_(loop),
      options_(std::move(options)),
      alive_(std::make_shared<std::atomic<bool>>(true)) {}

Status KafkaLog::init() {
  if (!options_.read_only) {
    Result<rd_kafka_t*> producer = new_handle(/*consumer=*/false, /*producer_settings=*/true);
    if (!producer.is_ok()) return producer.status();
    producer_ = producer.value();
  }
  Result<rd_kafka_t*> consumer = new_handle(/*consumer=*/true, /*producer_settings=*/false);
  if (!consumer.is_ok()) return consumer.status();
  consumer_ = consumer.value();
  // Everything of the consumer (errors, rebalance events, fetched records) through one queue.
  if (rd_kafka_resp_err_t err = rd_kafka_poll_set_consumer(consumer_); err) {
    return Status::invalid_argument(std::string("rd_kafka_poll_set_consumer: ") +
                                    rd_kafka_err2str(err));
  }
  Result<rd_kafka_t*> metadata = new_handle(/*consumer=*/false, /*producer_settings=*/false);
  if (!metadata.is_ok()) return metadata.status();
  metadata_ = metadata.value();
  background_ = std::thread([this] { background_main(); });
  loop_.add_poller(
      [this, alive = alive_] {
        if (alive->load(std::memory_order_acquire)) poll();
      },
      [this, alive = alive_] { return alive->load(std::memory_order_acquire) && poll_ready(); });
  return Status::ok();
}

Result<rd_kafka_t*> KafkaLog::new_handle(bool consumer, bool producer_settings) const {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> props = {
      {"bootstrap.servers", options_.bootstrap_servers},
      {"client.id", options_.client_id},
      {"socket.nagle.disable", "true"},
      {"reconnect.backoff.ms", "50"},
      {"reconnect.backoff.max.ms", std::to_string(options_.reconnect_backoff_max_ms)},
      {"allow.auto.create.topics", "false"},
      {"log.connection.close", "false"},
  };
  if (consumer) {
    // assign() needs a consumer group handle, but nothing here joins or commits to the group.
    props["group.id"] = "meridian-assign-only." + options_.client_id;
    props["enable.auto.commit"] = "false";
    props["enable.auto.offset.store"] = "false";
    props["enable.partition.eof"] = "true";
    props["auto.offset.reset"] = "earliest";
    props["fetch.wait.max.ms"] = std::to_string(options_.fetch_wait_max_ms);
    props["fetch.error.backoff.ms"] = "100";
  }
  if (producer_settings) {
    props["enable.idempotence"] = "true";
    props["acks"] = "all";
    props["enable.gapless.guarantee"] = "true";
    props["linger.ms"] = std::to_string(options_.linger_ms);
    // KafkaLog times produces out itself (see the header): librdkafka's own timeout would bump
    // the epoch and re-send later records under a new sequence, which can leave a gap.
    props["message.timeout.ms"] = std::to_string(3 * options_.message_timeout_ms + 60'000);
    props["retry.backoff.ms"] = "50";
  }
  for (const auto& [name, value] : options_.properties) props[name] = value;
  if (consumer) {
    for (const auto& [name, value] : options_.consumer_properties) props[name] = value;
  }
  if (producer_settings) {
    for (const auto& [name, value] : options_.producer_properties) props[name] = value;
  }
  if (Status status = set_properties(conf, props); !status.is_ok()) {
    rd_kafka_conf_destroy(conf);
    return status;
  }
  if (producer_settings) {
    rd_kafka_conf_set_opaque(conf, const_cast<KafkaLog*>(this));
    rd_kafka_conf_set_dr_msg_cb(conf, &KafkaLog::on_delivery);
  }
  char error[512];
  rd_kafka_t* handle =
      rd_kafka_new(consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (handle == nullptr) {  // on failure the conf is still ours
    rd_kafka_conf_destroy(conf);
    return Status::invalid_argument(std::string("rd_kafka_new: ") + error);
  }
  return handle;
}

KafkaLog::~KafkaLog() {
  alive_->store(false, std::memory_order_release);
  {
    std::lock_guard lock(mu_);
    shared_.stop = true;
  }
  wake_.notify_all();
  if (background_.joinable()) background_.join();
  if (consumer_ != nullptr) {
    rd_kafka_consumer_close(consumer_);
    rd_kafka_destroy(consumer_);
  }
  if (producer_ != nullptr) {
    rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT |
                                  RD_KAFKA_PURGE_F_NON_BLOCKING);
    rd_kafka_destroy(producer_);
  }
}

// ---------------------------------------------------------------------------------------------
// Produce

void KafkaLog::set_writer(uint64_t writer) {
  writer_ = writer;
  writer_header_.clear();
  binary_io::put_fixed<uint64_t>(&writer_header_, writer);
}

void KafkaLog::produce(const std::string& topic, uint32_t partition, std::string key,
                       std::string value, ProduceDone done) {
  assert(done);
  ++stats_.produced;
  const uint64_t id = next_produce_id_++;
  outstanding_.emplace(
      id, Outstanding{std::move(done), producer_generation_,
                      loop_.monotonic_ns() + options_.message_timeout_ms * env::kMillisecond});
  PartitionKey key_of_partition{topic, partition};
  if (producer_ == nullptr) {
    completions_.push_back(
        {id,
         Status::unsupported("kafka: " + options_.client_id + " is a read-only log (no producer)"),
         0});
    return;
  }
  if (blocked_.count(key_of_partition) != 0) {
    fail_now(id, key_of_partition, "kafka: an earlier produce to this partition failed");
    return;
  }
  if (outstanding_.size() > options_.max_outstanding_produces) {
    fail_now(id, key_of_partition,
             "kafka: producer buffer full (" + std::to_string(outstanding_.size() - 1) +
                 " produces outstanding)");
    return;
  }
  // Everything is copied (RD_KAFKA_MSG_F_COPY; the header always); the opaque carries our id
  // into the delivery report, and the writer header is left out while no writer is set.
  rd_kafka_vu_t vus[7];
  size_t n = 0;
  auto add = [&vus, &n](rd_kafka_vtype_t type) -> rd_kafka_vu_t& {
    vus[n].vtype = type;
    return vus[n++];
  };
  add(RD_KAFKA_VTYPE_TOPIC).u.cstr = topic.c_str();
  add(RD_KAFKA_VTYPE_PARTITION).u.i32 = int32_t(partition);
  add(RD_KAFKA_VTYPE_KEY).u.mem = {key.data(), key.size()};
  add(RD_KAFKA_VTYPE_VALUE).u.mem = {value.data(), value.size()};
  add(RD_KAFKA_VTYPE_MSGFLAGS).u.i = RD_KAFKA_MSG_F_COPY;
  add(RD_KAFKA_VTYPE_OPAQUE).u.ptr = reinterpret_cast<void*>(uintptr_t(id));
  if (writer_ != 0) {
    add(RD_KAFKA_VTYPE_HEADER).u.header = {kWriterHeader, writer_header_.data(),
                                           ssize_t(writer_header_.size())};
  }
  if (rd_kafka_error_t* error = rd_kafka_produceva(producer_, vus, n); error != nullptr) {
    const std::string why = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    fail_now(id, key_of_partition,
             "kafka: produce to " + partition_name(topic, partition) + " failed at once: " + why);
  }
}

Status KafkaLog::prepare_produce(const std::vector<std::string>& topics,
                                 std::chrono::milliseconds timeout) {
  if (producer_ == nullptr) return Status::ok();  // read-only: nothing to produce
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const std::string& topic : topics) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    const rd_kafka_resp_err_t err = kafka_internal::fetch_topic_metadata(
        producer_, topic, int(std::max<int64_t>(1, left.count())));
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
      return Status::not_found("kafka: topic " + topic + ": " + rd_kafka_err2str(err));
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::unavailable("kafka: producer metadata of " + topic + ": " +
                                 rd_kafka_err2str(err));
    }
  }
  return Status::ok();
}

void KafkaLog::fail_now(uint64_t id, const PartitionKey& key, std::string why) {
  // Reported from the next poll, never inside produce(). Until then nothing later may reach
  // this partition (it could be appended while this record never is).
  blocked_.emplace(key, id);
  completions_.push_back({id, Status::unavailable(std::move(why)), 0});
}

void KafkaLog::on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* opaque) {
  // Runs inside rd_kafka_poll(producer), i.e. on the loop thread.
  auto* self = static_cast<KafkaLog*>(opaque);
  const uint64_t id = uint64_t(reinterpret_cast<uintptr_t>(message->_private));
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    assert(message->offset >= 0);
    self->completions_.push_back({id, Status::ok(), uint64_t(message->offset)});
    return;
  }
  const char* topic = message->rkt != nullptr ? rd_kafka_topic_name(message->rkt) : "?";
  std::string why = "delivery to " + partition_name(topic, uint32_t(message->partition)) +
                    " failed: " + rd_kafka_err2str(message->err);
  if (self->delivery_error_.empty()) self->delivery_error_ = why;
  self->completions_.push_back({id, Status::unavailable("kafka: " + why), 0});
}

void KafkaLog::poll_producer() {
  if (producer_ != nullptr) rd_kafka_poll(producer_, 0);  // delivery reports → completions_
  char reason[512];
  if (producer_ == nullptr) {
    // Read-only: only the refusals produce() queued.
  } else if (rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(producer_, reason, sizeof reason);
             fatal) {
    recreate_producer(std::string("fatal error ") + rd_kafka_err2name(fatal) + ": " + reason);
  } else if (!delivery_error_.empty()) {
    recreate_producer(delivery_error_);
  } else if (!outstanding_.empty() &&
             outstanding_.begin()->second.generation == producer_generation_ &&
             outstanding_.begin()->second.deadline <= loop_.monotonic_ns()) {
    recreate_producer("no acknowledgement within " + std::to_string(options_.message_timeout_ms) +
                      " ms");
  }
  if (completions_.empty()) return;
  std::vector<Completion> ready;
  ready.swap(completions_);  // callbacks may produce again; those complete on a later poll
  for (Completion& completion : ready) {
    auto it = outstanding_.find(completion.id);
    if (it == outstanding_.end()) continue;  // already failed with its abandoned producer
    ProduceDone done = std::move(it->second.done);
    outstanding_.erase(it);
    if (!blocked_.empty()) {
      std::erase_if(blocked_, [&](const auto& entry) { return entry.second == completion.id; });
    }
    if (completion.status.is_ok()) {
      ++stats_.produce_acked;
    } else {
      ++stats_.produce_failed;
    }
    done(std::move(completion.status), completion.offset);
  }
}

void KafkaLog::recreate_producer(const std::string& why) {
  std::fprintf(stderr, "kafka log %s: abandoning the producer (%s); starting a new one\n",
               options_.client_id.c_str(), why.c_str());
  Result<rd_kafka_t*> fresh = new_handle(/*consumer=*/false, /*producer_settings=*/true);
  assert(fresh.is_ok());  // the same properties were accepted before
  rd_kafka_t* old = producer_;
  const uint64_t old_generation = producer_generation_;
  producer_ = fresh.value();
  ++producer_generation_;
  ++stats_.producer_recreated;
  rd_kafka_purge(
      old, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING);
  rd_kafka_poll(old, 0);  // reports already queued (successes included) → completions_
  delivery_error_.clear();
  // Reports already queued keep their order; everything else the old producer carried fails.
  std::set<uint64_t> reported;
  for (const Completion& completion : completions_) reported.insert(completion.id);
  for (const auto& [id, item] : outstanding_) {
    if (item.generation != old_generation || reported.count(id) != 0) continue;
    completions_.push_back(
        {id, Status::unavailable("kafka: producer abandoned (" + why + "); not acknowledged"), 0});
  }
  std::lock_guard lock(mu_);
  shared_.to_destroy.push_back(old);  // rd_kafka_destroy can block: not on the loop
  wake_.notify_all();
}

// ---------------------------------------------------------------------------------------------
// Consume

void KafkaLog::subscribe(const std::string& topic, uint32_t partition, uint64_t from_offset,
                         RecordFn on_record) {
  assert(on_record);
  PartitionKey key{topic, partition};
  Subscription sub;
  sub.on_record = std::move(on_record);
  sub.position = from_offset;
  const bool inserted = subscriptions_.emplace(key, std::move(sub)).second;
  assert(inserted && "one subscription per partition");
  (void)inserted;
  {
    std::lock_guard lock(mu_);
    shared_.wanted.insert(key);
    shared_.watched.insert(key);
    shared_.kick = true;
  }
  wake_.notify_all();
}

void KafkaLog::when_reading(const std::string& topic, uint32_t partition,
                            std::function<void()> ready) {
  auto it = subscriptions_.find(PartitionKey{topic, partition});
  assert(it != subscriptions_.end() && "subscribe() before when_reading()");
  if (it == subscriptions_.end()) return;
  if (it->second.reading) {
    reading_ready_.push_back(std::move(ready));  // from the next poll
  } else {
    it->second.on_reading.push_back(std::move(ready));
  }
}

void KafkaLog::mark_reading(Subscription& sub) {
  sub.reading = true;
  for (auto& ready : sub.on_reading) reading_ready_.push_back(std::move(ready));
  sub.on_reading.clear();
}

size_t KafkaLog::pending_subscriptions() const {
  size_t pending = 0;
  for (const auto& [key, sub] : subscriptions_) pending += sub.assigned ? 0 : 1;
  return pending;
}

void KafkaLog::assign_found() {
  if (!found_pending_.exchange(false, std::memory_order_acq_rel)) return;
  std::set<PartitionKey> found;
  {
    std::lock_guard lock(mu_);
    found.swap(shared_.found);
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(int(found.size()));
  for (const PartitionKey& key : found) {
    const Subscription& sub = subscriptions_.at(key);
    assert(!sub.assigned);
    rd_kafka_topic_partition_list_add(list, key.first.c_str(), int32_t(key.second))->offset =
        int64_t(sub.position);
  }
  rd_kafka_error_t* error = rd_kafka_incremental_assign(consumer_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (error != nullptr) {
    std::fprintf(stderr, "kafka log %s: assigning %zu partitions failed (%s); retrying\n",
                 options_.client_id.c_str(), found.size(), rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    std::lock_guard lock(mu_);
    shared_.wanted.insert(found.begin(), found.end());
    return;
  }
  for (const PartitionKey& key : found) subscriptions_.at(key).assigned = true;
}

void KafkaLog::poll_consumer() {
  assign_found();
  for (size_t n = 0; n < options_.max_records_per_poll; ++n) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer_, 0);
    if (message == nullptr) break;
    deliver(message);
    rd_kafka_message_destroy(message);
  }
  if (reading_ready_.empty()) return;
  std::vector<std::function<void()>> ready;
  ready.swap(reading_ready_);
  for (auto& callback : ready) callback();
}

KafkaLog::Subscription* KafkaLog::subscription_of(const rd_kafka_message_t* message) {
  const uint32_t partition = uint32_t(message->partition);
  if (cached_topic_ != message->rkt || cached_partition_ != partition) {
    auto it = subscriptions_.find(PartitionKey{rd_kafka_topic_name(message->rkt), partition});
    if (it == subscriptions_.end() || !it->second.assigned) return nullptr;
    cached_topic_ = message->rkt;
    cached_partition_ = partition;
    cached_subscription_ = &it->second;
  }
  return cached_subscription_;
}

void KafkaLog::deliver(rd_kafka_message_t* message) {
  // Other errors (transport errors, an unknown topic) carry no record; librdkafka keeps fetching
  // assigned partitions by itself. A partition EOF says the consumer has fetched up to the end.
  const bool eof = message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
  if ((message->err != RD_KAFKA_RESP_ERR_NO_ERROR && !eof) || message->rkt == nullptr) return;
  Subscription* found = subscription_of(message);
  if (found == nullptr) return;
  Subscription& sub = *found;
  if (!sub.reading) mark_reading(sub);
  if (eof) return;
  const char* topic = rd_kafka_topic_name(message->rkt);
  const uint32_t partition = uint32_t(message->partition);
  const uint64_t offset = uint64_t(message->offset);
  if (offset < sub.position) {
    ++stats_.stale_records_skipped;
    return;
  }
  if (offset > sub.position) ++stats_.offset_gaps;
  sub.position = offset + 1;
  scratch_.topic.assign(topic);
  scratch_.partition = partition;
  scratch_.offset = offset;
  scratch_.key.assign(static_cast<const char*>(message->key), message->key_len);
  scratch_.value.assign(static_cast<const char*>(message->payload), message->len);
  scratch_.writer = 0;
  rd_kafka_headers_t* headers = nullptr;
  const void* writer = nullptr;
  size_t writer_size = 0;
  if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
      rd_kafka_header_get_last(headers, kWriterHeader, &writer, &writer_size) ==
          RD_KAFKA_RESP_ERR_NO_ERROR &&
      writer_size == 8) {
    scratch_.writer = binary_io::load_fixed<uint64_t>(static_cast<const char*>(writer));
  }
  ++stats_.records_delivered;
  sub.on_record(scratch_);
}

bool KafkaLog::poll_ready() const {
  if (!completions_.empty() || !outstanding_.empty() || !reading_ready_.empty()) return true;
  if (producer_ != nullptr && rd_kafka_outq_len(producer_) > 0) return true;
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(consumer_);
  if (queue == nullptr) return true;  // no consumer queue to look at: poll every time
  const size_t fetched = rd_kafka_queue_length(queue);
  rd_kafka_queue_destroy(queue);
  return fetched > 0;
}

void KafkaLog::poll() {
  poll_producer();
  poll_consumer();
}

}  // namespace meridian::real
