// meridian-node: one region of a Meridian deployment (docs/api.md).
//
//   meridian-node --config node.yaml
//
// Starts the region node on an event loop thread over the configured log (Kafka, or the
// in-memory single-process mode), serves gRPC with mutual TLS and the HTTP/JSON gateway, and
// prints one line "meridian-node: ready ..." with the bound addresses once it accepts requests.
// SIGTERM or SIGINT shut it down cleanly: the servers stop accepting and finish the calls in
// flight (searches still queued for a search worker after the grace period: unavailable), the
// loop runs until the accepted writes are durable (at most engine.shutdown_grace_ms),
// then the process exits 0. Exit status 2: bad command line or config (the message names the
// field); 1: a start-up failure (log, ports).
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include "engine/node/region_node.h"
#include "engine/real/api/grpc_client.h"
#include "engine/real/api/grpc_server.h"
#include "engine/real/api/http_gateway.h"
#include "engine/real/api/node_config.h"
#include "engine/real/api/node_service.h"
#include "engine/real/event_loop.h"
#include "engine/real/memory_log.h"
#include "engine/real/openmp_threads.h"
#include "engine/real/origin_routed_log.h"
#include "engine/real/posix_files.h"
#include "engine/real/replication_sources.h"
#include "engine/real/thread_offload.h"
#ifdef MERIDIAN_HAVE_KAFKA
#include "engine/real/kafka/kafka_admin.h"
#include "engine/real/kafka/kafka_log.h"
#endif

namespace meridian::real::api {
namespace {

int fail(int code, const std::string& message) {
  std::cerr << "meridian-node: " << message << "\n";
  return code;
}

// The logs a node reads and writes: its own cluster's, the clusters of regions it reads
// directly (regions[i].kafka), and the router in front of them when there are any. Members are
// destroyed in reverse order: the router before the logs it routes to.
struct NodeLogs {
  std::unique_ptr<env::Log> local;
  std::map<std::string, std::unique_ptr<env::Log>> direct;  // origin region name -> its cluster
  std::unique_ptr<OriginRoutedLog> routed;
  env::Log& log() { return routed ? *routed : *local; }
};

Result<std::unique_ptr<env::Log>> open_local_log(EventLoop& loop, const NodeConfig& config) {
  if (config.log_kind == LogKind::kMemory) {
    return std::unique_ptr<env::Log>(
        std::make_unique<MemoryLog>(loop, MemoryLogOptions{config.memory_log_max_bytes}));
  }
#ifdef MERIDIAN_HAVE_KAFKA
  KafkaLogOptions options;
  options.bootstrap_servers = config.kafka_bootstrap_servers;
  options.client_id = "meridian-node-" + config.node.self.name;
  options.properties = config.kafka_properties;
  options.producer_properties = config.kafka_producer_properties;
  options.consumer_properties = config.kafka_consumer_properties;
  if (config.kafka_create_topics) {
    Status created = create_topics(options, region_topics(config.node.collections));
    if (!created.is_ok()) return Status(created.code(), "creating topics: " + created.message());
  }
  Result<std::unique_ptr<KafkaLog>> log = KafkaLog::create(loop, options);
  if (!log.is_ok()) return log.status();
  // RegionNode::start() reads this region's end offsets to continue its sequences after an
  // earlier incarnation's, and its heartbeat topic's to pass the newest heartbeat's stamp and
  // writer epoch: they must be exact before it runs, not the background refresh's (0 until its
  // first round, which would skip both).
  std::vector<std::pair<std::string, uint32_t>> own{{node::kHeartbeatTopic, 0}};
  for (const CollectionConfig& c : config.node.collections) {
    for (uint32_t s = 0; s < c.num_shards; ++s) own.emplace_back(node::wal_topic(c.name), s);
  }
  // Right after topic creation or a broker restart, leadership may still be settling ("Not
  // leader for partition"): retry within the budget; only a lasting failure stops the start.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    Status s = (*log)->load_end_offsets(own, std::chrono::seconds(10));
    if (s.is_ok()) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status(s.code(), "reading this region's end offsets: " + s.message());
    }
    std::cerr << "meridian-node: reading end offsets (will retry): " << s.to_string() << "\n";
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  // So that the first heartbeat and the first write to each collection go out at once, not at
  // librdkafka's next topic scan (up to a second later). Not needed for correctness: a failure
  // here only costs that second.
  std::vector<std::string> own_topics{node::kHeartbeatTopic};
  for (const CollectionConfig& c : config.node.collections)
    own_topics.push_back(node::wal_topic(c.name));
  if (Status s = (*log)->prepare_produce(own_topics, std::chrono::seconds(5)); !s.is_ok()) {
    std::cerr << "meridian-node: " << s.to_string()
              << " (first produces wait for the topic scan)\n";
  }
  return std::unique_ptr<env::Log>(std::move(log).value());
#else
  (void)loop;
  return Status::unsupported("log.kind: kafka, but this binary was built without Kafka");
#endif
}

Status open_logs(EventLoop& loop, const NodeConfig& config, NodeLogs* logs) {
  Result<std::unique_ptr<env::Log>> local = open_local_log(loop, config);
  if (!local.is_ok()) return local.status();
  logs->local = std::move(local).value();
  if (config.direct_kafka.empty()) return Status::ok();
#ifdef MERIDIAN_HAVE_KAFKA
  std::map<std::string, env::Log*> routes;
  for (const auto& [region, direct] : config.direct_kafka) {
    // Read-only: this node never writes another region's topics, and never creates them (that
    // region's node does; a subscription waits until they exist). An unreachable cluster is
    // not an error here: its subscriptions stay silent until it is back, as with a mirror.
    KafkaLogOptions options;
    options.bootstrap_servers = direct.bootstrap_servers;
    options.client_id = "meridian-node-" + config.node.self.name + "-reads-" + region;
    options.read_only = true;
    options.properties = config.kafka_properties;
    options.consumer_properties = config.kafka_consumer_properties;
    // That cluster's own settings (security, credentials) go last, replacing the local ones.
    for (const auto& [name, value] : direct.properties) options.consumer_properties[name] = value;
    Result<std::unique_ptr<KafkaLog>> log = KafkaLog::create(loop, options);
    if (!log.is_ok())
      return Status(log.status().code(), region + "'s cluster: " + log.status().message());
    routes[region] = log->get();
    logs->direct[region] = std::move(log).value();
  }
  logs->routed = std::make_unique<OriginRoutedLog>(*logs->local, std::move(routes));
  return Status::ok();
#else
  return Status::unsupported("regions[].kafka, but this binary was built without Kafka");
#endif
}

// Reports what the node detects and refuses (corrupt records, rejected checkpoint files, failed
// catch-ups) on stderr: an operator must see them.
class StderrObserver final : public node::NodeObserver {
 public:
  void on_corrupt_record(const env::LogRecord& record, const Status& why) override {
    std::cerr << "meridian-node: record " << record.topic << "/" << record.partition << "@"
              << record.offset << " rejected: " << why.to_string() << "\n";
  }
  void on_durability_problem(const std::string& what) override {
    std::cerr << "meridian-node: " << what << "\n";
  }
};

// Runs the loop until the node has no accepted write left to make durable, or `grace` passes.
void drain(EventLoop& loop, const node::RegionNode& node, std::chrono::milliseconds grace) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    size_t pending = 0;
    if (!loop.run_and_wait([&] { pending = node.pending_writes(); }) || pending == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::cerr << "meridian-node: writes still pending after the shutdown grace period\n";
}

int run(const NodeConfig& config, const TlsPem& pem) {
  // SIGINT and SIGTERM are blocked in every thread (threads inherit the mask, so this comes
  // before any is created) and taken by sigwait below: no async-signal-safety concerns.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  EventLoop loop;
  // The data directory first: a second node of the same region started on it by mistake is
  // refused (PosixFiles locks it) before it touches Kafka.
  std::unique_ptr<PosixFiles> files;
  if (!config.data_dir.empty()) {
    Result<std::unique_ptr<PosixFiles>> opened = PosixFiles::open(loop, config.data_dir);
    if (!opened.is_ok()) return fail(1, "data_dir: " + opened.status().message());
    files = std::move(opened).value();
  }
  if (files != nullptr) {
    // Positions in its checkpoints are offsets of the copy each origin was read from.
    std::map<std::string, ReplicationSource> sources;
    for (const node::RegionInfo& r : config.node.regions) {
      if (r.id == config.node.self.id) continue;
      sources[r.name] = config.direct_kafka.count(r.name) != 0 ? ReplicationSource::kDirect
                                                               : ReplicationSource::kMirror;
    }
    Status s = check_replication_sources(*files, sources);
    if (s.code() == StatusCode::kInvalidArgument) return fail(2, "config error: " + s.message());
    if (!s.is_ok()) return fail(1, "data_dir: " + s.to_string());
  }
  NodeLogs logs;
  if (Status s = open_logs(loop, config, &logs); !s.is_ok())
    return fail(1, "log: " + s.to_string());
  GrpcPeers peers(loop, config.peer_grpc, pem, config.tls_server_name, config.peer_timeout);
  // Shard digests (anti-entropy) are taken on this thread, off the loop. Declared before the
  // node: it is stopped (and joined) after the node is gone and the loop no longer runs.
  ThreadOffload offload(loop);
  node::RegionNode node(config.node,
                        node::NodeEnv{loop, loop, loop, logs.log(), peers, files.get(), &offload});
  StderrObserver observer;
  node.set_observer(&observer);
  if (Status s = node.start(); !s.is_ok()) return fail(2, "config: " + s.to_string());
  NodeServiceOptions service_options;
  service_options.search_threads = config.search_threads;
  service_options.read_on_caller = config.read_on_caller;
  NodeService service(loop, node, service_options);
  std::thread loop_thread([&loop] { loop.run(); });
  auto stop_loop = [&] {
    loop.stop();
    loop_thread.join();
  };

  GrpcServer grpc(service);
  Result<int> grpc_port = grpc.start(config.grpc_listen, pem);
  if (!grpc_port.is_ok()) {
    stop_loop();
    return fail(1, "listen.grpc: " + grpc_port.status().message());
  }
  HttpOptions http_options;
  http_options.threads = config.http_threads;
  http_options.tls = config.http_tls;
  http_options.tls_files = config.tls;
  HttpGateway http(service, http_options);
  HttpOptions metrics_options;  // /metrics and /healthz only: a scrape and a probe at once
  metrics_options.threads = 2;
  metrics_options.operations_only = true;
  metrics_options.tls = config.metrics_tls;
  metrics_options.tls_files = config.tls;
  HttpGateway metrics(service, metrics_options);
  // Binds `listen` ("host:port", port 0 picks one) for `gateway`; "" = off. Returns the bound
  // "host:port" ("off" when not configured) or the error.
  auto start_http = [](HttpGateway& gateway, const std::string& listen) -> Result<std::string> {
    if (listen.empty()) return std::string("off");
    std::string host;
    int port = 0;
    Status s = split_host_port(listen, &host, &port);
    Result<int> bound = s.is_ok() ? gateway.start(host, port) : Result<int>(s);
    if (!bound.is_ok()) return bound.status();
    return host + ":" + std::to_string(*bound);
  };
  Result<std::string> http_address = start_http(http, config.http_listen);
  Result<std::string> metrics_address = http_address.is_ok()
                                            ? start_http(metrics, config.metrics_listen)
                                            : Result<std::string>(std::string("off"));
  if (!http_address.is_ok() || !metrics_address.is_ok()) {
    http.stop();
    grpc.shutdown(std::chrono::milliseconds(0));
    stop_loop();
    return fail(1, !http_address.is_ok() ? "listen.http: " + http_address.status().message()
                                         : "listen.metrics: " + metrics_address.status().message());
  }
  std::string grpc_host;
  int unused = 0;
  (void)split_host_port(config.grpc_listen, &grpc_host, &unused);
  std::cout << "meridian-node: ready region=" << config.node.self.name
            << " id=" << config.node.self.id << " grpc=" << grpc_host << ":" << *grpc_port
            << " http=" << *http_address << " metrics=" << *metrics_address
            << " log=" << (config.log_kind == LogKind::kMemory ? "memory" : "kafka");
  for (const auto& [region, direct] : config.direct_kafka) {
    std::cout << " reads=" << region << "@" << direct.bootstrap_servers;
  }
  std::cout << std::endl;

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::cerr << "meridian-node: " << (signal_number == SIGTERM ? "SIGTERM" : "SIGINT")
            << ": shutting down\n";
  metrics.stop();
  http.stop();
  grpc.shutdown(config.shutdown_grace);
  // After the servers (whose in-flight searches the pool answers) and before the loop (which
  // answers the searches the workers hand back to it).
  service.stop_searches();
  drain(loop, node, config.shutdown_grace);
  stop_loop();
  std::cerr << "meridian-node: stopped\n";
  return 0;
}

}  // namespace
}  // namespace meridian::real::api

int main(int argc, char** argv) {
  using namespace meridian::real::api;
  CLI::App app{
      "meridian-node: one region of a Meridian deployment: the region node over Kafka (or the "
      "in-memory single-process log), gRPC with mutual TLS and an HTTP/JSON gateway.\n"
      "Config file format and API: docs/api.md. SIGTERM/SIGINT shut down cleanly (exit 0)."};
  std::string config_path;
  bool check_only = false;
  app.add_option("-c,--config", config_path, "YAML config file")->required();
  app.add_flag("--check-config", check_only, "validate the config and TLS files, then exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help exits 0; a bad command line exits 2, like a bad config.
    return app.exit(e) == 0 ? 0 : 2;
  }

  // Parallelism comes from the search pool; FAISS's OpenMP teams would only compete with it
  // (an IVF add on the loop waits at a barrier for a descheduled OpenMP thread, docs/api.md).
  // An operator's explicit OMP_NUM_THREADS still wins. The loop and the search workers apply
  // this when they start (openmp_threads.h: OpenMP's setting is per thread).
  meridian::real::set_openmp_threads(meridian::real::default_openmp_threads());
  meridian::real::apply_openmp_policy();

  meridian::Result<NodeConfig> config = load_node_config(config_path);
  if (!config.is_ok()) return fail(2, "config error: " + config.status().message());
  meridian::Result<TlsPem> pem = load_tls(config->tls);
  if (!pem.is_ok()) return fail(2, "config error: " + pem.status().message());
  if (check_only) {
    std::cout << "meridian-node: config ok: " << config_path << "\n";
    return 0;
  }
  return run(*config, *pem);
}
