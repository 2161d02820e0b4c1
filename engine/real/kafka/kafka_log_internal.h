// What kafka_log.cc and kafka_log_watermarks.cc share. Internal to engine/real/kafka.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <string>

namespace meridian::real::kafka_internal {

// Timeout of the background thread's blocking metadata and watermark requests.
inline constexpr int kBlockingRequestTimeoutMs = 2'000;

// "topic/partition", as error messages name a partition.
inline std::string partition_name(const std::string& topic, uint32_t partition) {
  return topic + "/" + std::to_string(partition);
}

// Asks `handle` for `topic`'s metadata (partitions and leaders). The answer also fills the
// handle's own cache, so it produces to or fetches from the topic at once instead of at
// librdkafka's next topic scan (once a second). Returns the request's error, else the topic's
// (e.g. unknown topic). Blocking, for up to `timeout_ms`.
inline rd_kafka_resp_err_t fetch_topic_metadata(rd_kafka_t* handle, const std::string& topic,
                                                int timeout_ms) {
  rd_kafka_topic_t* topic_handle = rd_kafka_topic_new(handle, topic.c_str(), nullptr);
  if (topic_handle == nullptr) return rd_kafka_last_error();
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(handle, /*all_topics=*/0, topic_handle, &metadata, timeout_ms);
  if (metadata != nullptr) {
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && metadata->topic_cnt == 1)
      err = metadata->topics[0].err;
    rd_kafka_metadata_destroy(metadata);
  }
  // The topic object stays in the handle after ours goes.
  rd_kafka_topic_destroy(topic_handle);
  return err;
}

}  // namespace meridian::real::kafka_internal
