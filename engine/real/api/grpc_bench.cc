// What one Search call costs the machine through the real data plane, in one process: the
// node (RegionNode on the in-memory log, NodeService with search on the caller, as
// meridian-node runs) behind the gRPC server with mutual TLS and the plain-HTTP gateway, both
// on loopback. The collection has the shape of `scripts/bench-real search` (100 k vectors,
// 128-d, IVF nlist 256 / nprobe 4, 16 shards), loaded once through UpsertBatch.
//
//   BM_DirectSearch  NodeService::search_sync on the benchmark thread: the search, no transport
//   BM_HttpSearch    POST /v1/collections/docs/search on one keep-alive connection
//   BM_GrpcSearch    the Search RPC through a synchronous stub
//
// Wall time is the round trip of one call at a time; CPU is the whole process's (client,
// server threads, event loop), i.e. what client plus node spend per search. In the deployment
// (docs/benchmarks.md, section 2) the client is another process and many calls are in flight.
//
//   build-bench/engine/real/api/grpc_bench --benchmark_repetitions=5
//       --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <grpcpp/client_context.h>
#include <httplib.h>
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/datasets.h"
#include "engine/node/region_node.h"
#include "engine/real/api/grpc_client.h"
#include "engine/real/api/grpc_server.h"
#include "engine/real/api/http_gateway.h"
#include "engine/real/api/node_service.h"
#include "engine/real/api/tls.h"
#include "engine/real/event_loop.h"
#include "engine/real/memory_log.h"
#include "engine/real/openmp_threads.h"

namespace meridian::real::api {
namespace {

constexpr uint32_t kDim = 128;
constexpr size_t kVectors = 100'000;
constexpr size_t kQueries = 1024;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "grpc_bench: %s\n", why.c_str());
  std::exit(1);
}

// The node behind both servers, and a gRPC client stub, for the whole process.
class Deployment {
 public:
  static Deployment& get() {
    // Leaked on purpose: the process ends after the benchmarks, and tearing the loop thread
    // and gRPC down from a static destructor would race with gRPC's own shutdown.
    static Deployment* d = new Deployment;
    return *d;
  }
  v1::Meridian::Stub& stub() { return *stub_; }
  int http_port() const { return http_port_; }
  NodeService& service() { return *service_; }
  const float* query(size_t i) const { return &queries_[(i % kQueries) * kDim]; }

 private:
  Deployment() {
    set_openmp_threads(default_openmp_threads());  // as meridian-node does
    apply_openmp_policy();
    make_certs();
    loop_ = std::make_unique<EventLoop>();
    log_ = std::make_unique<MemoryLog>(*loop_);
    peers_ = std::make_unique<GrpcPeers>(*loop_, std::map<std::string, std::string>{}, node_pem_,
                                         "", std::chrono::seconds(1));
    node::NodeOptions options;
    options.self = {"solo", 1};
    options.regions = {options.self};
    options.fresh_deployment = true;
    CollectionConfig docs;
    docs.name = "docs";
    docs.num_shards = 16;
    docs.index.kind = IndexKind::kIvf;
    docs.index.dimension = kDim;
    docs.index.ivf_nlist = 256;
    docs.index.ivf_nprobe = 4;
    options.collections = {docs};
    node_ = std::make_unique<node::RegionNode>(
        options, node::NodeEnv{*loop_, *loop_, *loop_, *log_, *peers_});
    if (Status s = node_->start(); !s.is_ok()) die("node: " + s.to_string());
    NodeServiceOptions service_options;  // as meridian-node's defaults
    service_options.read_on_caller = true;
    service_ = std::make_unique<NodeService>(*loop_, *node_, service_options);
    loop_thread_ = std::thread([this] { loop_->run(); });
    server_ = std::make_unique<GrpcServer>(*service_);
    Result<int> port = server_->start("127.0.0.1:0", node_pem_);
    if (!port.is_ok()) die("listen: " + port.status().to_string());
    stub_ = make_stub("127.0.0.1:" + std::to_string(*port), client_pem_);
    http_ = std::make_unique<HttpGateway>(*service_, HttpOptions{});  // plain HTTP, the default
    Result<int> http_port = http_->start("127.0.0.1", 0);
    if (!http_port.is_ok()) die("listen http: " + http_port.status().to_string());
    http_port_ = *http_port;
    load();
  }

  void make_certs() {
    char tmpl[] = "/tmp/meridian-grpc-bench-XXXXXX";
    const char* dir = mkdtemp(tmpl);
    if (dir == nullptr) die("mkdtemp failed");
    const std::string path = dir;
    const std::string command = std::string(MERIDIAN_GEN_CERTS) + " " + path + " >/dev/null";
    if (std::system(command.c_str()) != 0) die("gen_certs.sh failed");
    auto pem = [&](const std::string& name) {
      Result<TlsPem> p =
          load_tls({path + "/ca.pem", path + "/" + name + ".pem", path + "/" + name + ".key"});
      if (!p.is_ok()) die(p.status().to_string());
      return *p;
    };
    node_pem_ = pem("node");
    client_pem_ = pem("client");
    std::filesystem::remove_all(path);
  }

  void load() {
    const bench::GaussianMixture data(bench::MixtureSpec{});
    const std::vector<float> base = data.sample(kVectors, 1);
    queries_ = data.sample(kQueries, 2);
    constexpr size_t kBatch = 512;
    for (size_t first = 0; first < kVectors; first += kBatch) {
      v1::UpsertBatchRequest request;
      request.set_collection("docs");
      for (size_t i = first; i < std::min(kVectors, first + kBatch); ++i) {
        v1::UpsertBatchRequest::Item* item = request.add_items();
        item->set_id(bench::vector_id(i));
        item->mutable_embedding()->Add(&base[i * kDim], &base[(i + 1) * kDim]);
      }
      grpc::ClientContext context;
      v1::UpsertBatchResponse response;
      grpc::Status s = stub_->UpsertBatch(&context, request, &response);
      if (!s.ok()) die("load: " + s.error_message());
    }
  }

  TlsPem node_pem_, client_pem_;
  std::vector<float> queries_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<MemoryLog> log_;
  std::unique_ptr<GrpcPeers> peers_;
  std::unique_ptr<node::RegionNode> node_;
  std::unique_ptr<NodeService> service_;
  std::thread loop_thread_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<v1::Meridian::Stub> stub_;
  std::unique_ptr<HttpGateway> http_;
  int http_port_ = 0;
};

// Times one search per iteration: `search(i, &error)` sends query i and returns the number of
// hits in its answer, or sets `error`. Every answer must hold 10 hits.
template <typename Search>
void time_searches(benchmark::State& state, Search search) {
  size_t i = 0;
  size_t hits = 0;
  for (auto _ : state) {
    std::string error;
    const size_t got = search(i, &error);
    if (!error.empty()) {
      state.SkipWithError(error.c_str());
      return;
    }
    hits += got;
    ++i;
  }
  if (hits != 10 * i) state.SkipWithError("a search returned fewer than 10 hits");
  state.SetItemsProcessed(int64_t(i));
}

// The baseline: the same search through NodeService::search_sync on the calling thread, no
// transport (validation, the shared engine lock, RegionNode::search_now, the result).
void BM_DirectSearch(benchmark::State& state) {
  Deployment& d = Deployment::get();
  time_searches(state, [&](size_t i, std::string* error) -> size_t {
    node::SearchRequest request;
    request.collection = "docs";
    request.query.assign(d.query(i), d.query(i) + kDim);
    SearchResult result = d.service().search_sync(std::move(request));
    if (!result.response.status.is_ok()) *error = result.response.status.to_string();
    return result.response.hits.size();
  });
}
BENCHMARK(BM_DirectSearch)->MeasureProcessCPUTime()->UseRealTime()->MinTime(3.0);

// One synchronous top-10 search per iteration, eventual consistency, as meridian-bench sends.
void BM_GrpcSearch(benchmark::State& state) {
  Deployment& d = Deployment::get();
  time_searches(state, [&](size_t i, std::string* error) -> size_t {
    v1::SearchRequest request;
    request.set_collection("docs");
    request.set_k(10);
    request.mutable_query()->Add(d.query(i), d.query(i) + kDim);
    grpc::ClientContext context;
    v1::SearchResponse response;
    if (grpc::Status s = d.stub().Search(&context, request, &response); !s.ok()) {
      *error = s.error_message();
    }
    return size_t(response.hits_size());
  });
}
BENCHMARK(BM_GrpcSearch)->MeasureProcessCPUTime()->UseRealTime()->MinTime(3.0);

// The same search through the HTTP/JSON gateway (plain HTTP/1.1, one keep-alive connection).
// Hits are counted by their "id" keys (no JSON parse: the gRPC client's protobuf parse is the
// heavier side already).
void BM_HttpSearch(benchmark::State& state) {
  Deployment& d = Deployment::get();
  httplib::Client client("127.0.0.1", d.http_port());
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);  // as curl and k6 do
  time_searches(state, [&](size_t i, std::string* error) -> size_t {
    std::string body = "{\"k\":10,\"query\":[";
    for (uint32_t j = 0; j < kDim; ++j) {
      if (j > 0) body += ',';
      body += std::to_string(d.query(i)[j]);
    }
    body += "]}";
    httplib::Result r = client.Post("/v1/collections/docs/search", body, "application/json");
    if (!r || r->status != 200) {
      *error = r ? r->body : "HTTP request failed: " + httplib::to_string(r.error());
      return 0;
    }
    size_t hits = 0;
    for (size_t at = r->body.find("\"id\":"); at != std::string::npos;
         at = r->body.find("\"id\":", at + 1)) {
      ++hits;
    }
    return hits;
  });
}
BENCHMARK(BM_HttpSearch)->MeasureProcessCPUTime()->UseRealTime()->MinTime(3.0);

}  // namespace
}  // namespace meridian::real::api
