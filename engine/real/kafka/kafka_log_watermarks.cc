// KafkaLog's watermarks (end and start offsets) and its background thread, which finds topics
// that appear later and refreshes watermarks without blocking the event loop.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>

#include "engine/real/kafka/kafka_log.h"
#include "engine/real/kafka/kafka_log_internal.h"

namespace meridian::real {

using kafka_internal::kBlockingRequestTimeoutMs;
using kafka_internal::partition_name;

uint64_t KafkaLog::end_offset(const std::string& topic, uint32_t partition) const {
  PartitionKey key{topic, partition};
  uint64_t high = 0;
  {
    std::lock_guard lock(mu_);
    shared_.watched.insert(key);
    auto it = shared_.high_watermark.find(key);
    if (it != shared_.high_watermark.end()) high = it->second;
  }
  auto sub = subscriptions_.find(key);
  if (sub != subscriptions_.end() && sub->second.assigned) {
    int64_t low = -1, fetched_high = -1;  // from the last fetch response; no request
    if (rd_kafka_get_watermark_offsets(consumer_, topic.c_str(), int32_t(partition), &low,
                                       &fetched_high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        fetched_high > int64_t(high)) {
      high = uint64_t(fetched_high);
    }
  }
  return high;
}

Status KafkaLog::load_end_offsets(const std::vector<std::pair<std::string, uint32_t>>& partitions,
                                  std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const auto& [topic, partition] : partitions) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    int64_t low = -1, high = -1;
    const rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(metadata_, topic.c_str(), int32_t(partition), &low, &high,
                                         int(std::max<int64_t>(1, left.count())));
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
        err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
      return Status::not_found("kafka: " + partition_name(topic, partition) + ": " +
                               rd_kafka_err2str(err));
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::unavailable("kafka: watermark of " + partition_name(topic, partition) + ": " +
                                 rd_kafka_err2str(err));
    }
    std::lock_guard lock(mu_);
    shared_.watched.emplace(topic, partition);
    uint64_t& known = shared_.high_watermark[{topic, partition}];
    known = std::max(known, uint64_t(high));
    uint64_t& start = shared_.low_watermark[{topic, partition}];
    start = std::max(start, uint64_t(std::max<int64_t>(0, low)));
  }
  return Status::ok();
}

uint64_t KafkaLog::start_offset(const std::string& topic, uint32_t partition) const {
  std::lock_guard lock(mu_);
  shared_.watched.emplace(topic, partition);
  auto it = shared_.low_watermark.find({topic, partition});
  return it == shared_.low_watermark.end() ? 0 : it->second;
}

void KafkaLog::prime_consumer(const std::set<PartitionKey>& found) {
  // The consumer learns the leaders of a topic it has not seen only at librdkafka's next topic
  // scan (once a second), so a partition assigned now would start fetching up to a second
  // later: a restarting node would read its own log that much later. Asking the consumer
  // handle for the topic's metadata first fills its cache. Once per topic; a failure only
  // costs that second.
  std::set<std::string> topics;
  for (const PartitionKey& key : found) {
    if (primed_topics_.count(key.first) == 0) topics.insert(key.first);
  }
  for (const std::string& topic : topics) {
    if (kafka_internal::fetch_topic_metadata(consumer_, topic, kBlockingRequestTimeoutMs) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      primed_topics_.insert(topic);
    }
  }
}

void KafkaLog::background_main() {
  rd_kafka_t* const handle = metadata_;
  using Clock = std::chrono::steady_clock;
  auto last_watermarks = Clock::now() - std::chrono::hours(1);
  std::unique_lock lock(mu_);
  while (!shared_.stop) {
    std::vector<rd_kafka_t*> retired;
    retired.swap(shared_.to_destroy);
    shared_.kick = false;
    const bool want_topics = !shared_.wanted.empty();
    const bool want_watermarks =
        !shared_.watched.empty() &&
        Clock::now() - last_watermarks >= std::chrono::milliseconds(options_.watermark_refresh_ms);
    const std::set<PartitionKey> wanted = shared_.wanted;
    const std::set<PartitionKey> watched =
        want_watermarks ? shared_.watched : std::set<PartitionKey>{};
    lock.unlock();

    for (rd_kafka_t* old : retired) rd_kafka_destroy(old);
    std::map<std::string, int> partitions;  // topic → partition count, from one metadata call
    bool reachable = false;
    if (want_topics || want_watermarks) {
      const rd_kafka_metadata_t* metadata = nullptr;
      if (rd_kafka_metadata(handle, /*all_topics=*/1, nullptr, &metadata,
                            kBlockingRequestTimeoutMs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        reachable = true;
        for (int i = 0; i < metadata->topic_cnt; ++i) {
          const rd_kafka_metadata_topic_t& topic = metadata->topics[i];
          if (topic.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            partitions[topic.topic] = topic.partition_cnt;
          }
        }
        rd_kafka_metadata_destroy(metadata);
      }
    }
    std::set<PartitionKey> found;
    for (const PartitionKey& key : wanted) {
      auto it = partitions.find(key.first);
      if (it != partitions.end() && int64_t(key.second) < it->second) found.insert(key);
    }
    prime_consumer(found);
    std::map<PartitionKey, std::pair<uint64_t, uint64_t>> marks;  // low, high
    if (want_watermarks && reachable) {
      last_watermarks = Clock::now();
      for (const PartitionKey& key : watched) {
        auto it = partitions.find(key.first);
        if (it == partitions.end() || int64_t(key.second) >= it->second) continue;
        int64_t low = -1, high = -1;
        const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
            handle, key.first.c_str(), int32_t(key.second), &low, &high, kBlockingRequestTimeoutMs);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          marks[key] = {uint64_t(std::max<int64_t>(0, low)), uint64_t(high)};
        } else if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
                   err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
          break;  // the cluster went away mid-refresh: try again next time
        }
      }
    }

    lock.lock();
    for (const auto& [key, mark] : marks) {
      uint64_t& known = shared_.high_watermark[key];
      if (mark.second > known) known = mark.second;
      uint64_t& start = shared_.low_watermark[key];
      if (mark.first > start) start = mark.first;
    }
    if (!found.empty()) {
      for (const PartitionKey& key : found) shared_.wanted.erase(key);
      shared_.found.insert(found.begin(), found.end());
      found_pending_.store(true, std::memory_order_release);
    }
    const auto tick = shared_.wanted.empty()
                          ? std::chrono::milliseconds(options_.watermark_refresh_ms)
                          : std::chrono::milliseconds(options_.metadata_retry_ms);
    wake_.wait_for(lock, tick,
                   [&] { return shared_.stop || shared_.kick || !shared_.to_destroy.empty(); });
  }
  std::vector<rd_kafka_t*> retired;
  retired.swap(shared_.to_destroy);
  lock.unlock();
  for (rd_kafka_t* old : retired) rd_kafka_destroy(old);
  rd_kafka_destroy(handle);
}

}  // namespace meridian::real
