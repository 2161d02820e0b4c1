// env::Log backed by a real Kafka cluster through librdkafka (docs/kafka.md).
//
// Three librdkafka handles, one purpose each:
//   producer  idempotent (enable.idempotence, so acks=all and ordered retries within one
//             producer id) with enable.gapless.guarantee.
//   consumer  one handle in manual-assignment mode (assign(), no group join, no commits). Every
//             subscription is one partition of the assignment, started at its own offset.
//   metadata  used only by a background thread: finds topics that do not exist yet and refreshes
//             high watermarks for end_offset(), so blocking requests never run on the loop.
//
// Threading: every public method except the destructor runs on the loop thread (the engine's
// thread, EventLoop). Every callback (ProduceDone, RecordFn) runs on the loop thread, from the
// poller this log registers with EventLoop::add_poller, never synchronously inside produce() or
// subscribe(). Callbacks may call produce() and subscribe() again.
//
// Produce: done(ok, offset) only after librdkafka's delivery report says the record is in the
// in-sync replicas (acks=all). Otherwise done(kUnavailable, 0) with the reason (librdkafka's
// error text, the timeout, a full buffer); the record may or may not be in the log.
//
// No gaps: per partition, if a produce fails, no record produced after it and before that
// failure was reported is appended either (a crash after such a gap would leave a hole in the
// origin's sequence that no retry fills; engine/node/shard_producer.h relies on this). The
// pieces: (1) one producer id never skips a sequence number (the broker rejects a record whose
// predecessor it has not appended); (2) librdkafka is never allowed to start a new sequence
// under a bumped epoch while older records are unresolved: its own message timeout is set far
// beyond `message_timeout_ms` and gap-causing errors are fatal (enable.gapless.guarantee);
// (3) instead, on any delivery error, any fatal error, or a produce unacknowledged after
// `message_timeout_ms`, KafkaLog abandons the whole producer: it purges it, fails every produce
// it still carries (in produce order, in the same poll, before any callback can produce again)
// and continues with a fresh producer (a new producer id); (4) a produce that fails at once
// (full buffer) blocks its partition: later produces to it fail too until that failure has been
// reported. Abandoning the producer also fails produces to healthy partitions; they are retried.
//
// Subscribe: records of topic/partition are delivered in strictly increasing offset order from
// `from_offset` (offsets are not always contiguous in Kafka; a record is never delivered twice
// or out of order). A topic or partition that does not exist yet is looked up again every
// `metadata_retry_ms` and consumed from `from_offset` once it appears. If `from_offset` is
// before the partition's start (deleted by retention) consumption resumes at the earliest
// record (auto.offset.reset=earliest) and stats().offset_gaps counts the jump. One
// subscription per partition: subscribing again is a programming error (asserted).
//
// end_offset: the high watermark as last seen by a fetch response or by the background refresh
// (every `watermark_refresh_ms`); 0 until known. For lag reporting only. start_offset: the low
// watermark, from the same refresh (and load_end_offsets).
//
// Limits: at most `max_outstanding_produces` produces not yet reported (further ones fail with
// kUnavailable "producer buffer full", reported on the next poll), at most
// `max_records_per_poll` records delivered per loop iteration (so a backlog cannot starve the
// loop's other work).
//
// Cost when idle: the poller runs on every loop iteration (EventLoop's poll_interval, 500 us by
// default), two non-blocking librdkafka polls each; the background thread wakes every
// `watermark_refresh_ms` (every `metadata_retry_ms` while a subscription waits for its topic)
// for one metadata request plus one watermark request per partition asked about.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/core/status.h"
#include "engine/env/env.h"
#include "engine/real/event_loop.h"

// librdkafka's handle types, so that this header does not pull in <librdkafka/rdkafka.h>.
typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_message_s rd_kafka_message_t;

namespace meridian::real {

struct KafkaLogOptions {
  std::string bootstrap_servers;  // "host:port,host:port"
  std::string client_id = "meridian";
  int linger_ms = 1;                    // producer batching delay (linger.ms)
  int message_timeout_ms = 10'000;      // an unacknowledged produce fails after this
  int fetch_wait_max_ms = 20;           // consumer latency when caught up (fetch.wait.max.ms)
  int metadata_retry_ms = 250;          // how often missing topics are looked up again
  int watermark_refresh_ms = 500;       // how often end_offset() values are refreshed
  int reconnect_backoff_max_ms = 1000;  // a restarted broker is found again within this
  size_t max_outstanding_produces = 100'000;
  // No producer: for reading another region's cluster (OriginRoutedLog). produce() then fails
  // with kUnsupported, reported like any failure (from a later poll, never synchronously).
  bool read_only = false;
  size_t max_records_per_poll = 2'000;
  // Extra librdkafka properties for every handle (applied last, so they override the above),
  // and for the producer or the consumer only.
  std::map<std::string, std::string> properties;
  std::map<std::string, std::string> producer_properties;
  std::map<std::string, std::string> consumer_properties;
};

// Counters for tests, metrics and benchmarks. Loop thread only.
struct KafkaLogStats {
  uint64_t produced = 0;            // produce() calls
  uint64_t produce_acked = 0;       // done(ok)
  uint64_t produce_failed = 0;      // done(error)
  uint64_t producer_recreated = 0;  // fatal producer errors survived
  uint64_t records_delivered = 0;
  uint64_t offset_gaps = 0;            // a record's offset was past the next expected one
  uint64_t stale_records_skipped = 0;  // offsets below the position (after a re-assignment)
};

// The record header that names the node incarnation that produced a record (env::Log::set_writer).
inline constexpr const char* kWriterHeader = "meridian-writer";

class KafkaLog final : public env::Log {
 public:
  // Creates the handles and registers the poller with `loop`. Fails (kInvalidArgument) when
  // librdkafka rejects a property. Does not wait for the cluster: an unreachable cluster shows
  // up as failing produces and silent subscriptions. REQUIRES: called on the loop thread
  // before the loop runs, or from a posted task, never from inside a poller's callback
  // (EventLoop::add_poller); `loop` outlives the log, and the log is destroyed on the loop
  // thread or while the loop does not run (pollers cannot be removed from an EventLoop: the
  // registered one becomes a no-op once the log is gone).
  static Result<std::unique_ptr<KafkaLog>> create(EventLoop& loop, KafkaLogOptions options);
  // Drops outstanding produces and subscriptions without calling their callbacks (callbacks of
  // a destroyed log never run), stops the background thread and closes the handles (may block
  // for a moment). REQUIRES: on the loop thread, or while the loop does not run.
  ~KafkaLog() override;
  KafkaLog(const KafkaLog&) = delete;
  KafkaLog& operator=(const KafkaLog&) = delete;

  void produce(const std::string& topic, uint32_t partition, std::string key, std::string value,
               ProduceDone done) override;
  // Carried as the record header kWriterHeader (8 bytes, little-endian) of every record produced
  // after the call; read back into LogRecord::writer (MirrorMaker 2 copies headers too).
  void set_writer(uint64_t writer) override;
  void subscribe(const std::string& topic, uint32_t partition, uint64_t from_offset,
                 RecordFn on_record) override;
  // `ready` runs (from a poll, never inside this call) once the consumer has fetched from the
  // partition: it delivered a record of it or reached its end (a partition-EOF event), so it has
  // the partition's leader and a fetch going. REQUIRES: subscribe() of topic/partition first.
  void when_reading(const std::string& topic, uint32_t partition,
                    std::function<void()> ready) override;
  uint64_t end_offset(const std::string& topic, uint32_t partition) const override;
  // The low watermark as read by load_end_offsets() or, like end_offset(), by the background
  // refresh; 0 until known.
  uint64_t start_offset(const std::string& topic, uint32_t partition) const override;

  // Blocking: asks the cluster now for the low and high watermarks of each of `partitions`, so
  // that start_offset() and end_offset() are exact at once instead of after the first background
  // refresh (a restarting node reads where its own log ends before it issues sequence numbers
  // again). Errors: kNotFound if a topic or partition does not exist, kUnavailable if the cluster
  // does not answer within `timeout`. REQUIRES: loop thread; blocks it for up to `timeout`, so call
  // it at start-up, not while serving.
  Status load_end_offsets(const std::vector<std::pair<std::string, uint32_t>>& partitions,
                          std::chrono::milliseconds timeout);

  // Blocking: fetches the producer's metadata of `topics`, so that the first produce to each
  // is sent at once. Without it librdkafka learns a topic's partitions only at its next topic
  // scan (once a second), and a node's first heartbeat and first write to each collection after
  // a start would wait up to a second. Errors: kNotFound for a topic that does not exist,
  // kUnavailable if the cluster does not answer within `timeout` (nothing is lost either way:
  // produces then wait for the scan as before). A producer started
  // afresh after a failure (see "No gaps") learns its topics at the scan again. REQUIRES: loop
  // thread, at start-up (blocks it for up to `timeout`).
  Status prepare_produce(const std::vector<std::string>& topics, std::chrono::milliseconds timeout);

  const KafkaLogStats& stats() const { return stats_; }
  size_t outstanding_produces() const { return outstanding_.size(); }
  // Subscriptions whose topic/partition has not been found yet.
  size_t pending_subscriptions() const;

 private:
  using PartitionKey = std::pair<std::string, uint32_t>;
  struct Outstanding {
    ProduceDone done;
    uint64_t generation = 0;  // which producer handle carries it
    env::TimeNs deadline = 0;
  };
  struct Completion {
    uint64_t id = 0;
    Status status;
    uint64_t offset = 0;
  };
  void fail_now(uint64_t id, const PartitionKey& key, std::string why);
  struct Subscription {
    RecordFn on_record;
    uint64_t position = 0;  // next offset to deliver
    bool assigned = false;  // part of the consumer's assignment
    bool reading = false;   // a record or partition EOF has arrived (when_reading)
    std::vector<std::function<void()>> on_reading;  // when_reading callbacks until then
  };
  // State shared with the background thread; guarded by mu_.
  struct Shared {
    std::set<PartitionKey> wanted;   // subscriptions not assigned yet
    std::set<PartitionKey> found;    // of those, found in metadata (the loop assigns them)
    std::set<PartitionKey> watched;  // partitions whose watermark end_offset() reports
    std::map<PartitionKey, uint64_t> high_watermark;
    std::map<PartitionKey, uint64_t> low_watermark;  // start_offset()
    std::vector<rd_kafka_t*> to_destroy;             // retired producers, destroyed off the loop
    bool kick = false;                               // new subscriptions: look them up now
    bool stop = false;
  };

  KafkaLog(EventLoop& loop, KafkaLogOptions options);
  Status init();
  Result<rd_kafka_t*> new_handle(bool consumer, bool producer_settings) const;

  void poll();  // the loop's poller
  // Whether poll() has anything to do now (delivery reports, writes in flight, fetched records);
  // the loop skips taking the engine lock otherwise. Loop thread.
  bool poll_ready() const;
  void poll_producer();
  void poll_consumer();
  void assign_found();
  void deliver(rd_kafka_message_t* message);
  Subscription* subscription_of(const rd_kafka_message_t* message);  // nullptr: not subscribed
  void mark_reading(Subscription& sub);
  void recreate_producer(const std::string& why);
  void background_main();  // the metadata thread's body
  // Background thread: fetches the consumer handle's metadata of topics in `found` not primed
  // before, so that their partitions are fetched at once when assigned.
  void prime_consumer(const std::set<PartitionKey>& found);

  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);

  EventLoop& loop_;
  const KafkaLogOptions options_;
  rd_kafka_t* producer_ = nullptr;
  rd_kafka_t* consumer_ = nullptr;
  rd_kafka_t* metadata_ = nullptr;  // destroyed by the background thread as it exits
  uint64_t producer_generation_ = 1;
  std::string delivery_error_;  // the first delivery error seen by the last rd_kafka_poll
  // Partitions blocked by an immediate failure, until the failure of that id is reported.
  std::map<PartitionKey, uint64_t> blocked_;
  uint64_t next_produce_id_ = 1;
  std::map<uint64_t, Outstanding> outstanding_;
  std::vector<Completion> completions_;  // delivery reports waiting to be handed out
  std::map<PartitionKey, Subscription> subscriptions_;
  // The subscription of the last delivered record (records come in runs per partition).
  const void* cached_topic_ = nullptr;  // librdkafka's topic handle of that record
  uint32_t cached_partition_ = 0;
  Subscription* cached_subscription_ = nullptr;
  std::vector<std::function<void()>> reading_ready_;  // when_reading callbacks due to run
  env::LogRecord scratch_;                            // reused for every delivered record
  uint64_t writer_ = 0;                               // set_writer; 0: no header
  std::string writer_header_;                         // writer_, little-endian
  KafkaLogStats stats_;
  // The poller holds this; it turns false when the log is destroyed.
  std::shared_ptr<std::atomic<bool>> alive_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  mutable Shared shared_;
  std::atomic<bool> found_pending_{false};  // shared_.found is not empty
  std::thread background_;
  std::set<std::string> primed_topics_;  // background thread only (prime_consumer)
};

}  // namespace meridian::real
