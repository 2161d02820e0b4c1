#include "engine/real/api/grpc_server.h"

#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>

#include "engine/core/rsync_delta.h"
#include "engine/core/segment_file.h"
#include "engine/core/shard_digest.h"
#include "engine/core/shard_snapshot.h"
#include "engine/real/api/api_test_fixture.h"
#include "engine/real/api/grpc_client.h"

namespace meridian::real::api {
namespace {

using testing::ApiTest;
using testing::CertDir;

struct Call {
  grpc::ClientContext context;
  explicit Call(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    context.set_deadline(std::chrono::system_clock::now() + timeout);
  }
};

v1::UpsertRequest upsert(const std::string& id, std::vector<float> embedding) {
  v1::UpsertRequest r;
  r.set_collection("docs");
  r.set_id(id);
  r.mutable_embedding()->Add(embedding.begin(), embedding.end());
  return r;
}

void set_query(v1::SearchRequest& r, std::vector<float> q) {
  r.clear_query();
  r.mutable_query()->Add(q.begin(), q.end());
}

grpc::Status do_upsert(v1::Meridian::Stub& stub, const v1::UpsertRequest& request,
                       v1::WriteResponse* response) {
  Call call;
  return stub.Upsert(&call.context, request, response);
}

// ---- mutual TLS ----

TEST_F(ApiTest, MutualTlsClientWithClusterCertificateIsServed) {
  auto stub = client_stub();
  v1::WriteResponse response;
  grpc::Status s = do_upsert(*stub, upsert("a", {1, 2, 3, 4}), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.origin(), 1u);
  EXPECT_EQ(response.sequence(), 1u);
  ASSERT_EQ(response.session().entries_size(), 1);
}

TEST_F(ApiTest, MutualTlsClientWithoutCertificateIsRefused) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = client_pem_.ca;  // trusts the server, presents nothing
  auto stub =
      v1::Meridian::NewStub(grpc::CreateChannel(grpc_address_, grpc::SslCredentials(options)));
  v1::WriteResponse response;
  grpc::Status s = do_upsert(*stub, upsert("a", {1, 2, 3, 4}), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(node_->counters().writes_accepted, 0u);
}

TEST_F(ApiTest, MutualTlsClientFromAnotherCaIsRefused) {
  TlsPem rogue = CertDir::get().pem("rogue", "rogue-ca");
  rogue.ca = client_pem_.ca;  // trusts the real server; its own certificate is from elsewhere
  auto stub = make_stub(grpc_address_, rogue);
  v1::WriteResponse response;
  grpc::Status s = do_upsert(*stub, upsert("a", {1, 2, 3, 4}), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(node_->counters().writes_accepted, 0u);
}

TEST_F(ApiTest, PlaintextClientIsRefused) {
  auto stub =
      v1::Meridian::NewStub(grpc::CreateChannel(grpc_address_, grpc::InsecureChannelCredentials()));
  v1::WriteResponse response;
  grpc::Status s = do_upsert(*stub, upsert("a", {1, 2, 3, 4}), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
}

// ---- semantics ----

TEST_F(ApiTest, UpsertThenSessionSearchSeesTheWrite) {
  auto stub = client_stub();
  v1::SessionToken session;
  for (int i = 0; i < 20; ++i) {
    v1::UpsertRequest request = upsert("v" + std::to_string(i), {float(i), 0, 0, 1});
    *request.mutable_session() = session;
    v1::WriteResponse response;
    ASSERT_TRUE(do_upsert(*stub, request, &response).ok());
    session = response.session();
  }
  EXPECT_GE(session.entries_size(), 2);  // 20 ids over 4 shards
  v1::SearchRequest search;
  search.set_collection("docs");
  set_query(search, {19, 0, 0, 1});
  search.set_k(3);
  search.set_consistency(v1::CONSISTENCY_SESSION);
  *search.mutable_session() = session;
  v1::SearchResponse response;
  Call call;
  grpc::Status s = stub->Search(&call.context, search, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.hits_size(), 3);
  EXPECT_EQ(response.hits(0).id(), "v19");
  EXPECT_EQ(response.hits(0).score(), 0.0f);
  EXPECT_TRUE(response.session_satisfied());
  EXPECT_EQ(response.guarantee_met(), v1::CONSISTENCY_SESSION);
  EXPECT_EQ(response.served_by(), "solo");
  ASSERT_EQ(response.staleness_per_origin_size(), 1);
  EXPECT_EQ(response.staleness_per_origin(0).region(), "solo");
}

TEST_F(ApiTest, PatchGetDeleteRoundTrip) {
  auto stub = client_stub();
  v1::UpsertRequest up = upsert("x", {1, 1, 1, 1});
  (*up.mutable_payload()->mutable_fields())["lang"] = "en";
  up.mutable_payload()->add_tags("red");
  v1::WriteResponse written;
  ASSERT_TRUE(do_upsert(*stub, up, &written).ok());

  v1::PatchPayloadRequest patch;
  patch.set_collection("docs");
  patch.set_id("x");
  patch.add_add_tags("blue");
  patch.add_remove_tags("red");
  *patch.mutable_session() = written.session();
  v1::WriteResponse patched;
  {
    Call call;
    ASSERT_TRUE(stub->PatchPayload(&call.context, patch, &patched).ok());
  }
  EXPECT_EQ(patched.sequence(), 2u);
  EXPECT_EQ(patched.session().entries(0).sequence(), 2u);

  // Get reads the local replica (eventual): wait for the patch to be applied.
  v1::GetResponse got;
  for (int attempt = 0; attempt < 100; ++attempt) {
    Call call;
    v1::GetRequest get;
    get.set_collection("docs");
    get.set_id("x");
    got.Clear();
    ASSERT_TRUE(stub->Get(&call.context, get, &got).ok());
    if (got.payload().tags_size() == 1 && got.payload().tags(0) == "blue") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(got.payload().fields().at("lang"), "en");
  ASSERT_EQ(got.payload().tags_size(), 1);
  EXPECT_EQ(got.payload().tags(0), "blue");
  EXPECT_EQ(got.embedding_size(), 4);

  v1::DeleteRequest del;
  del.set_collection("docs");
  del.set_id("x");
  v1::WriteResponse deleted;
  {
    Call call;
    ASSERT_TRUE(stub->Delete(&call.context, del, &deleted).ok());
  }
  grpc::Status missing;
  for (int attempt = 0; attempt < 100; ++attempt) {
    Call call;
    v1::GetRequest get;
    get.set_collection("docs");
    get.set_id("x");
    v1::GetResponse ignored;
    missing = stub->Get(&call.context, get, &ignored);
    if (!missing.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(missing.error_message().find("no vector 'x'"), std::string::npos);
}

TEST_F(ApiTest, BadRequestsAreRejectedAndTheNodeKeepsServing) {
  auto stub = client_stub();
  auto expect_code = [&](const v1::UpsertRequest& request, grpc::StatusCode code,
                         const std::string& message_part) {
    v1::WriteResponse response;
    grpc::Status s = do_upsert(*stub, request, &response);
    EXPECT_EQ(s.error_code(), code) << s.error_message();
    EXPECT_NE(s.error_message().find(message_part), std::string::npos) << s.error_message();
  };
  expect_code(upsert("a", {1, 2, 3}), grpc::StatusCode::INVALID_ARGUMENT,
              "embedding has 3 dimensions; collection 'docs' has 4");
  expect_code(upsert("a", {1, std::nanf(""), 3, 4}), grpc::StatusCode::INVALID_ARGUMENT,
              "embedding[1] is not finite");
  expect_code(upsert("a", {1, std::numeric_limits<float>::infinity(), 3, 4}),
              grpc::StatusCode::INVALID_ARGUMENT, "embedding[1] is not finite");
  expect_code(upsert("", {1, 2, 3, 4}), grpc::StatusCode::INVALID_ARGUMENT, "vector id is empty");
  v1::UpsertRequest unknown = upsert("a", {1, 2, 3, 4});
  unknown.set_collection("nope");
  expect_code(unknown, grpc::StatusCode::NOT_FOUND, "no collection 'nope'");
  v1::UpsertRequest oversized = upsert("a", {1, 2, 3, 4});
  for (int i = 0; i < 5; ++i) {
    (*oversized.mutable_payload()->mutable_fields())["f" + std::to_string(i)] =
        std::string(15 * 1024, 'x');
  }
  expect_code(oversized, grpc::StatusCode::INVALID_ARGUMENT, "payload is");
  v1::UpsertRequest bad_token = upsert("a", {1, 2, 3, 4});
  auto* entry = bad_token.mutable_session()->add_entries();
  entry->set_shard(99);
  entry->set_origin(1);
  entry->set_sequence(1);
  expect_code(bad_token, grpc::StatusCode::INVALID_ARGUMENT, "session token entry 99:1:1");
  // Above the 1 MiB message limit: refused by gRPC before the handler.
  v1::UpsertRequest huge = upsert("a", {1, 2, 3, 4});
  (*huge.mutable_payload()->mutable_fields())["blob"] = std::string(2 << 20, 'x');
  v1::WriteResponse ignored;
  EXPECT_EQ(do_upsert(*stub, huge, &ignored).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  v1::SearchRequest search;
  search.set_collection("docs");
  set_query(search, {1, 2, 3, 4});
  search.set_consistency(static_cast<v1::Consistency>(7));
  v1::SearchResponse found;
  {
    Call call;
    grpc::Status s = stub->Search(&call.context, search, &found);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("consistency 7"), std::string::npos) << s.error_message();
  }
  search.set_consistency(v1::CONSISTENCY_BOUNDED);  // without max_staleness_ms
  {
    Call call;
    grpc::Status s = stub->Search(&call.context, search, &found);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("max_staleness_ms"), std::string::npos);
  }
  search.set_max_staleness_ms(60'000);
  set_query(search, {1, 2, 3, 4, 5});
  {
    Call call;
    EXPECT_EQ(stub->Search(&call.context, search, &found).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  v1::CreateCollectionRequest create;
  create.set_name("new");
  v1::CreateCollectionResponse created;
  {
    Call call;
    EXPECT_EQ(stub->CreateCollection(&call.context, create, &created).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }

  // Still serving.
  v1::WriteResponse ok;
  ASSERT_TRUE(do_upsert(*stub, upsert("a", {1, 2, 3, 4}), &ok).ok());
  set_query(search, {1, 2, 3, 4});
  {
    Call call;
    grpc::Status s = stub->Search(&call.context, search, &found);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(found.guarantee_met(), v1::CONSISTENCY_BOUNDED);
}

TEST_F(ApiTest, NodeStatusReportsFrontiersLagAndCounters) {
  auto stub = client_stub();
  v1::WriteResponse written;
  ASSERT_TRUE(do_upsert(*stub, upsert("a", {1, 2, 3, 4}), &written).ok());
  v1::NodeStatusResponse status;
  for (int attempt = 0; attempt < 100; ++attempt) {
    Call call;
    status.Clear();
    ASSERT_TRUE(stub->NodeStatus(&call.context, v1::NodeStatusRequest(), &status).ok());
    if (status.counters().records_applied() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(status.region(), "solo");
  EXPECT_EQ(status.counters().writes_acknowledged(), 1u);
  EXPECT_EQ(status.counters().records_applied(), 1u);
  ASSERT_EQ(status.collections_size(), 1);
  const v1::CollectionStatus& docs = status.collections(0);
  EXPECT_EQ(docs.name(), "docs");
  EXPECT_EQ(docs.live_vectors(), 1u);
  ASSERT_EQ(docs.shards_size(), 4);
  const v1::ShardStatus& shard = docs.shards(int(written.shard()));
  EXPECT_EQ(shard.writes_accepted_here(), 1u);
  ASSERT_EQ(shard.origins_size(), 1);
  EXPECT_EQ(shard.origins(0).frontier(), 1u);
  EXPECT_EQ(shard.origins(0).end_offset(), 1u);
  EXPECT_EQ(shard.origins(0).consumed_offset(), 1u);
  EXPECT_EQ(shard.origins(0).backlog(), 0u);
}

TEST_F(ApiTest, ASecondServerOnTheSamePortFailsToStart) {
  GrpcServer second_grpc(*service_);
  EXPECT_EQ(second_grpc.start(grpc_address_, node_pem_).status().code(), StatusCode::kUnavailable);
  HttpGateway second_http(*service_, HttpOptions{});
  EXPECT_EQ(second_http.start("127.0.0.1", http_port_).status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace meridian::real::api

namespace meridian::real::api::testing {
namespace {

// The catch-up RPC end to end: a lagging side's signature of an empty shard, the node's delta
// over mTLS gRPC, patched and verified exactly as RegionNode::install_shard_delta does.
TEST_F(ApiTest, FetchShardDeltaReturnsAVerifiableDeltaToTheNodesSnapshot) {
  auto stub = client_stub();
  for (int i = 0; i < 30; ++i) {
    v1::WriteResponse response;
    ASSERT_TRUE(
        do_upsert(*stub, upsert("v" + std::to_string(i), {float(i), 1, 2, 3}), &response).ok());
  }
  CollectionConfig config;
  config.name = "docs";
  config.index.dimension = kDimension;
  config.num_shards = 4;
  SegmentHeader header;
  header.collection = "docs";
  header.shard_index = 1;
  header.num_shards = 4;
  header.dimension = kDimension;
  const std::string basis = write_snapshot_segment(header, ShardReplica(1));
  v1::ShardDeltaRequest request;
  request.set_collection("docs");
  request.set_shard(1);
  request.set_signature(*rsync_signature(basis));
  v1::ShardDeltaResponse response;
  Call call;
  grpc::Status s = stub->FetchShardDelta(&call.context, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.served_by(), "solo");
  Result<std::string> patched = rsync_patch(basis, response.delta());
  ASSERT_TRUE(patched.is_ok()) << patched.status().to_string();
  EXPECT_EQ(patched->size(), response.snapshot_bytes());
  Result<Segment> segment = read_segment(*patched);
  ASSERT_TRUE(segment.is_ok()) << segment.status().to_string();
  ASSERT_TRUE(segment->replica.has_value());
  EXPECT_GT(segment->replica->live_count(), 0u);
  EXPECT_EQ(to_hex(digest_shard(*segment->replica).root), response.digest_root());

  v1::ShardDeltaRequest bad = request;
  bad.set_collection("nope");
  Call call2;
  EXPECT_EQ(stub->FetchShardDelta(&call2.context, bad, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  bad = request;
  bad.set_signature("garbage");
  Call call3;
  EXPECT_FALSE(stub->FetchShardDelta(&call3.context, bad, &response).ok());
}

// The digest RPC carries the stable frontiers both ways: the answer is taken at the larger of
// the requester's and the node's. And a requester whose version vector differs gets the node's
// vector and no digest (the node does not pass over the shard for nothing).
TEST_F(ApiTest, FetchShardDigestAgreesOnTheStableFrontierAndComparesVersionVectors) {
  auto stub = client_stub();
  v1::WriteResponse written;
  ASSERT_TRUE(do_upsert(*stub, upsert("v", {1, 1, 2, 3}), &written).ok());
  v1::ShardDigestRequest request;
  request.set_collection("docs");
  request.set_shard(written.shard());
  request.set_stable_frontier(uint64_t(1) << 62);  // far ahead of anything the node has
  v1::ShardDigestResponse response;
  Call call;
  grpc::Status s = stub->FetchShardDigest(&call.context, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.stable_frontier(), uint64_t(1) << 62);
  EXPECT_FALSE(response.digest_root().empty());

  std::string empty_vector;
  encode_version_vector(VersionVector(), &empty_vector);
  request.set_version_vector(empty_vector);  // behind the node, which holds the write
  v1::ShardDigestResponse behind;
  Call call1;
  s = stub->FetchShardDigest(&call1.context, request, &behind);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(behind.digest_root().empty());
  ASSERT_NE(behind.version_vector(), empty_vector);

  request.set_version_vector(behind.version_vector());  // now equal
  v1::ShardDigestResponse equal;
  Call call2;
  s = stub->FetchShardDigest(&call2.context, request, &equal);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(equal.digest_root(), response.digest_root());

  request.set_version_vector("junk");
  v1::ShardDigestResponse bad;
  Call call3;
  EXPECT_EQ(stub->FetchShardDigest(&call3.context, request, &bad).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace meridian::real::api::testing
