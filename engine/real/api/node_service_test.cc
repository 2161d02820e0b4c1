#include "engine/real/api/node_service.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>

#include "engine/real/api/api_test_fixture.h"

namespace meridian::real::api {
namespace {

using testing::ApiTest;

TEST(SessionToken, EncodesParsesAndMerges) {
  Result<node::SessionToken> token = parse_session_token("3:1:7,0:2:1,3:1:5");
  ASSERT_TRUE(token.is_ok());
  EXPECT_EQ(encode_session_token(*token), "0:2:1,3:1:7");
  Result<node::SessionToken> more = parse_session_token("3:1:9,1:1:1");
  ASSERT_TRUE(more.is_ok());
  merge_session_token(*token, *more);
  EXPECT_EQ(encode_session_token(*token), "0:2:1,1:1:1,3:1:9");
  EXPECT_EQ(encode_session_token(*parse_session_token("")), "");
  for (const char* bad : {"1:2", "a:1:1", "1:1:1,", "1:70000:1", "1:1:1:1", "-1:1:1"}) {
    EXPECT_FALSE(parse_session_token(bad).is_ok()) << bad;
  }
}

TEST_F(ApiTest, ServiceValidatesBeforeTheLoopHop) {
  node::SearchRequest search;
  search.collection = "docs";
  search.query = {1, 2, 3, 4};
  EXPECT_TRUE(service_->check_search(search).is_ok());
  search.k = 0;
  EXPECT_EQ(service_->check_search(search).code(), StatusCode::kInvalidArgument);
  search.k = 10;
  search.consistency = node::Consistency::kBounded;
  EXPECT_EQ(service_->check_search(search).code(), StatusCode::kInvalidArgument);
  search.max_staleness = 5 * env::kSecond;
  EXPECT_TRUE(service_->check_search(search).is_ok());
  search.consistency = static_cast<node::Consistency>(9);
  EXPECT_EQ(service_->check_search(search).code(), StatusCode::kInvalidArgument);
  search.consistency = node::Consistency::kSession;
  search.session = *parse_session_token("0:2:1");  // region 2 is not in this deployment
  EXPECT_EQ(service_->check_search(search).code(), StatusCode::kInvalidArgument);

  node::WriteRequest write;
  write.collection = "docs";
  write.vector_id = "a";
  write.embedding = {1, 2, 3, 4};
  EXPECT_TRUE(service_->check_write(write, {}).is_ok());
  write.payload.tags.insert(std::string(kMaxStringBytes + 1, 't'));
  EXPECT_EQ(service_->check_write(write, {}).code(), StatusCode::kTooLarge);
}

TEST_F(ApiTest, ServiceWriteExtendsTheSessionAndSearchReportsWhatWasMet) {
  node::SessionToken session;
  for (const char* id : {"a", "b", "c"}) {
    node::WriteRequest write;
    write.collection = "docs";
    write.vector_id = id;
    write.embedding = {1, 2, 3, 4};
    WriteResult r = service_->write_sync(write, session);
    ASSERT_TRUE(r.response.status.is_ok()) << r.response.status.to_string();
    session = r.session;
  }
  size_t entries = 0;
  for (const auto& [key, sequence] : session.entries()) entries += sequence;
  EXPECT_EQ(entries, 3u);  // every write is in the token
  node::SearchRequest search;
  search.collection = "docs";
  search.query = {1, 2, 3, 4};
  search.consistency = node::Consistency::kSession;
  search.session = session;
  SearchResult r = service_->search_sync(search);
  ASSERT_TRUE(r.response.status.is_ok());
  EXPECT_EQ(r.response.hits.size(), 3u);
  EXPECT_EQ(r.guarantee_met, node::Consistency::kSession);
  ASSERT_EQ(r.per_origin.size(), 1u);
  EXPECT_EQ(r.per_origin[0].staleness, 0);
}

node::SearchRequest docs_search() {
  node::SearchRequest search;
  search.collection = "docs";
  search.query = {1, 2, 3, 4};
  return search;
}

std::string thread_name() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

TEST_F(ApiTest, SearchesRunOnTheSearchWorkers) {
  std::promise<std::string> ran_on;
  service_->search(docs_search(), [&](SearchResult r) {
    EXPECT_TRUE(r.response.status.is_ok()) << r.response.status.to_string();
    ran_on.set_value(thread_name());
  });
  EXPECT_EQ(ran_on.get_future().get().rfind("search-", 0), 0u);
}

TEST_F(ApiTest, StoppingTheSearchPoolAnswersQueuedSearchesUnavailable) {
  // The loop holds the engine lock exclusively while this task runs: the workers block on it
  // with one search each and the others wait in the queue.
  std::promise<void> holding;
  loop_->post([&] {
    holding.set_value();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  });
  holding.get_future().wait();
  constexpr int kSearches = 20;
  std::atomic<int> ok{0}, unavailable{0}, other{0};
  for (int i = 0; i < kSearches; ++i) {
    service_->search(docs_search(), [&](SearchResult r) {
      const StatusCode code = r.response.status.code();
      ++(r.response.status.is_ok() ? ok : code == StatusCode::kUnavailable ? unavailable : other);
    });
  }
  service_->stop_searches();  // waits for the searches the workers already hold
  EXPECT_EQ(ok + unavailable + other, kSearches);
  EXPECT_EQ(other.load(), 0);
  EXPECT_GE(unavailable.load(), kSearches - int(hardware_threads()));
  EXPECT_EQ(service_->search_sync(docs_search()).response.status.code(), StatusCode::kUnavailable);
}

TEST_F(ApiTest, WithoutSearchWorkersSearchesRunOnTheLoop) {
  NodeServiceOptions options;
  options.search_threads = 0;
  NodeService on_loop(*loop_, *node_, options);
  std::promise<std::string> ran_on;
  on_loop.search(docs_search(), [&](SearchResult r) {
    EXPECT_TRUE(r.response.status.is_ok()) << r.response.status.to_string();
    ran_on.set_value(thread_name());
  });
  EXPECT_EQ(ran_on.get_future().get().rfind("search-", 0), std::string::npos);
}

// A second service with read_on_caller over the fixture's node, which holds vector "a".
class ReadOnCallerTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    node::WriteRequest write;
    write.collection = "docs";
    write.vector_id = "a";
    write.embedding = {1, 2, 3, 4};
    ASSERT_TRUE(service_->write_sync(write, {}).response.status.is_ok());
    NodeServiceOptions options;
    options.read_on_caller = true;
    on_caller_ = std::make_unique<NodeService>(*loop_, *node_, options);
  }
  void TearDown() override {
    on_caller_.reset();
    ApiTest::TearDown();
  }
  // Makes the loop hold the engine lock exclusively for `ms` from now on (a task that sleeps).
  void hold_the_loop(int ms) {
    std::promise<void> holding;
    loop_->post([&holding, ms] {
      holding.set_value();
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    });
    holding.get_future().wait();
  }
  // How many of `n` reads made by `read(done)` answered on this thread. The loop takes the lock
  // for iterations with work and at least every 5 ms, so one try may meet it held.
  int answered_here(int n, const std::function<void(std::function<void()>)>& read) {
    int here = 0;
    for (int i = 0; i < n; ++i) {
      std::promise<std::thread::id> ran_on;
      read([&ran_on] { ran_on.set_value(std::this_thread::get_id()); });
      if (ran_on.get_future().get() == std::this_thread::get_id()) ++here;
    }
    return here;
  }
  std::unique_ptr<NodeService> on_caller_;
};

TEST_F(ReadOnCallerTest, SearchesRunOnTheCallingThreadUnlessTheLoopHoldsTheLock) {
  EXPECT_GT(answered_here(50,
                          [&](std::function<void()> done) {
                            on_caller_->search(docs_search(), [done](SearchResult r) {
                              EXPECT_TRUE(r.response.status.is_ok());
                              done();
                            });
                          }),
            25);
  // While the loop holds the lock, a search is not waited for on the calling thread: it goes to
  // a worker, which answers once the loop lets go.
  hold_the_loop(300);
  std::promise<std::string> ran_on;
  const auto start = std::chrono::steady_clock::now();
  on_caller_->search(docs_search(), [&](SearchResult r) {
    EXPECT_TRUE(r.response.status.is_ok()) << r.response.status.to_string();
    ran_on.set_value(thread_name());
  });
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
  EXPECT_EQ(ran_on.get_future().get().rfind("search-", 0), 0u);
}

TEST_F(ReadOnCallerTest, GetsRunOnTheCallingThreadUnlessTheLoopHoldsTheLock) {
  EXPECT_GT(answered_here(50,
                          [&](std::function<void()> done) {
                            on_caller_->get("docs", "a", [done](Result<VectorView> v) {
                              EXPECT_TRUE(v.is_ok());
                              done();
                            });
                          }),
            25);
  EXPECT_EQ(on_caller_->get_sync("docs", "zz").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(on_caller_->get_sync("nope", "a").status().code(), StatusCode::kNotFound);
  // While the loop holds the lock, the Get hops to the loop, which answers after its task.
  hold_the_loop(300);
  std::promise<std::thread::id> ran_on;
  const auto start = std::chrono::steady_clock::now();
  on_caller_->get("docs", "a", [&](Result<VectorView> v) {
    EXPECT_TRUE(v.is_ok()) << v.status().to_string();
    ran_on.set_value(std::this_thread::get_id());
  });
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
  EXPECT_NE(ran_on.get_future().get(), std::this_thread::get_id());
}

TEST_F(ApiTest, ServiceAnswersUnavailableOnceTheLoopHasStopped) {
  loop_->stop();
  loop_thread_.join();
  node::WriteRequest write;
  write.collection = "docs";
  write.vector_id = "a";
  write.embedding = {1, 2, 3, 4};
  EXPECT_EQ(service_->write_sync(write, {}).response.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(service_->ping_sync(std::chrono::milliseconds(100)).code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace meridian::real::api
