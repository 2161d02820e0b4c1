#include "engine/real/api/node_config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <filesystem>
#include <initializer_list>
#include <set>
#include <string_view>

#include "engine/core/mutation.h"
#include "engine/core/routing.h"
#include "engine/core/vector_index.h"

namespace meridian::real::api {

namespace {

// How the reader gives up: thrown inside this file only, caught by parse_node_config.
struct ConfigError {
  std::string message;
};

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const YAML::Node& at, const std::string& path,
                         const std::string& reason) const {
    const int line = at.IsDefined() ? at.Mark().line : -1;
    std::string where = source_ + (line >= 0 ? ":" + std::to_string(line + 1) : "") + ": ";
    throw ConfigError{where + (path.empty() ? "" : path + ": ") + reason};
  }

  // A map whose keys are all in `allowed`.
  void map(const YAML::Node& n, const std::string& path,
           std::initializer_list<std::string_view> allowed) const {
    if (!n.IsMap()) fail(n, path, "must be a map");
    for (const auto& kv : n) {
      const std::string key = kv.first.Scalar();
      bool ok = false;
      for (std::string_view a : allowed) ok |= key == a;
      if (!ok) {
        std::string list;
        for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        fail(kv.first, join(path, key), "unknown key (allowed: " + list + ")");
      }
    }
  }

  YAML::Node required(const YAML::Node& map, const std::string& path, const char* key) const {
    YAML::Node v = map[key];
    if (!v.IsDefined() || v.IsNull()) fail(map, join(path, key), "missing");
    return v;
  }

  std::string str(const YAML::Node& n, const std::string& path) const {
    if (!n.IsScalar() || n.Scalar().empty()) fail(n, path, "must be a non-empty string");
    return n.Scalar();
  }

  uint64_t uint(const YAML::Node& n, const std::string& path, uint64_t lo, uint64_t hi) const {
    uint64_t v = 0;
    const std::string& s = n.IsScalar() ? n.Scalar() : std::string();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) {
      fail(n, path, "must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    return v;
  }

  bool boolean(const YAML::Node& n, const std::string& path) const {
    if (n.IsScalar() && (n.Scalar() == "true" || n.Scalar() == "false")) {
      return n.Scalar() == "true";
    }
    fail(n, path, "must be true or false");
  }

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

 private:
  std::string source_;
};

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

void read_address(const Reader& r, const YAML::Node& n, const std::string& path, std::string* out) {
  *out = r.str(n, path);
  std::string host;
  int port = 0;
  if (Status s = split_host_port(*out, &host, &port); !s.is_ok()) r.fail(n, path, s.message());
}

std::string resolve(const std::string& path, const std::string& config_dir) {
  if (path.empty() || path[0] == '/' || config_dir.empty()) return path;
  return (std::filesystem::path(config_dir) / path).string();
}

CollectionConfig read_collection(const Reader& r, const YAML::Node& n, const std::string& path) {
  r.map(n, path,
        {"name", "dimension", "metric", "index", "shards", "index_partitions", "routing_seed",
         "hnsw_m", "hnsw_ef_construction", "hnsw_ef_search", "ivf_nlist", "ivf_nprobe",
         "ivf_train_size"});
  CollectionConfig c;
  c.name = r.str(r.required(n, path, "name"), path + ".name");
  c.index.dimension =
      uint32_t(r.uint(r.required(n, path, "dimension"), path + ".dimension", 1, kMaxDimension));
  const YAML::Node metric = r.required(n, path, "metric");
  Result<Metric> m = parse_metric(r.str(metric, path + ".metric"));
  if (!m.is_ok()) r.fail(metric, path + ".metric", "must be one of l2, ip, cosine");
  c.index.metric = *m;
  const YAML::Node index = r.required(n, path, "index");
  Result<IndexKind> k = parse_index_kind(r.str(index, path + ".index"));
  if (!k.is_ok()) r.fail(index, path + ".index", "must be one of flat, hnsw, ivf");
  c.index.kind = *k;
  c.num_shards = uint32_t(r.uint(r.required(n, path, "shards"), path + ".shards", 1, kMaxShards));
  auto opt = [&](const char* key, uint32_t* out, uint64_t lo, uint64_t hi) {
    if (n[key].IsDefined()) *out = uint32_t(r.uint(n[key], path + "." + key, lo, hi));
  };
  opt("index_partitions", &c.index_partitions, 1, c.num_shards);
  opt("routing_seed", &c.routing_seed, 0, UINT32_MAX);
  opt("hnsw_m", &c.index.hnsw_m, 1, UINT32_MAX);
  opt("hnsw_ef_construction", &c.index.hnsw_ef_construction, 1, UINT32_MAX);
  opt("hnsw_ef_search", &c.index.hnsw_ef_search, 1, UINT32_MAX);
  opt("ivf_nlist", &c.index.ivf_nlist, 1, UINT32_MAX);
  opt("ivf_nprobe", &c.index.ivf_nprobe, 1, UINT32_MAX);
  opt("ivf_train_size", &c.index.ivf_train_size, 0, UINT32_MAX);
  if (Status s = validate(c); !s.is_ok()) r.fail(n, path, s.message());
  return c;
}

void read_kafka_properties(const Reader& r, const YAML::Node& n, const std::string& path,
                           std::map<std::string, std::string>* out);

// regions[i].kafka: "<bootstrap servers>", or {bootstrap_servers: ..., properties: {...}}.
DirectKafka read_direct_kafka(const Reader& r, const YAML::Node& n, const std::string& path) {
  DirectKafka direct;
  if (!n.IsMap()) {
    direct.bootstrap_servers = r.str(n, path);
    return direct;
  }
  r.map(n, path, {"bootstrap_servers", "properties"});
  direct.bootstrap_servers =
      r.str(r.required(n, path, "bootstrap_servers"), path + ".bootstrap_servers");
  read_kafka_properties(r, n["properties"], path + ".properties", &direct.properties);
  return direct;
}

void read_regions(const Reader& r, const YAML::Node& root, NodeConfig* config) {
  const YAML::Node self = r.required(root, "", "region");
  r.map(self, "region", {"name", "id"});
  config->node.self.name = r.str(r.required(self, "region", "name"), "region.name");
  if (!valid_name(config->node.self.name)) {
    r.fail(self["name"], "region.name", "must be 1..64 characters of [A-Za-z0-9_-]");
  }
  config->node.self.id = RegionId(r.uint(r.required(self, "region", "id"), "region.id", 1, 65535));

  const YAML::Node regions = r.required(root, "", "regions");
  if (!regions.IsSequence() || regions.size() == 0) {
    r.fail(regions, "regions", "must be a non-empty list");
  }
  std::set<std::string> names;
  std::set<RegionId> ids;
  bool self_listed = false;
  for (size_t i = 0; i < regions.size(); ++i) {
    const std::string path = "regions[" + std::to_string(i) + "]";
    const YAML::Node n = regions[i];
    r.map(n, path, {"name", "id", "grpc", "kafka"});
    node::RegionInfo info;
    info.name = r.str(r.required(n, path, "name"), path + ".name");
    if (!valid_name(info.name)) {
      r.fail(n["name"], path + ".name", "must be 1..64 characters of [A-Za-z0-9_-]");
    }
    info.id = RegionId(r.uint(r.required(n, path, "id"), path + ".id", 1, 65535));
    if (!names.insert(info.name).second) r.fail(n, path + ".name", "duplicate region name");
    if (!ids.insert(info.id).second) r.fail(n, path + ".id", "duplicate region id");
    const bool is_self = info.name == config->node.self.name;
    if (is_self && info.id != config->node.self.id) {
      r.fail(n["id"], path + ".id",
             "this region is listed with id " + std::to_string(info.id) + " but region.id is " +
                 std::to_string(config->node.self.id));
    }
    if (!is_self && info.id == config->node.self.id) {
      r.fail(n["id"], path + ".id", "region.id belongs to another region's name");
    }
    self_listed |= is_self;
    if (n["grpc"].IsDefined()) {
      std::string address;
      read_address(r, n["grpc"], path + ".grpc", &address);
      if (!is_self) config->peer_grpc[info.name] = address;
    } else if (!is_self) {
      r.fail(n, path + ".grpc", "missing (the gRPC address of that region's node)");
    }
    if (n["kafka"].IsDefined()) {
      if (is_self) {
        r.fail(n["kafka"], path + ".kafka",
               "is for other regions (read directly from their cluster); this region's own "
               "cluster is log.bootstrap_servers");
      }
      config->direct_kafka[info.name] = read_direct_kafka(r, n["kafka"], path + ".kafka");
    }
    config->node.regions.push_back(info);
  }
  if (!self_listed) {
    r.fail(regions, "regions", "must include this node's region '" + config->node.self.name + "'");
  }
}

void read_engine(const Reader& r, const YAML::Node& root, NodeConfig* config) {
  const YAML::Node e = root["engine"];
  if (!e.IsDefined()) return;
  r.map(e, "engine",
        {"session_wait_ms", "heartbeat_interval_ms", "stale_after_ms", "staleness_margin_ms",
         "max_pending_writes", "write_timeout_ms", "peer_timeout_ms", "shutdown_grace_ms",
         "fresh_deployment", "checkpoint_interval_ms", "anti_entropy_interval_ms",
         "catch_up_after_ms", "lag_alert_after_ms", "digest_check_interval_ms", "search_threads",
         "read_on_caller", "checkpoint_mib_per_s"});
  auto ms = [&](const char* key, env::TimeNs* out, uint64_t lo, uint64_t hi) {
    if (e[key].IsDefined()) {
      *out = env::TimeNs(r.uint(e[key], std::string("engine.") + key, lo, hi)) * env::kMillisecond;
    }
  };
  node::NodeOptions& o = config->node;
  ms("session_wait_ms", &o.session_wait, 0, 60'000);
  ms("heartbeat_interval_ms", &o.heartbeat_interval, 1, 60'000);
  ms("stale_after_ms", &o.stale_after, 1, 86'400'000);
  ms("staleness_margin_ms", &o.staleness_margin, 0, 60'000);
  ms("write_timeout_ms", &o.producer.write_timeout, 1, 600'000);
  ms("checkpoint_interval_ms", &o.checkpoint_interval, 0, 86'400'000);
  ms("anti_entropy_interval_ms", &o.anti_entropy_interval, 1, 3'600'000);
  ms("catch_up_after_ms", &o.catch_up_after, 0, 86'400'000);
  ms("lag_alert_after_ms", &o.lag_alert_after, 1, 86'400'000);
  ms("digest_check_interval_ms", &o.digest_check_interval, 0, 86'400'000);
  if (e["fresh_deployment"].IsDefined()) {
    o.fresh_deployment = r.boolean(e["fresh_deployment"], "engine.fresh_deployment");
  }
  if (e["max_pending_writes"].IsDefined()) {
    o.max_pending_writes =
        r.uint(e["max_pending_writes"], "engine.max_pending_writes", 1, 10'000'000);
  }
  if (e["peer_timeout_ms"].IsDefined()) {
    config->peer_timeout = std::chrono::milliseconds(
        r.uint(e["peer_timeout_ms"], "engine.peer_timeout_ms", 1, 600'000));
  }
  if (e["shutdown_grace_ms"].IsDefined()) {
    config->shutdown_grace = std::chrono::milliseconds(
        r.uint(e["shutdown_grace_ms"], "engine.shutdown_grace_ms", 0, 600'000));
  }
  if (e["checkpoint_mib_per_s"].IsDefined()) {
    // Whole MiB/s: the budget's burst is one second of it, so below 1 MiB a large shard would
    // wait for minutes.
    o.checkpoint_bytes_per_s =
        double(r.uint(e["checkpoint_mib_per_s"], "engine.checkpoint_mib_per_s", 1, 100'000)) *
        1024 * 1024;
  }
  if (e["search_threads"].IsDefined()) {
    config->search_threads = r.uint(e["search_threads"], "engine.search_threads", 0, 256);
  }
  if (e["read_on_caller"].IsDefined()) {
    config->read_on_caller = r.boolean(e["read_on_caller"], "engine.read_on_caller");
  }
}

// librdkafka properties that KafkaLog sets because its guarantees depend on them (acknowledged
// means in the log quorum, no reordering or gaps, offsets owned by the node, not a group).
constexpr std::string_view kKafkaReservedProperties[] = {
    "bootstrap.servers",     "group.id",
    "enable.auto.commit",    "enable.auto.offset.store",
    "auto.offset.reset",     "enable.partition.eof",
    "enable.idempotence",    "acks",
    "request.required.acks", "enable.gapless.guarantee",
    "message.timeout.ms",    "allow.auto.create.topics",
    "transactional.id"};

void read_kafka_properties(const Reader& r, const YAML::Node& n, const std::string& path,
                           std::map<std::string, std::string>* out) {
  if (!n.IsDefined()) return;
  if (!n.IsMap()) r.fail(n, path, "must be a map of librdkafka property names to values");
  for (const auto& kv : n) {
    const std::string name = kv.first.Scalar();
    const std::string at = path + "." + name;
    for (std::string_view reserved : kKafkaReservedProperties) {
      if (name == reserved) {
        r.fail(kv.first, at,
               "set by meridian-node (the log's durability and ordering depend on it); not "
               "configurable");
      }
    }
    if (!kv.second.IsScalar() || kv.second.Scalar().empty()) {
      r.fail(kv.second, at, "must be a non-empty scalar (librdkafka takes every value as text)");
    }
    (*out)[name] = kv.second.Scalar();
  }
}

NodeConfig read_config(const Reader& r, const YAML::Node& root, const std::string& config_dir) {
  if (!root.IsDefined() || root.IsNull()) r.fail(root, "", "the file is empty");
  r.map(root, "",
        {"region", "regions", "log", "tls", "listen", "collections", "engine", "data_dir"});
  NodeConfig config;
  read_regions(r, root, &config);

  const YAML::Node log = r.required(root, "", "log");
  r.map(log, "log",
        {"kind", "bootstrap_servers", "create_topics", "max_bytes", "properties", "producer",
         "consumer"});
  const YAML::Node kind = r.required(log, "log", "kind");
  const std::string kind_name = r.str(kind, "log.kind");
  if (kind_name == "memory") {
    config.log_kind = LogKind::kMemory;
    config.node.fresh_deployment = true;  // the log starts empty with the process, every time
    if (config.node.regions.size() != 1) {
      r.fail(kind, "log.kind",
             "memory (the single-process mode) serves exactly one region; `regions` lists " +
                 std::to_string(config.node.regions.size()));
    }
    for (const char* key : {"properties", "producer", "consumer"}) {
      if (log[key].IsDefined()) {
        r.fail(log[key], std::string("log.") + key, "librdkafka properties need log.kind: kafka");
      }
    }
    if (log["max_bytes"].IsDefined()) {
      config.memory_log_max_bytes = r.uint(log["max_bytes"], "log.max_bytes", 1 << 20, 1ull << 40);
    }
  } else if (kind_name == "kafka") {
    config.log_kind = LogKind::kKafka;
    config.kafka_bootstrap_servers =
        r.str(r.required(log, "log", "bootstrap_servers"), "log.bootstrap_servers");
    if (log["create_topics"].IsDefined()) {
      config.kafka_create_topics = r.boolean(log["create_topics"], "log.create_topics");
    }
    read_kafka_properties(r, log["properties"], "log.properties", &config.kafka_properties);
    read_kafka_properties(r, log["producer"], "log.producer", &config.kafka_producer_properties);
    read_kafka_properties(r, log["consumer"], "log.consumer", &config.kafka_consumer_properties);
  } else {
    r.fail(kind, "log.kind", "must be kafka or memory");
  }

  if (root["data_dir"].IsDefined()) {
    if (config.log_kind == LogKind::kMemory) {
      // Checkpoints record log positions; the in-memory log starts empty with every process.
      r.fail(root["data_dir"], "data_dir", "needs log.kind: kafka (the memory log is not durable)");
    }
    config.data_dir = resolve(r.str(root["data_dir"], "data_dir"), config_dir);
  }

  const YAML::Node tls = r.required(root, "", "tls");
  r.map(tls, "tls", {"ca", "cert", "key", "server_name"});
  config.tls.ca = resolve(r.str(r.required(tls, "tls", "ca"), "tls.ca"), config_dir);
  config.tls.cert = resolve(r.str(r.required(tls, "tls", "cert"), "tls.cert"), config_dir);
  config.tls.key = resolve(r.str(r.required(tls, "tls", "key"), "tls.key"), config_dir);
  if (tls["server_name"].IsDefined()) {
    config.tls_server_name = r.str(tls["server_name"], "tls.server_name");
  }

  const YAML::Node listen = r.required(root, "", "listen");
  r.map(listen, "listen", {"grpc", "http", "http_tls", "http_threads", "metrics", "metrics_tls"});
  read_address(r, r.required(listen, "listen", "grpc"), "listen.grpc", &config.grpc_listen);
  if (listen["http"].IsDefined())
    read_address(r, listen["http"], "listen.http", &config.http_listen);
  if (listen["metrics"].IsDefined())
    read_address(r, listen["metrics"], "listen.metrics", &config.metrics_listen);
  if (listen["http_tls"].IsDefined()) {
    config.http_tls = r.boolean(listen["http_tls"], "listen.http_tls");
  }
  if (listen["metrics_tls"].IsDefined()) {
    config.metrics_tls = r.boolean(listen["metrics_tls"], "listen.metrics_tls");
    if (config.metrics_tls && config.metrics_listen.empty()) {
      r.fail(listen["metrics_tls"], "listen.metrics_tls", "needs listen.metrics (an address)");
    }
  }
  if (listen["http_threads"].IsDefined()) {
    config.http_threads = r.uint(listen["http_threads"], "listen.http_threads", 1, 1024);
  }

  const YAML::Node collections = r.required(root, "", "collections");
  if (!collections.IsSequence() || collections.size() == 0) {
    r.fail(collections, "collections", "must be a non-empty list");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < collections.size(); ++i) {
    const std::string path = "collections[" + std::to_string(i) + "]";
    CollectionConfig c = read_collection(r, collections[i], path);
    if (!names.insert(c.name).second) {
      r.fail(collections[i]["name"], path + ".name", "duplicate collection '" + c.name + "'");
    }
    config.node.collections.push_back(std::move(c));
  }
  read_engine(r, root, &config);
  return config;
}

Result<NodeConfig> parse(const std::string& text, const std::string& source,
                         const std::string& config_dir) {
  Reader reader(source);
  try {
    return read_config(reader, YAML::Load(text), config_dir);
  } catch (const ConfigError& e) {
    return Status::invalid_argument(e.message);
  } catch (const YAML::Exception& e) {
    return Status::invalid_argument(source + ":" + std::to_string(e.mark.line + 1) +
                                    ": malformed YAML: " + e.msg);
  }
}

}  // namespace

Status split_host_port(const std::string& address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return Status::invalid_argument("'" + address + "' is not host:port");
  }
  *host = address.substr(0, colon);
  const std::string p = address.substr(colon + 1);
  int value = -1;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (ec != std::errc() || end != p.data() + p.size() || value < 0 || value > 65535) {
    return Status::invalid_argument("'" + address + "': port must be in 0..65535");
  }
  *port = value;
  return Status::ok();
}

Result<NodeConfig> parse_node_config(const std::string& text, const std::string& source) {
  return parse(text, source, "");
}

Result<NodeConfig> load_node_config(const std::string& path) {
  Result<std::string> text = read_file(path, "config");
  if (!text.is_ok()) return text.status();
  return parse(*text, path, std::filesystem::path(path).parent_path().string());
}

}  // namespace meridian::real::api
