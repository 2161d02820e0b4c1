// UpsertBatch: NodeService::write_batch and its gRPC and HTTP front ends.
#include <grpcpp/client_context.h>
#include <httplib.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/real/api/api_test_fixture.h"
#include "engine/real/api/node_service.h"

namespace meridian::real::api {
namespace {

using nlohmann::json;
using testing::ApiTest;

node::WriteRequest upsert(const std::string& id, std::vector<float> embedding) {
  node::WriteRequest w;
  w.collection = "docs";
  w.vector_id = id;
  w.embedding = std::move(embedding);
  return w;
}

uint64_t token_writes(const node::SessionToken& token) {
  uint64_t n = 0;
  for (const auto& [key, sequence] : token.entries()) n += sequence;
  return n;
}

TEST_F(ApiTest, BatchWritesEveryItemInOrderAndExtendsTheSession) {
  std::vector<node::WriteRequest> items;
  for (int i = 0; i < 4; ++i) items.push_back(upsert("v" + std::to_string(i), {float(i), 0, 0, 1}));
  items.push_back(upsert("v1", {7, 7, 7, 7}));  // the same id again: the later item wins
  BatchWriteResult r = service_->write_batch_sync(items, {});
  ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  EXPECT_EQ(r.origin, 1u);
  EXPECT_EQ(r.acknowledged, 5u);
  ASSERT_EQ(r.items.size(), 5u);
  for (size_t i = 1; i < r.items.size(); ++i) {
    EXPECT_GT(r.items[i].timestamp, r.items[i - 1].timestamp) << "item " << i;
  }
  EXPECT_EQ(r.items[4].shard, r.items[1].shard);  // routed by id
  EXPECT_EQ(token_writes(r.session), 5u);
  EXPECT_EQ(node_->counters().writes_acknowledged, 5u);

  Result<VectorView> v1 = service_->get_sync("docs", "v1");
  ASSERT_TRUE(v1.is_ok()) << v1.status().to_string();
  EXPECT_EQ(v1->embedding, (std::vector<float>{7, 7, 7, 7}));

  node::SearchRequest search;
  search.collection = "docs";
  search.query = {3, 0, 0, 1};
  search.k = 1;
  search.consistency = node::Consistency::kSession;
  search.session = r.session;
  SearchResult found = service_->search_sync(search);
  ASSERT_TRUE(found.response.status.is_ok());
  ASSERT_EQ(found.response.hits.size(), 1u);
  EXPECT_EQ(found.response.hits[0].id, "v3");
}

TEST_F(ApiTest, BatchWithOneInvalidItemWritesNothing) {
  std::vector<node::WriteRequest> items = {upsert("a", {1, 2, 3, 4}), upsert("b", {1, 2, 3, 4}),
                                           upsert("c", {1, 2, 3}), upsert("d", {1, 2, 3, 4})};
  BatchWriteResult r = service_->write_batch_sync(items, {});
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("items[2] (id 'c'): embedding has 3 dimensions"),
            std::string::npos)
      << r.status.message();
  EXPECT_EQ(r.acknowledged, 0u);
  EXPECT_EQ(node_->counters().writes_accepted, 0u);

  EXPECT_EQ(service_->write_batch_sync({}, {}).status.code(), StatusCode::kInvalidArgument);
  std::vector<node::WriteRequest> too_many(kMaxBatchItems + 1, upsert("x", {1, 2, 3, 4}));
  EXPECT_EQ(service_->write_batch_sync(too_many, {}).status.code(), StatusCode::kTooLarge);
  items = {upsert("a", {1, 2, 3, 4}), upsert("b", {1, 2, 3, 4})};
  items[1].collection = "other";
  EXPECT_EQ(service_->write_batch_sync(items, {}).status.code(), StatusCode::kInvalidArgument);
  items[1].collection = "docs";
  items[1].op = Op::kDelete;
  EXPECT_EQ(service_->write_batch_sync(items, {}).status.code(), StatusCode::kInvalidArgument);
  items = {upsert("a", {1, 2, 3, 4})};
  items[0].collection = "nope";
  EXPECT_EQ(service_->write_batch_sync(items, {}).status.code(), StatusCode::kNotFound);
  EXPECT_EQ(node_->counters().writes_accepted, 0u);
}

// A node that admits at most two unacknowledged writes: a batch of five gets the first two
// acknowledged and the rest refused, and the call says so.
class SmallAdmissionTest : public ApiTest {
 protected:
  void adjust(node::NodeOptions& options) override { options.max_pending_writes = 2; }
};

TEST_F(SmallAdmissionTest, BatchReportsTheFirstItemNotAcknowledged) {
  std::vector<node::WriteRequest> items;
  for (int i = 0; i < 5; ++i) items.push_back(upsert("v" + std::to_string(i), {1, 2, 3, 4}));
  BatchWriteResult r = service_->write_batch_sync(items, {});
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status.message().find("items[2] (id 'v2') not acknowledged: too many writes "
                                    "pending"),
            std::string::npos)
      << r.status.message();
  EXPECT_NE(r.status.message().find("2 of 5 items acknowledged"), std::string::npos);
  EXPECT_EQ(r.acknowledged, 2u);
  ASSERT_EQ(r.items.size(), 5u);
  EXPECT_TRUE(r.items[1].status.is_ok());
  EXPECT_FALSE(r.items[4].status.is_ok());
  EXPECT_EQ(token_writes(r.session), 2u);  // only what was acknowledged
  EXPECT_TRUE(service_->get_sync("docs", "v1").is_ok());
  EXPECT_EQ(service_->get_sync("docs", "v2").status().code(), StatusCode::kNotFound);
}

TEST_F(ApiTest, GrpcUpsertBatch) {
  auto stub = client_stub();
  v1::UpsertBatchRequest request;
  request.set_collection("docs");
  for (int i = 0; i < 3; ++i) {
    v1::UpsertBatchRequest::Item* item = request.add_items();
    item->set_id("g" + std::to_string(i));
    for (float x : {float(i), 1.0f, 2.0f, 3.0f}) item->add_embedding(x);
    (*item->mutable_payload()->mutable_fields())["n"] = std::to_string(i);
  }
  v1::UpsertBatchResponse response;
  {
    grpc::ClientContext context;
    grpc::Status s = stub->UpsertBatch(&context, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(response.origin(), 1u);
  ASSERT_EQ(response.acks_size(), 3);
  EXPECT_GT(response.acks(2).timestamp(), response.acks(0).timestamp());
  EXPECT_GT(response.session().entries_size(), 0);
  Result<VectorView> g2 = service_->get_sync("docs", "g2");
  ASSERT_TRUE(g2.is_ok());
  EXPECT_EQ(g2->payload.fields.at("n"), "2");

  request.mutable_items(1)->set_embedding(0, std::nanf(""));
  grpc::ClientContext context;
  grpc::Status s = stub->UpsertBatch(&context, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("items[1]"), std::string::npos) << s.error_message();
  EXPECT_EQ(node_->counters().writes_accepted, 3u);  // the bad batch wrote nothing
}

TEST_F(ApiTest, HttpUpsertBatch) {
  httplib::Client client("127.0.0.1", http_port_);
  client.set_read_timeout(5, 0);
  json body = {{"items",
                {{{"id", "h0"}, {"embedding", {0, 0, 0, 1}}},
                 {{"id", "h1"}, {"embedding", {1, 0, 0, 1}}, {"payload", {{"tags", {"t"}}}}}}}};
  auto res = client.Post("/v1/collections/docs/vectors:batch", body.dump(), "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json reply = json::parse(res->body);
  EXPECT_EQ(reply["acks"].size(), 2u);
  const std::string token = reply["session_token"];
  EXPECT_FALSE(token.empty());

  struct Bad {
    json body;
    int status;
    const char* message;
  };
  const Bad bad[] = {
      {{{"items",
         {{{"id", "x"}, {"embedding", {0, 0, 0, 1}}},
          {{"id", "y"}, {"embedding", {"a", 0, 0, 1}}}}}},
       400,
       "items[1].embedding[0]: must be a number"},
      {{{"items", {{{"id", "x"}, {"embedding", {0, 0, 0, 1}}, {"session_token", ""}}}}},
       400,
       "items[0]: unknown field 'session_token'"},
      {{{"items", json::array()}}, 400, "items: empty"},
      {{{"items", {1}}}, 400, "items[0]: must be an object"},
      {{{"vectors", json::array()}}, 400, "unknown field 'vectors'"},
  };
  for (const Bad& b : bad) {
    auto r = client.Post("/v1/collections/docs/vectors:batch", b.body.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, b.status) << r->body;
    EXPECT_NE(r->body.find(b.message), std::string::npos) << r->body;
  }
  auto unknown = client.Post("/v1/collections/nope/vectors:batch", body.dump(), "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(node_->counters().writes_accepted, 2u);
}

}  // namespace
}  // namespace meridian::real::api
