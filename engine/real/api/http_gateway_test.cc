#include "engine/real/api/http_gateway.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "engine/real/api/api_test_fixture.h"

namespace meridian::real::api {
namespace {

using nlohmann::json;
using testing::ApiTest;

class HttpTest : public ApiTest {
 protected:
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", http_port_);
    c.set_read_timeout(5, 0);
    return c;
  }
  // Status and parsed body; the body of every answer must be JSON.
  std::pair<int, json> post(const std::string& path, const std::string& body) {
    auto res = client().Post(path.c_str(), body, "application/json");
    EXPECT_TRUE(res) << path;
    if (!res) return {0, json()};
    return {res->status, json::parse(res->body)};
  }
  void expect_error(const std::pair<int, json>& answer, int status, const std::string& code,
                    const std::string& message_part) {
    EXPECT_EQ(answer.first, status) << answer.second.dump();
    ASSERT_TRUE(answer.second.contains("error")) << answer.second.dump();
    EXPECT_EQ(answer.second["error"]["code"], code);
    const std::string message = answer.second["error"]["message"];
    EXPECT_NE(message.find(message_part), std::string::npos) << message;
  }
};

TEST_F(HttpTest, UpsertThenSessionSearchSeesTheWrite) {
  std::string token;
  for (int i = 0; i < 10; ++i) {
    json body = {{"id", "v" + std::to_string(i)},
                 {"embedding", {float(i), 0, 0, 1}},
                 {"payload", {{"fields", {{"n", std::to_string(i)}}}, {"tags", {"even"}}}},
                 {"session_token", token}};
    auto [status, reply] = post("/v1/collections/docs/vectors", body.dump());
    ASSERT_EQ(status, 200) << reply.dump();
    token = reply["session_token"];
  }
  json search = {{"query", {9, 0, 0, 1}},
                 {"k", 2},
                 {"tag", "even"},
                 {"consistency", "session"},
                 {"session_token", token}};
  auto [status, reply] = post("/v1/collections/docs/search", search.dump());
  ASSERT_EQ(status, 200) << reply.dump();
  ASSERT_EQ(reply["hits"].size(), 2u);
  EXPECT_EQ(reply["hits"][0]["id"], "v9");
  EXPECT_EQ(reply["hits"][0]["payload"]["fields"]["n"], "9");
  EXPECT_EQ(reply["hits"][1]["id"], "v8");
  EXPECT_EQ(reply["guarantee_met"], "session");
  EXPECT_EQ(reply["session_satisfied"], true);
  EXPECT_EQ(reply["stale"], false);
}

TEST_F(HttpTest, GetPatchDelete) {
  auto [status, written] =
      post("/v1/collections/docs/vectors", R"({"id": "dir/x", "embedding": [1, 2, 3, 4]})");
  ASSERT_EQ(status, 200) << written.dump();
  auto patched =
      client().Patch("/v1/collections/docs/vectors/dir/x",
                     R"({"set": {"lang": "fr"}, "add_tags": ["t"]})", "application/json");
  ASSERT_TRUE(patched);
  ASSERT_EQ(patched->status, 200) << patched->body;
  json got;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto res = client().Get("/v1/collections/docs/vectors/dir/x");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    got = json::parse(res->body);
    if (got["payload"]["fields"].contains("lang")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(got["id"], "dir/x");
  EXPECT_EQ(got["embedding"], json({1.0, 2.0, 3.0, 4.0}));
  EXPECT_EQ(got["payload"]["fields"]["lang"], "fr");
  auto deleted = client().Delete("/v1/collections/docs/vectors/dir/x");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200) << deleted->body;
  int last = 0;
  for (int attempt = 0; attempt < 100 && last != 404; ++attempt) {
    last = client().Get("/v1/collections/docs/vectors/dir/x")->status;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(last, 404);
}

TEST_F(HttpTest, BadRequestsGetJsonErrorsAndTheNodeKeepsServing) {
  const std::string vectors = "/v1/collections/docs/vectors";
  expect_error(post(vectors, R"({"id": "a", "embedding": [1, 2, 3]})"), 400, "invalid_argument",
               "embedding has 3 dimensions; collection 'docs' has 4");
  expect_error(post(vectors, R"({"id": "a", "embedding": [1, 2, 3, 1e39]})"), 400,
               "invalid_argument", "embedding[3] is not finite");
  expect_error(post(vectors, R"({"id": "a", "embedding": [1, 2, 3, 1e999]})"), 400,
               "invalid_argument", "malformed JSON");
  expect_error(post(vectors, R"({"id": "a", "embedding": [1, 2, "3", 4]})"), 400,
               "invalid_argument", "embedding[2]: must be a number");
  expect_error(post(vectors, R"({"id": "", "embedding": [1, 2, 3, 4]})"), 400, "invalid_argument",
               "vector id is empty");
  expect_error(post(vectors, R"({"id": "a", "embeding": [1, 2, 3, 4]})"), 400, "invalid_argument",
               "unknown field 'embeding'");
  expect_error(post(vectors, R"({"id": "a", "embedding": [1, 2)"), 400, "invalid_argument",
               "malformed JSON");
  expect_error(post(vectors, "[1, 2]"), 400, "invalid_argument", "body must be an object");
  expect_error(post("/v1/collections/nope/vectors", R"({"id": "a", "embedding": [1, 2, 3, 4]})"),
               404, "not_found", "no collection 'nope'");
  json big_payload = {{"id", "a"}, {"embedding", {1, 2, 3, 4}}, {"payload", {{"fields", {}}}}};
  for (int i = 0; i < 5; ++i) {
    big_payload["payload"]["fields"]["f" + std::to_string(i)] = std::string(15 * 1024, 'x');
  }
  expect_error(post(vectors, big_payload.dump()), 413, "too_large", "payload is");
  expect_error(post(vectors, std::string(2 << 20, ' ')), 413, "too_large",
               "larger than the gateway's limit");
  const std::string search = "/v1/collections/docs/search";
  expect_error(post(search, R"({"query": [1, 2, 3, 4], "consistency": "strong"})"), 400,
               "invalid_argument", "consistency: 'strong' is not one of");
  expect_error(post(search, R"({"query": [1, 2, 3, 4], "consistency": "bounded"})"), 400,
               "invalid_argument", "max_staleness_ms: required");
  expect_error(post(search, R"({"query": [1, 2, 3, 4], "k": 0})"), 400, "invalid_argument",
               "k: must be an integer in 1..10000");
  expect_error(post(search, R"({"query": [1, 2, 3, 4], "session_token": "x"})"), 400,
               "invalid_argument", "session_token: session token entry 'x'");
  expect_error(post("/v1/collections", R"({"name": "new"})"), 409, "failed_precondition",
               "static configuration");
  auto missing = client().Get("/v1/nothing-here");
  ASSERT_TRUE(missing);
  expect_error({missing->status, json::parse(missing->body)}, 404, "not_found", "no route");

  // Still serving.
  auto [status, reply] = post(vectors, R"({"id": "a", "embedding": [1, 2, 3, 4]})");
  EXPECT_EQ(status, 200) << reply.dump();
  auto health = client().Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(HttpTest, StatusReportsTheNode) {
  auto [status, written] =
      post("/v1/collections/docs/vectors", R"({"id": "a", "embedding": [1, 2, 3, 4]})");
  ASSERT_EQ(status, 200);
  auto res = client().Get("/v1/status");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  json s = json::parse(res->body);
  EXPECT_EQ(s["region"], "solo");
  EXPECT_EQ(s["counters"]["writes_acknowledged"], 1);
  EXPECT_EQ(s["collections"][0]["name"], "docs");
  EXPECT_EQ(s["collections"][0]["shards"].size(), 4u);
  EXPECT_EQ(s["staleness"][0]["region"], "solo");
}

TEST_F(HttpTest, MetricsArePrometheusText) {
  auto [status, written] =
      post("/v1/collections/docs/vectors", R"({"id": "a", "embedding": [1, 2, 3, 4]})");
  ASSERT_EQ(status, 200);
  auto res = client().Get("/metrics");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(res->body.find("\nmeridian_writes_acknowledged_total{region=\"solo\"} 1\n"),
            std::string::npos)
      << res->body;
  EXPECT_NE(res->body.find("\nmeridian_live_vectors{collection=\"docs\",region=\"solo\"} 1\n"),
            std::string::npos)
      << res->body;
}

TEST_F(HttpTest, HttpsWithMutualTlsRequiresAClusterCertificate) {
  const testing::CertDir& certs = testing::CertDir::get();
  HttpOptions options;
  options.tls = true;
  options.tls_files = {certs.file("ca.pem"), certs.file("node.pem"), certs.file("node.key")};
  HttpGateway https(*service_, options);
  Result<int> port = https.start("127.0.0.1", 0);
  ASSERT_TRUE(port.is_ok()) << port.status().to_string();

  httplib::SSLClient with_cert("127.0.0.1", *port, certs.file("client.pem"),
                               certs.file("client.key"));
  with_cert.set_ca_cert_path(certs.file("ca.pem").c_str());
  with_cert.enable_server_certificate_verification(true);
  auto ok = with_cert.Get("/healthz");
  ASSERT_TRUE(ok) << httplib::to_string(ok.error());
  EXPECT_EQ(ok->status, 200);

  httplib::SSLClient without_cert("127.0.0.1", *port);
  without_cert.set_ca_cert_path(certs.file("ca.pem").c_str());
  without_cert.enable_server_certificate_verification(true);
  EXPECT_FALSE(without_cert.Get("/healthz"));

  httplib::SSLClient rogue("127.0.0.1", *port, certs.file("rogue.pem"), certs.file("rogue.key"));
  rogue.set_ca_cert_path(certs.file("ca.pem").c_str());
  rogue.enable_server_certificate_verification(true);
  EXPECT_FALSE(rogue.Get("/healthz"));
  https.stop();
}

}  // namespace
}  // namespace meridian::real::api
