// Test fixture for the data plane: a real single-region node in-process (event loop thread,
// MemoryLog, RegionNode, NodeService) behind the real gRPC server (mutual TLS) and HTTP gateway,
// on ports picked by the kernel on 127.0.0.1. Certificates come from tests/gen_certs.sh (openssl)
// into a temporary directory, once per test process. Test-only header.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "engine/node/region_node.h"
#include "engine/real/api/grpc_client.h"
#include "engine/real/api/grpc_server.h"
#include "engine/real/api/http_gateway.h"
#include "engine/real/api/node_service.h"
#include "engine/real/api/tls.h"
#include "engine/real/event_loop.h"
#include "engine/real/memory_log.h"
#include "engine/real/thread_offload.h"

namespace meridian::real::api::testing {

// The directory of certificates made by tests/gen_certs.sh, removed when the process ends.
class CertDir {
 public:
  static const CertDir& get() {
    static CertDir dir;
    return dir;
  }
  ~CertDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // name: "node", "client" or "rogue"; ca: "ca" or "rogue-ca".
  TlsPem pem(const std::string& name, const std::string& ca = "ca") const {
    Result<TlsPem> pem = load_tls({file(ca + ".pem"), file(name + ".pem"), file(name + ".key")});
    EXPECT_TRUE(pem.is_ok()) << pem.status().to_string();
    return pem.is_ok() ? *pem : TlsPem{};
  }

 private:
  CertDir() {
    char tmpl[] = "/tmp/meridian-certs-XXXXXX";
    const char* made = mkdtemp(tmpl);
    if (made == nullptr) std::abort();
    path_ = made;
    const std::string command = std::string(MERIDIAN_GEN_CERTS) + " " + path_ + " >/dev/null";
    if (std::system(command.c_str()) != 0) std::abort();
  }
  std::string path_;
};

inline constexpr uint32_t kDimension = 4;

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const CertDir& certs = CertDir::get();
    node_pem_ = certs.pem("node");
    client_pem_ = certs.pem("client");
    loop_ = std::make_unique<EventLoop>();
    log_ = std::make_unique<MemoryLog>(*loop_);
    peers_ = std::make_unique<GrpcPeers>(*loop_, std::map<std::string, std::string>{}, node_pem_,
                                         "", std::chrono::seconds(1));
    node::NodeOptions options;
    options.self = {"solo", 1};
    options.regions = {options.self};
    options.fresh_deployment = true;  // MemoryLog starts empty
    CollectionConfig docs;
    docs.name = "docs";
    docs.index.dimension = kDimension;
    docs.num_shards = 4;
    options.collections = {docs};
    adjust(options);
    offload_ = std::make_unique<ThreadOffload>(*loop_);
    node_ = std::make_unique<node::RegionNode>(
        options, node::NodeEnv{*loop_, *loop_, *loop_, *log_, *peers_, nullptr, offload_.get()});
    ASSERT_TRUE(node_->start().is_ok());
    service_ = std::make_unique<NodeService>(*loop_, *node_);
    loop_thread_ = std::thread([this] { loop_->run(); });
    grpc_ = std::make_unique<GrpcServer>(*service_);
    Result<int> grpc_port = grpc_->start("127.0.0.1:0", node_pem_);
    ASSERT_TRUE(grpc_port.is_ok()) << grpc_port.status().to_string();
    grpc_address_ = "127.0.0.1:" + std::to_string(*grpc_port);
    http_ = std::make_unique<HttpGateway>(*service_, HttpOptions{});
    Result<int> http_port = http_->start("127.0.0.1", 0);
    ASSERT_TRUE(http_port.is_ok()) << http_port.status().to_string();
    http_port_ = *http_port;
  }

  void TearDown() override {
    if (http_) http_->stop();
    if (grpc_) grpc_->shutdown(std::chrono::seconds(1));
    if (loop_thread_.joinable()) {
      loop_->stop();
      loop_thread_.join();
    }
    if (offload_) offload_->stop();  // before the loop it posts to goes away
    http_.reset();
    grpc_.reset();
    service_.reset();
    node_.reset();
    offload_.reset();
    peers_.reset();
    log_.reset();
    loop_.reset();
  }

  // Lets a test fixture change the node's options before it starts.
  virtual void adjust(node::NodeOptions&) {}

  std::unique_ptr<v1::Meridian::Stub> client_stub() const {
    return make_stub(grpc_address_, client_pem_);
  }

  TlsPem node_pem_, client_pem_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<MemoryLog> log_;
  std::unique_ptr<GrpcPeers> peers_;
  std::unique_ptr<ThreadOffload> offload_;  // shard digests off the loop, as in meridian-node
  std::unique_ptr<node::RegionNode> node_;
  std::unique_ptr<NodeService> service_;
  std::thread loop_thread_;
  std::unique_ptr<GrpcServer> grpc_;
  std::unique_ptr<HttpGateway> http_;
  std::string grpc_address_;
  int http_port_ = 0;
};

}  // namespace meridian::real::api::testing
