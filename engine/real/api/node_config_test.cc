#include "engine/real/api/node_config.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace meridian::real::api {
namespace {

const char* kGood = R"(region: {name: us-east, id: 1}
regions:
  - {name: us-east, id: 1, grpc: 127.0.0.1:7001}
  - {name: eu-west, id: 2, grpc: 127.0.0.1:7002}
log: {kind: kafka, bootstrap_servers: 127.0.0.1:9092}
tls: {ca: ca.pem, cert: node.pem, key: node.key}
listen: {grpc: 127.0.0.1:7001, http: 127.0.0.1:8001}
collections:
  - {name: docs, dimension: 8, metric: cosine, index: hnsw, shards: 4}
engine: {session_wait_ms: 200}
)";

std::string error_of(const std::string& text) {
  Result<NodeConfig> c = parse_node_config(text, "node.yaml");
  return c.is_ok() ? "ok" : c.status().message();
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(NodeConfig, ParsesEveryField) {
  Result<NodeConfig> c = parse_node_config(kGood, "node.yaml");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->node.self.name, "us-east");
  EXPECT_EQ(c->node.self.id, 1);
  ASSERT_EQ(c->node.regions.size(), 2u);
  EXPECT_EQ(c->peer_grpc.at("eu-west"), "127.0.0.1:7002");
  EXPECT_EQ(c->peer_grpc.count("us-east"), 0u);
  EXPECT_EQ(c->log_kind, LogKind::kKafka);
  EXPECT_EQ(c->kafka_bootstrap_servers, "127.0.0.1:9092");
  EXPECT_EQ(c->tls.key, "node.key");
  EXPECT_EQ(c->grpc_listen, "127.0.0.1:7001");
  EXPECT_EQ(c->http_listen, "127.0.0.1:8001");
  EXPECT_EQ(c->metrics_listen, "");  // off unless configured
  ASSERT_EQ(c->node.collections.size(), 1u);
  EXPECT_EQ(c->node.collections[0].index.dimension, 8u);
  EXPECT_EQ(c->node.collections[0].num_shards, 4u);
  EXPECT_EQ(c->node.session_wait, 200 * env::kMillisecond);
  EXPECT_EQ(c->search_threads, hardware_threads());  // the default: one per core
}

TEST(NodeConfig, KafkaPropertiesPassThroughAndGuaranteesAreNotConfigurable) {
  const std::string with_props =
      replaced(kGood, "log: {kind: kafka, bootstrap_servers: 127.0.0.1:9092}",
               R"(log:
  kind: kafka
  bootstrap_servers: 127.0.0.1:9092
  properties: {socket.keepalive.enable: true}
  producer: {linger.ms: 5, compression.type: lz4}
  consumer: {fetch.wait.max.ms: 2})");
  Result<NodeConfig> c = parse_node_config(with_props, "node.yaml");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->kafka_properties,
            (std::map<std::string, std::string>{{"socket.keepalive.enable", "true"}}));
  EXPECT_EQ(c->kafka_producer_properties,
            (std::map<std::string, std::string>{{"linger.ms", "5"}, {"compression.type", "lz4"}}));
  EXPECT_EQ(c->kafka_consumer_properties,
            (std::map<std::string, std::string>{{"fetch.wait.max.ms", "2"}}));
  EXPECT_EQ(error_of(replaced(with_props, "linger.ms: 5", "acks: 1")),
            "node.yaml:9: log.producer.acks: set by meridian-node (the log's durability and "
            "ordering depend on it); not configurable");
  EXPECT_EQ(error_of(replaced(with_props, "fetch.wait.max.ms: 2", "enable.auto.commit: true")),
            "node.yaml:10: log.consumer.enable.auto.commit: set by meridian-node (the log's "
            "durability and ordering depend on it); not configurable");
  EXPECT_EQ(error_of(replaced(with_props, "fetch.wait.max.ms: 2", "fetch.wait.max.ms: [2]")),
            "node.yaml:10: log.consumer.fetch.wait.max.ms: must be a non-empty scalar (librdkafka "
            "takes every value as text)");
  EXPECT_EQ(error_of(replaced(with_props, "consumer: {fetch.wait.max.ms: 2}", "consumer: 2")),
            "node.yaml:10: log.consumer: must be a map of librdkafka property names to values");
}

TEST(NodeConfig, KafkaPropertiesNeedTheKafkaLog) {
  const std::string memory =
      replaced(replaced(kGood, "log: {kind: kafka, bootstrap_servers: 127.0.0.1:9092}",
                        "log: {kind: memory, producer: {linger.ms: 5}}"),
               "  - {name: eu-west, id: 2, grpc: 127.0.0.1:7002}\n", "");
  EXPECT_EQ(error_of(memory),
            "node.yaml:4: log.producer: librdkafka properties need log.kind: kafka");
}

TEST(NodeConfig, SearchThreads) {
  Result<NodeConfig> c = parse_node_config(
      replaced(kGood, "{session_wait_ms: 200}", "{search_threads: 0}"), "node.yaml");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->search_threads, 0u);  // searches on the event loop
  EXPECT_TRUE(c->read_on_caller);    // the default
  EXPECT_EQ(error_of(replaced(kGood, "{session_wait_ms: 200}", "{search_threads: 1000}")),
            "node.yaml:10: engine.search_threads: must be an integer in 0..256");
  c = parse_node_config(replaced(kGood, "{session_wait_ms: 200}", "{read_on_caller: false}"),
                        "node.yaml");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_FALSE(c->read_on_caller);
  EXPECT_EQ(error_of(replaced(kGood, "{session_wait_ms: 200}", "{read_on_caller: 1}")),
            "node.yaml:10: engine.read_on_caller: must be true or false");
}

TEST(NodeConfig, CheckpointBudget) {
  Result<NodeConfig> c = parse_node_config(kGood, "node.yaml");
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->node.checkpoint_bytes_per_s, 64.0 * 1024 * 1024);  // the default
  c = parse_node_config(replaced(kGood, "{session_wait_ms: 200}", "{checkpoint_mib_per_s: 16}"),
                        "node.yaml");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->node.checkpoint_bytes_per_s, 16.0 * 1024 * 1024);
  EXPECT_EQ(error_of(replaced(kGood, "{session_wait_ms: 200}", "{checkpoint_mib_per_s: 0}")),
            "node.yaml:10: engine.checkpoint_mib_per_s: must be an integer in 1..100000");
}

TEST(NodeConfig, OtherRegionsCanBeReadFromTheirOwnCluster) {
  Result<NodeConfig> c = parse_node_config(
      replaced(kGood, "{name: eu-west, id: 2, grpc: 127.0.0.1:7002}",
               "{name: eu-west, id: 2, grpc: 127.0.0.1:7002, kafka: '127.0.0.1:9093,h:9094'}"),
      "node.yaml");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->direct_kafka,
            (std::map<std::string, DirectKafka>{{"eu-west", {"127.0.0.1:9093,h:9094", {}}}}));
  EXPECT_TRUE(parse_node_config(kGood, "node.yaml")->direct_kafka.empty());  // the mirror: default
  EXPECT_EQ(error_of(replaced(kGood, "{name: us-east, id: 1, grpc: 127.0.0.1:7001}",
                              "{name: us-east, id: 1, grpc: 127.0.0.1:7001, kafka: h:1}")),
            "node.yaml:3: regions[0].kafka: is for other regions (read directly from their "
            "cluster); this region's own cluster is log.bootstrap_servers");
  EXPECT_EQ(error_of(replaced(kGood, "grpc: 127.0.0.1:7002}", "grpc: 127.0.0.1:7002, kafka: ''}")),
            "node.yaml:4: regions[1].kafka: must be a non-empty string");
}

TEST(NodeConfig, ADirectlyReadClusterHasItsOwnLibrdkafkaProperties) {
  const std::string direct =
      replaced(kGood, "grpc: 127.0.0.1:7002}",
               "grpc: 127.0.0.1:7002,\n"
               "     kafka: {bootstrap_servers: 'eu:9093', properties: {security.protocol: ssl}}}");
  Result<NodeConfig> c = parse_node_config(direct, "node.yaml");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->direct_kafka, (std::map<std::string, DirectKafka>{
                                 {"eu-west", {"eu:9093", {{"security.protocol", "ssl"}}}}}));
  EXPECT_EQ(error_of(replaced(direct, "bootstrap_servers: 'eu:9093', ", "")),
            "node.yaml:5: regions[1].kafka.bootstrap_servers: missing");
  EXPECT_EQ(error_of(replaced(direct, "properties:", "producer:")),
            "node.yaml:5: regions[1].kafka.producer: unknown key (allowed: bootstrap_servers, "
            "properties)");
  // The node's guarantees depend on these, for every cluster it reads.
  EXPECT_EQ(error_of(replaced(direct, "security.protocol: ssl", "enable.auto.commit: 'true'")),
            "node.yaml:5: regions[1].kafka.properties.enable.auto.commit: set by meridian-node "
            "(the log's durability and ordering depend on it); not configurable");
}

TEST(NodeConfig, ErrorsNameTheLineAndTheField) {
  EXPECT_EQ(error_of(replaced(kGood, "dimension: 8", "dimension: 0")),
            "node.yaml:9: collections[0].dimension: must be an integer in 1..4096");
  EXPECT_EQ(error_of(replaced(kGood, "metric: cosine", "metric: manhattan")),
            "node.yaml:9: collections[0].metric: must be one of l2, ip, cosine");
  EXPECT_EQ(error_of(replaced(kGood, "{name: eu-west, id: 2, grpc: 127.0.0.1:7002}",
                              "{name: eu-west, id: 2}")),
            "node.yaml:4: regions[1].grpc: missing (the gRPC address of that region's node)");
  EXPECT_EQ(error_of(replaced(kGood, "tls: {ca: ca.pem, ", "tls: {")),
            "node.yaml:6: tls.ca: missing");
  EXPECT_EQ(error_of(replaced(kGood, "listen: {grpc", "listen: {grcp")),
            "node.yaml:7: listen.grcp: unknown key (allowed: grpc, http, http_tls, "
            "http_threads, metrics, metrics_tls)");
  EXPECT_EQ(error_of(replaced(kGood, "grpc: 127.0.0.1:7001, http", "grpc: nowhere, http")),
            "node.yaml:7: listen.grpc: 'nowhere' is not host:port");
  EXPECT_EQ(error_of(replaced(kGood, "{name: us-east, id: 1, grpc", "{name: us-east, id: 3, grpc")),
            "node.yaml:3: regions[0].id: this region is listed with id 3 but region.id is 1");
  EXPECT_EQ(
      error_of(replaced(kGood, "kind: kafka, bootstrap_servers: 127.0.0.1:9092", "kind: memory")),
      "node.yaml:5: log.kind: memory (the single-process mode) serves exactly one region; "
      "`regions` lists 2");
  EXPECT_EQ(error_of("region: [1, 2"),
            "node.yaml:1: malformed YAML: end of sequence flow not found");
  EXPECT_EQ(error_of(""), "node.yaml: the file is empty");
}

TEST(NodeConfig, AMetricsListenerIsOptional) {
  Result<NodeConfig> c = parse_node_config(
      replaced(kGood, "http: 127.0.0.1:8001}", "http: 127.0.0.1:8001, metrics: 127.0.0.1:9101}"),
      "node.yaml");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->metrics_listen, "127.0.0.1:9101");
  EXPECT_EQ(
      error_of(replaced(kGood, "http: 127.0.0.1:8001}", "http: 127.0.0.1:8001, metrics: 9101}")),
      "node.yaml:7: listen.metrics: '9101' is not host:port");
}

TEST(NodeConfig, TheMetricsListenerCanRequireClientCertificates) {
  EXPECT_FALSE(parse_node_config(kGood, "node.yaml")->metrics_tls);  // plain HTTP by default
  Result<NodeConfig> c = parse_node_config(
      replaced(kGood, "http: 127.0.0.1:8001}",
               "http: 127.0.0.1:8001, metrics: 127.0.0.1:9101, metrics_tls: true}"),
      "node.yaml");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_TRUE(c->metrics_tls);
  // TLS for a listener that is not there is a mistake to point out, not to ignore.
  EXPECT_EQ(error_of(replaced(kGood, "http: 127.0.0.1:8001}",
                              "http: 127.0.0.1:8001, metrics_tls: true}")),
            "node.yaml:7: listen.metrics_tls: needs listen.metrics (an address)");
  EXPECT_EQ(error_of(replaced(kGood, "http: 127.0.0.1:8001}",
                              "http: 127.0.0.1:8001, metrics: 127.0.0.1:9101, metrics_tls: 2}")),
            "node.yaml:7: listen.metrics_tls: must be true or false");
}

TEST(NodeConfig, MemoryModeWithOneRegion) {
  std::string text = replaced(kGood, "  - {name: eu-west, id: 2, grpc: 127.0.0.1:7002}\n", "");
  text = replaced(text, "kind: kafka, bootstrap_servers: 127.0.0.1:9092", "kind: memory");
  Result<NodeConfig> c = parse_node_config(text, "node.yaml");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->log_kind, LogKind::kMemory);
  EXPECT_TRUE(c->peer_grpc.empty());
}

}  // namespace
}  // namespace meridian::real::api
