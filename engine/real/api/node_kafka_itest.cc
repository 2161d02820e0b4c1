// Two regions on real Kafka (ctest label `integration`): brokers "a" and "b" and MirrorMaker 2
// started by scripts/kafka (engine/real/kafka/kafka_test_cluster.h), one region node per
// broker in this process, each on its own event loop over KafkaLog, serving gRPC with mutual
// TLS and forwarding reads to the other over GrpcPeers. Checks: a write acknowledged in a is
// seen by a session read in b at once (b waits or forwards to a over mTLS: read-your-writes
// across regions), b converges through the mirror, and NodeStatus reports the replication;
// with the mirror stopped, b's session and bounded reads are forwarded to a and still see a's
// newest write; with a's gRPC down too, b answers locally and says what it could not meet.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "engine/real/api/api_test_fixture.h"
#include "engine/real/api/grpc_client.h"
#include "engine/real/api/grpc_server.h"
#include "engine/real/api/node_service.h"
#include "engine/real/event_loop.h"
#include "engine/real/kafka/kafka_admin.h"
#include "engine/real/kafka/kafka_log.h"
#include "engine/real/kafka/kafka_test_cluster.h"

namespace meridian::real::api {
namespace {

using namespace std::chrono_literals;
using real::testing::TestBroker;
using real::testing::TestMirror;

CollectionConfig docs() {
  CollectionConfig c;
  c.name = "docs";
  c.index.dimension = 4;
  c.num_shards = 4;
  return c;
}

const std::vector<node::RegionInfo> kRegions = {{"a", 1}, {"b", 2}};

// One region: event loop thread, KafkaLog, RegionNode, NodeService, gRPC server.
class Region {
 public:
  Status start(const node::RegionInfo& self, const std::string& bootstrap,
               const std::map<std::string, std::string>& peers, int grpc_port, const TlsPem& pem) {
    KafkaLogOptions options;
    options.bootstrap_servers = bootstrap;
    options.client_id = "node-" + self.name;
    Result<std::unique_ptr<KafkaLog>> log = KafkaLog::create(loop_, options);
    if (!log.is_ok()) return log.status();
    log_ = std::move(log).value();
    peers_ = std::make_unique<GrpcPeers>(loop_, peers, pem, "", 5s);
    node::NodeOptions node_options;
    node_options.self = self;
    node_options.regions = kRegions;
    node_options.collections = {docs()};
    node_options.fresh_deployment = true;
    node_ = std::make_unique<node::RegionNode>(node_options,
                                               node::NodeEnv{loop_, loop_, loop_, *log_, *peers_});
    if (Status s = node_->start(); !s.is_ok()) return s;
    service_ = std::make_unique<NodeService>(loop_, *node_);
    thread_ = std::thread([this] { loop_.run(); });
    grpc_ = std::make_unique<GrpcServer>(*service_);
    Result<int> port = grpc_->start("127.0.0.1:" + std::to_string(grpc_port), pem);
    return port.status();
  }

  void stop_grpc() { grpc_->shutdown(1s); }

  ~Region() {
    if (grpc_) grpc_->shutdown(1s);
    if (thread_.joinable()) {
      loop_.stop();
      thread_.join();
    }
    grpc_.reset();
    service_.reset();
    node_.reset();
    peers_.reset();
    log_.reset();
  }

 private:
  EventLoop loop_;
  std::unique_ptr<KafkaLog> log_;
  std::unique_ptr<GrpcPeers> peers_;
  std::unique_ptr<node::RegionNode> node_;
  std::unique_ptr<NodeService> service_;
  std::thread thread_;
  std::unique_ptr<GrpcServer> grpc_;
};

grpc::ClientContext* with_deadline(grpc::ClientContext* context, std::chrono::seconds timeout) {
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

TEST(NodeKafka, SessionReadInAnotherRegionSeesTheWriteAndRegionsConverge) {
  auto a = TestBroker::start("a");
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  auto b = TestBroker::start("b");
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  for (const TestBroker* broker : {a.value().get(), b.value().get()}) {
    KafkaLogOptions admin;
    admin.bootstrap_servers = broker->bootstrap();
    Status created = create_topics(admin, region_topics({docs()}));
    ASSERT_TRUE(created.is_ok()) << created.to_string();
  }
  auto mirror = TestMirror::start({{"a", a.value()->bootstrap()}, {"b", b.value()->bootstrap()}});
  ASSERT_TRUE(mirror.is_ok()) << mirror.status().to_string();

  const testing::CertDir& certs = testing::CertDir::get();
  const TlsPem node_pem = certs.pem("node");
  const int port_a = real::testing::free_port();
  const int port_b = real::testing::free_port();
  const std::string address_a = "127.0.0.1:" + std::to_string(port_a);
  const std::string address_b = "127.0.0.1:" + std::to_string(port_b);
  Region region_a, region_b;
  Status started =
      region_a.start(kRegions[0], a.value()->bootstrap(), {{"b", address_b}}, port_a, node_pem);
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  started =
      region_b.start(kRegions[1], b.value()->bootstrap(), {{"a", address_a}}, port_b, node_pem);
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  auto client_a = make_stub(address_a, certs.pem("client"));
  auto client_b = make_stub(address_b, certs.pem("client"));

  // Writes acknowledged by a (durable in a's Kafka), with the session token they extend.
  v1::SessionToken session;
  for (int i = 0; i < 5; ++i) {
    v1::UpsertRequest up;
    up.set_collection("docs");
    up.set_id("v" + std::to_string(i));
    for (float x : {float(i), 0.f, 0.f, 1.f}) up.add_embedding(x);
    *up.mutable_session() = session;
    v1::WriteResponse written;
    grpc::Status s;
    // Right after its start a node refuses writes (UNAVAILABLE) until its own partitions are
    // read (RegionNode::recovered()); clients retry, as a client with failover would.
    const auto give_up = std::chrono::steady_clock::now() + 30s;
    do {
      grpc::ClientContext context;
      s = client_a->Upsert(with_deadline(&context, 30s), up, &written);
      if (s.error_code() == grpc::StatusCode::UNAVAILABLE) std::this_thread::sleep_for(10ms);
    } while (s.error_code() == grpc::StatusCode::UNAVAILABLE &&
             std::chrono::steady_clock::now() < give_up);
    ASSERT_TRUE(s.ok()) << s.error_message();
    session = written.session();
  }

  // At once, a session read in b: b waits briefly for the mirror, else forwards to a over mTLS.
  v1::SearchRequest search;
  search.set_collection("docs");
  for (float x : {4.f, 0.f, 0.f, 1.f}) search.add_query(x);
  search.set_k(5);
  search.set_consistency(v1::CONSISTENCY_SESSION);
  *search.mutable_session() = session;
  v1::SearchResponse found;
  {
    grpc::ClientContext context;
    grpc::Status s = client_b->Search(with_deadline(&context, 30s), search, &found);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  ASSERT_EQ(found.hits_size(), 5);
  EXPECT_EQ(found.hits(0).id(), "v4");
  EXPECT_TRUE(found.session_satisfied());
  EXPECT_EQ(found.guarantee_met(), v1::CONSISTENCY_SESSION);
  std::cout << "session read in b served by " << found.served_by()
            << (found.forwarded() ? " (forwarded)" : " (local)") << "\n";

  // b converges through MirrorMaker 2: every write becomes visible in b's own replica.
  v1::NodeStatusResponse status;
  bool converged = false;
  const auto deadline = std::chrono::steady_clock::now() + 180s;
  while (!converged && std::chrono::steady_clock::now() < deadline) {
    grpc::ClientContext context;
    status.Clear();
    ASSERT_TRUE(client_b->NodeStatus(with_deadline(&context, 10s), {}, &status).ok());
    converged = status.collections(0).live_vectors() == 5;
    if (!converged) std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(converged) << status.DebugString();
  uint64_t frontier_of_a = 0;
  for (const v1::ShardStatus& shard : status.collections(0).shards()) {
    for (const v1::OriginProgress& origin : shard.origins()) {
      if (origin.region() == "a") frontier_of_a += origin.frontier();
    }
  }
  EXPECT_EQ(frontier_of_a, 5u);
  EXPECT_EQ(status.counters().records_applied(), 5u);

  // Now a local session read in b is satisfied without forwarding.
  {
    grpc::ClientContext context;
    found.Clear();
    ASSERT_TRUE(client_b->Search(with_deadline(&context, 30s), search, &found).ok());
  }
  EXPECT_EQ(found.served_by(), "b");
  EXPECT_FALSE(found.forwarded());
  EXPECT_EQ(found.hits_size(), 5);
  EXPECT_EQ(found.guarantee_met(), v1::CONSISTENCY_SESSION);

  // The mirror stops: b cannot see a's next write, so b's session read is forwarded to a (read
  // repair over GrpcPeers, mutual TLS) and still sees it.
  mirror.value().reset();
  {
    v1::UpsertRequest up;
    up.set_collection("docs");
    up.set_id("late");
    for (float x : {9.f, 9.f, 9.f, 9.f}) up.add_embedding(x);
    *up.mutable_session() = session;
    v1::WriteResponse written;
    grpc::ClientContext context;
    ASSERT_TRUE(client_a->Upsert(with_deadline(&context, 30s), up, &written).ok());
    session = written.session();
  }
  search.clear_query();
  for (float x : {9.f, 9.f, 9.f, 9.f}) search.add_query(x);
  *search.mutable_session() = session;
  {
    grpc::ClientContext context;
    found.Clear();
    grpc::Status s = client_b->Search(with_deadline(&context, 30s), search, &found);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_TRUE(found.forwarded());
  EXPECT_EQ(found.served_by(), "a");
  ASSERT_GE(found.hits_size(), 1);
  EXPECT_EQ(found.hits(0).id(), "late");
  EXPECT_EQ(found.guarantee_met(), v1::CONSISTENCY_SESSION);

  // A bounded read in b with a bound b cannot meet (a is silent) is forwarded to a too.
  search.set_consistency(v1::CONSISTENCY_BOUNDED);
  search.set_max_staleness_ms(100);
  std::this_thread::sleep_for(500ms);
  {
    grpc::ClientContext context;
    found.Clear();
    ASSERT_TRUE(client_b->Search(with_deadline(&context, 30s), search, &found).ok());
  }
  EXPECT_TRUE(found.forwarded());
  EXPECT_EQ(found.served_by(), "a");
  EXPECT_EQ(found.hits(0).id(), "late");

  // a stops serving gRPC: b's session read cannot be repaired and is answered locally, flagged
  // stale, with the guarantee it could meet (eventual).
  region_a.stop_grpc();
  search.set_consistency(v1::CONSISTENCY_SESSION);
  {
    grpc::ClientContext context;
    found.Clear();
    grpc::Status s = client_b->Search(with_deadline(&context, 30s), search, &found);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_FALSE(found.forwarded());
  EXPECT_EQ(found.served_by(), "b");
  EXPECT_TRUE(found.stale());
  EXPECT_FALSE(found.session_satisfied());
  EXPECT_EQ(found.guarantee_met(), v1::CONSISTENCY_EVENTUAL);
  for (const v1::SearchHit& hit : found.hits()) EXPECT_NE(hit.id(), "late");
}

}  // namespace
}  // namespace meridian::real::api
