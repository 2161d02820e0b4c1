// What kafka_log.cc and kafka_log_watermarks.cc share. Internal to engine/real/kafka.
#pragma once

#include <cstdint>
#include <string>

namespace meridian::real::kafka_internal {

// Timeout of the background thread's blocking metadata and watermark requests.
inline constexpr int kBlockingRequestTimeoutMs = 2'000;

// "topic/partition", as error messages name a partition.
inline std::string partition_name(const std::string& topic, uint32_t partition) {
  return topic + "/" + std::to_string(partition);
}

}  // namespace meridian::real::kafka_internal
