#include "engine/real/kafka/kafka_admin.h"

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <thread>

#include "engine/node/region_node.h"

namespace meridian::real {

namespace {

using Clock = std::chrono::steady_clock;

struct HandleDeleter {
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

Result<Handle> admin_handle(const KafkaLogOptions& options) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> props = {
      {"bootstrap.servers", options.bootstrap_servers},
      {"client.id", options.client_id + ".admin"},
      {"allow.auto.create.topics", "false"},
      {"log.connection.close", "false"},
  };
  for (const auto& [name, value] : options.properties) props[name] = value;
  char error[512];
  for (const auto& [name, value] : props) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::invalid_argument("librdkafka property " + name + ": " + error);
    }
  }
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (handle == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::invalid_argument(std::string("rd_kafka_new: ") + error);
  }
  return Handle(handle);
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return int(std::max<int64_t>(1, left.count()));
}

// Topic name → partition count (-1 while some partition has no leader), for existing topics.
Result<std::map<std::string, int>> list_topics(rd_kafka_t* handle, int timeout_ms) {
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(handle, 1, nullptr, &metadata, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::unavailable(std::string("kafka metadata: ") + rd_kafka_err2str(err));
  }
  std::map<std::string, int> topics;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& topic = metadata->topics[i];
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    int count = topic.partition_cnt;
    for (int p = 0; p < topic.partition_cnt; ++p) {
      if (topic.partitions[p].leader < 0 || topic.partitions[p].err) count = -1;
    }
    topics[topic.topic] = count;
  }
  rd_kafka_metadata_destroy(metadata);
  return topics;
}

Status create_missing(rd_kafka_t* handle, const std::vector<TopicSpec>& topics,
                      Clock::time_point deadline) {
  std::vector<rd_kafka_NewTopic_t*> requests;
  char error[512];
  for (const TopicSpec& spec : topics) {
    rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(
        spec.name.c_str(), spec.partitions, spec.replication_factor, error, sizeof error);
    if (topic == nullptr) {
      rd_kafka_NewTopic_destroy_array(requests.data(), requests.size());
      return Status::invalid_argument("topic " + spec.name + ": " + error);
    }
    requests.push_back(topic);
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(handle);
  rd_kafka_AdminOptions_t* admin =
      rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(admin, remaining_ms(deadline), error, sizeof error);
  rd_kafka_AdminOptions_set_operation_timeout(admin, remaining_ms(deadline), error, sizeof error);
  rd_kafka_CreateTopics(handle, requests.data(), requests.size(), admin, queue);
  rd_kafka_NewTopic_destroy_array(requests.data(), requests.size());
  rd_kafka_AdminOptions_destroy(admin);

  Status status;
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, remaining_ms(deadline) + 1000);
  if (event == nullptr) {
    status = Status::unavailable("kafka CreateTopics: no answer in time");
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = Status::unavailable(std::string("kafka CreateTopics: ") +
                                 rd_kafka_event_error_string(event));
  } else {
    const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event);
    size_t count = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
    for (size_t i = 0; i < count && status.is_ok(); ++i) {
      const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        continue;
      }
      const char* why = rd_kafka_topic_result_error_string(results[i]);
      status = Status(err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT
                          ? StatusCode::kUnavailable
                          : StatusCode::kInvalidArgument,
                      std::string("kafka CreateTopics ") + rd_kafka_topic_result_name(results[i]) +
                          ": " + (why != nullptr ? why : rd_kafka_err2str(err)));
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  return status;
}

}  // namespace

std::vector<TopicSpec> region_topics(const std::vector<CollectionConfig>& collections,
                                     int replication_factor) {
  std::vector<TopicSpec> topics;
  for (const CollectionConfig& config : collections) {
    topics.push_back({node::wal_topic(config.name), int(config.num_shards), replication_factor});
  }
  topics.push_back({node::kHeartbeatTopic, 1, replication_factor});
  return topics;
}

Status create_topics(const KafkaLogOptions& options, const std::vector<TopicSpec>& topics,
                     std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  Result<Handle> handle = admin_handle(options);
  if (!handle.is_ok()) return handle.status();
  Result<std::map<std::string, int>> existing = list_topics(handle->get(), remaining_ms(deadline));
  if (!existing.is_ok()) return existing.status();
  std::vector<TopicSpec> missing;
  for (const TopicSpec& spec : topics) {
    if (existing->count(spec.name) == 0) missing.push_back(spec);
  }
  if (!missing.empty()) {
    Status status = create_missing(handle->get(), missing, deadline);
    if (!status.is_ok()) return status;
  }
  // Wait until every topic is visible with all its partitions led (a producer's first records
  // would otherwise wait for metadata), and check the partition counts.
  while (true) {
    existing = list_topics(handle->get(), remaining_ms(deadline));
    bool ready = existing.is_ok();
    for (const TopicSpec& spec : topics) {
      if (!ready) break;
      auto it = existing->find(spec.name);
      if (it == existing->end() || it->second < 0) {
        ready = false;
      } else if (it->second != spec.partitions) {
        return Status::invalid_argument("topic " + spec.name + " exists with " +
                                        std::to_string(it->second) + " partitions, not " +
                                        std::to_string(spec.partitions));
      }
    }
    if (ready) return Status::ok();
    if (Clock::now() >= deadline) {
      return Status::unavailable(
          "kafka: topics did not become available in time" +
          (existing.is_ok() ? std::string() : ": " + existing.status().message()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Result<std::vector<uint64_t>> delete_records(
    const KafkaLogOptions& options, const std::vector<std::pair<std::string, uint32_t>>& partitions,
    std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  Result<Handle> handle = admin_handle(options);
  if (!handle.is_ok()) return handle.status();
  // librdkafka reports an unknown partition only as "no leaders found": check first.
  Result<std::map<std::string, int>> existing = list_topics(handle->get(), remaining_ms(deadline));
  if (!existing.is_ok()) return existing.status();
  for (const auto& [topic, partition] : partitions) {
    auto it = existing->find(topic);
    if (it == existing->end() || (it->second >= 0 && int(partition) >= it->second)) {
      return Status::not_found("kafka DeleteRecords: no partition " + topic + "/" +
                               std::to_string(partition));
    }
  }
  rd_kafka_topic_partition_list_t* before =
      rd_kafka_topic_partition_list_new(int(partitions.size()));
  for (const auto& [topic, partition] : partitions) {
    // RD_KAFKA_OFFSET_END: up to the high watermark, whatever it is when the broker acts.
    rd_kafka_topic_partition_list_add(before, topic.c_str(), int32_t(partition))->offset =
        RD_KAFKA_OFFSET_END;
  }
  rd_kafka_DeleteRecords_t* request = rd_kafka_DeleteRecords_new(before);
  rd_kafka_topic_partition_list_destroy(before);
  char error[512];
  rd_kafka_queue_t* queue = rd_kafka_queue_new(handle->get());
  rd_kafka_AdminOptions_t* admin =
      rd_kafka_AdminOptions_new(handle->get(), RD_KAFKA_ADMIN_OP_DELETERECORDS);
  rd_kafka_AdminOptions_set_request_timeout(admin, remaining_ms(deadline), error, sizeof error);
  rd_kafka_AdminOptions_set_operation_timeout(admin, remaining_ms(deadline), error, sizeof error);
  rd_kafka_DeleteRecords(handle->get(), &request, 1, admin, queue);
  rd_kafka_DeleteRecords_destroy(request);
  rd_kafka_AdminOptions_destroy(admin);

  Result<std::vector<uint64_t>> out = std::vector<uint64_t>();
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, remaining_ms(deadline) + 1000);
  if (event == nullptr) {
    out = Status::unavailable("kafka DeleteRecords: no answer in time");
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const rd_kafka_resp_err_t err = rd_kafka_event_error(event);
    out = Status(err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT
                     ? StatusCode::kUnavailable
                     : StatusCode::kInvalidArgument,
                 std::string("kafka DeleteRecords: ") + rd_kafka_event_error_string(event));
  } else {
    const rd_kafka_topic_partition_list_t* results =
        rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(event));
    // The result lists the partitions, not necessarily in request order: look each one up.
    std::vector<uint64_t> starts;
    for (const auto& [topic, partition] : partitions) {
      const std::string name = topic + "/" + std::to_string(partition);
      const rd_kafka_topic_partition_t* r = rd_kafka_topic_partition_list_find(
          const_cast<rd_kafka_topic_partition_list_t*>(results), topic.c_str(), int32_t(partition));
      if (r == nullptr) {
        out = Status::unavailable("kafka DeleteRecords: no result for " + name);
        break;
      }
      if (r->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        const bool unknown = r->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                             r->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
                             r->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION;
        out = Status(unknown ? StatusCode::kNotFound : StatusCode::kInvalidArgument,
                     "kafka DeleteRecords " + name + ": " + rd_kafka_err2str(r->err));
        break;
      }
      starts.push_back(uint64_t(std::max<int64_t>(0, r->offset)));
    }
    if (out.is_ok()) out = std::move(starts);
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  return out;
}

}  // namespace meridian::real
