// Creating Meridian's topics on a Kafka cluster (docs/kafka.md).
//
// Each region's cluster holds "wal.<collection>" with one partition per shard and "heartbeat"
// with one partition (engine/node/region_node.h); MirrorMaker 2 creates the mirrored copies
// ("<origin>.wal.<collection>", "<origin>.heartbeat") itself, with the same partition counts.
// Brokers run with auto.create.topics.enable=false, so these must exist before the node writes.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/collection.h"
#include "engine/core/status.h"
#include "engine/real/kafka/kafka_log.h"

namespace meridian::real {

struct TopicSpec {
  std::string name;
  int partitions = 1;
  int replication_factor = -1;  // -1: the brokers' default.replication.factor
};

// The topics a region's own cluster needs for `collections`: wal.<name> (num_shards partitions)
// per collection, then heartbeat (1 partition).
std::vector<TopicSpec> region_topics(const std::vector<CollectionConfig>& collections,
                                     int replication_factor = -1);

// Creates every topic of `topics` that does not exist yet (an existing one is fine, so this is
// idempotent), then waits until the cluster's metadata shows each with all its partitions led.
// Uses `options.bootstrap_servers`, `client_id` and `properties`. Blocking: call it before the
// event loop runs or from another thread. Errors:
//   kUnavailable      the cluster did not answer or the topics did not appear within `timeout`
//   kInvalidArgument  the cluster refused a topic (bad name, replication factor too high, ...),
//                     or an existing topic has a different number of partitions
Status create_topics(const KafkaLogOptions& options, const std::vector<TopicSpec>& topics,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Deletes every record of each of `partitions` (topic, partition) up to its high watermark:
// Kafka's DeleteRecords, what retention does to a partition's oldest segments, at once. Offsets
// are not reused: afterwards the partition's start offset equals its end offset, and a consumer
// asking for an earlier offset resumes at the end. Returns the new start offset of each
// partition, in the order given. Blocking, like create_topics. For tests and operators (the
// node never deletes records). Errors:
//   kUnavailable      the cluster did not answer within `timeout`
//   kNotFound         a topic or partition does not exist
//   kInvalidArgument  the cluster refused the deletion for another reason (the message says)
Result<std::vector<uint64_t>> delete_records(
    const KafkaLogOptions& options, const std::vector<std::pair<std::string, uint32_t>>& partitions,
    std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace meridian::real
