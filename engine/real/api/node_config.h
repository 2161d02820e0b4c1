// meridian-node's configuration file (YAML; every field is documented in docs/api.md).
//
//   region: {name: us-east, id: 1}
//   regions:                           # every region of the deployment, this one included
//     - {name: us-east, id: 1, grpc: 127.0.0.1:7001}
//     - {name: eu-west, id: 2, grpc: 127.0.0.1:7002}
//                                      # optional: kafka: <its bootstrap servers> to read that
//                                      # region's log from its cluster, not MirrorMaker 2's copy;
//                                      # or kafka: {bootstrap_servers: ..., properties: {...}}
//                                      # with librdkafka properties for that cluster only
//   log: {kind: kafka, bootstrap_servers: 127.0.0.1:9092}   # or {kind: memory}
//                                      # optional: properties, producer, consumer (librdkafka)
//   tls: {ca: ca.pem, cert: node.pem, key: node.key}
//   listen: {grpc: 127.0.0.1:7001, http: 127.0.0.1:8001}   # optional: metrics: <host:port>,
//                                      # metrics_tls (HTTPS + client certificates)
//   collections:
//     - {name: docs, dimension: 64, metric: cosine, index: hnsw, shards: 16}
//   data_dir: /var/lib/meridian/us-east   # optional: checkpoints (segments + manifest)
//
// Parsing is strict: unknown keys, missing required keys, wrong types and out-of-range values
// are rejected with "<file>:<line>: <field path>: <reason>", e.g.
// "node.yaml:12: collections[0].dimension: must be in 1..4096". Cross-field rules: region ids
// and names unique, this region listed in `regions` with the same id, a gRPC address for every
// other region, `log.kind: memory` only with a single region (its log is not shared), the
// collections valid as engine/core/collection.h defines and uniquely named.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "engine/core/status.h"
#include "engine/node/region_node.h"
#include "engine/real/api/tls.h"
#include "engine/real/worker_pool.h"

namespace meridian::real::api {

enum class LogKind { kMemory, kKafka };

// Another region's Kafka cluster, read directly. Its consumer gets log.properties, then
// log.consumer, then `properties` (so a remote cluster's security settings or credentials
// replace the local cluster's; the reserved properties stay reserved).
struct DirectKafka {
  std::string bootstrap_servers;
  std::map<std::string, std::string> properties;
  bool operator==(const DirectKafka&) const = default;
};

struct NodeConfig {
  node::NodeOptions node;  // self, regions, collections and the engine's timing knobs
  std::map<std::string, std::string> peer_grpc;  // region name -> gRPC address (other regions)
  // Other regions whose records are read straight from their own Kafka cluster (YAML
  // regions[i].kafka) instead of MirrorMaker 2's copy in this region's cluster
  // (OriginRoutedLog). Region name -> how to reach its cluster.
  std::map<std::string, DirectKafka> direct_kafka;
  LogKind log_kind = LogKind::kKafka;
  std::string kafka_bootstrap_servers;
  // Checkpoint directory (segment files and manifests); empty = no checkpoints, a restart
  // replays every log from offset 0.
  std::string data_dir;
  bool kafka_create_topics = true;  // create this region's topics at start (idempotent)
  // Extra librdkafka properties (YAML log.properties, log.producer, log.consumer): for every
  // handle, the producer only, the consumers only. Properties the log's guarantees rest on
  // (acks, idempotence, offsets, group) are rejected by the parser (kKafkaReservedProperties);
  // librdkafka itself rejects unknown names and bad values when the node starts (exit 1).
  std::map<std::string, std::string> kafka_properties;
  std::map<std::string, std::string> kafka_producer_properties;
  std::map<std::string, std::string> kafka_consumer_properties;
  size_t memory_log_max_bytes = size_t(1) << 30;
  TlsFiles tls;
  std::string tls_server_name;  // optional: name checked in peers' certificates
  std::string grpc_listen;      // host:port
  std::string http_listen;      // host:port; empty = no HTTP gateway
  // host:port; empty = none. A listener with GET /metrics and /healthz only, for a Prometheus
  // scraper where the gateway is off or requires client certificates.
  std::string metrics_listen;
  bool http_tls = false;
  // The metrics listener over HTTPS with mutual TLS (the same tls files and cluster CA as the
  // data plane): for scrapes that cross hosts. Default plain HTTP, which needs no certificates.
  bool metrics_tls = false;
  size_t http_threads = 8;
  // Workers that run searches off the event loop (NodeServiceOptions::search_threads); 0 = on
  // the loop. YAML engine.search_threads; default: the number of cores.
  size_t search_threads = hardware_threads();
  // NodeServiceOptions::read_on_caller. YAML engine.read_on_caller; default true.
  bool read_on_caller = true;
  std::chrono::milliseconds peer_timeout{2000};
  std::chrono::milliseconds shutdown_grace{5000};
};

// Parses `text`; `source` names it in messages (usually the file path).
Result<NodeConfig> parse_node_config(const std::string& text, const std::string& source);
// Reads and parses the file at `path`.
Result<NodeConfig> load_node_config(const std::string& path);

// "127.0.0.1:7001" -> ("127.0.0.1", 7001); invalid_argument if not host:port with port 0..65535.
Status split_host_port(const std::string& address, std::string* host, int* port);

}  // namespace meridian::real::api
