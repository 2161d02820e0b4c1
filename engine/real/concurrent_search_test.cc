// Real threads: readers call RegionNode::search_now under the loop's shared engine lock while
// the loop applies a stream of upserts (the node's search-pool contract, engine_lock.h). Built
// with -fsanitize=thread this is the data-race check of that contract.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/node/region_node.h"
#include "engine/real/event_loop.h"
#include "engine/real/memory_log.h"

namespace meridian::real {
namespace {

constexpr uint32_t kDim = 8;

class NoPeers final : public node::Peers {
 public:
  void forward_search(const std::string&, const node::SearchRequest&,
                      std::function<void(node::SearchResponse)> done) override {
    node::SearchResponse r;
    r.status = Status::unavailable("no peers in this test");
    done(std::move(r));
  }
};

// Vector i is (i, i, ..., i) / 100: its squared L2 distance to the zero query is
// kDim * (i / 100)^2, so every hit's score can be checked against its id.
std::vector<float> embedding_of(int i) { return std::vector<float>(kDim, float(i) / 100); }
std::string id_of(int i) { return "v" + std::to_string(i); }

struct Node {
  explicit Node(IndexKind kind) {
    node::NodeOptions options;
    options.self = {"solo", 1};
    options.regions = {options.self};
    options.fresh_deployment = true;
    CollectionConfig docs;
    docs.name = "docs";
    docs.index.kind = kind;
    docs.index.dimension = kDim;
    docs.index.ivf_nlist = 8;
    docs.index.ivf_nprobe = 8;  // every list: exact, so the checks below hold
    docs.num_shards = 4;
    options.collections = {docs};
    node = std::make_unique<node::RegionNode>(options, node::NodeEnv{loop, loop, loop, log, peers});
  }
  EventLoop loop;
  MemoryLog log{loop};
  NoPeers peers;
  std::unique_ptr<node::RegionNode> node;
};

class ConcurrentSearch : public ::testing::TestWithParam<IndexKind> {};

TEST_P(ConcurrentSearch, ReadersSeeConsistentStateWhileTheLoopAppliesUpserts) {
  Node n(GetParam());
  ASSERT_TRUE(n.node->start().is_ok());
  std::thread loop_thread([&] { n.loop.run(); });

  constexpr int kWrites = 3000;
  std::atomic<int> acknowledged{0};
  std::mutex token_mu;
  node::SessionToken token;  // every acknowledged write; guarded by token_mu
  std::atomic<bool> writing{true};
  std::atomic<uint64_t> answered{0}, waited{0};
  std::atomic<int> failures{0};
  auto fail = [&](const std::string& what) {
    if (failures.fetch_add(1) < 5) ADD_FAILURE() << what;
  };

  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      size_t last_live = 0;
      while (writing.load()) {
        node::SearchRequest request;
        request.collection = "docs";
        request.query.assign(kDim, 0.0f);
        request.k = 5;
        if (t % 2 == 1) {
          request.consistency = node::Consistency::kSession;
          std::lock_guard lock(token_mu);
          request.session = token;
        }
        std::optional<node::SearchResponse> r;
        size_t live = 0;
        {
          std::shared_lock reader(n.loop.engine_lock());
          r = n.node->search_now(request);
          live = n.node->collection("docs")->live_count();
        }
        if (live < last_live) fail("live count went backwards");
        last_live = live;
        if (!r) {
          // Only a session read whose token is not applied yet may need the loop.
          if (request.consistency != node::Consistency::kSession) fail("eventual read not served");
          ++waited;
          continue;
        }
        ++answered;
        if (!r->status.is_ok()) fail(r->status.to_string());
        if (request.consistency == node::Consistency::kSession && !r->session_satisfied) {
          fail("session read answered without its token");
        }
        if (r->hits.size() != std::min<size_t>(5, live)) fail("wrong number of hits");
        for (size_t i = 0; i < r->hits.size(); ++i) {
          const int v = std::stoi(r->hits[i].id.substr(1));
          const float want = kDim * (float(v) / 100) * (float(v) / 100);
          if (std::abs(r->hits[i].score - want) > 1e-3f * (1 + want)) fail("torn hit");
          if (i > 0 && r->hits[i].score < r->hits[i - 1].score) fail("hits out of order");
        }
        // Leave the loop some CPU: four spinning readers on a 2-core machine (or in a
        // sanitizer build) would otherwise slow the writes past their durability timeout.
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    });
  }

  // The writer: posts upserts onto the loop, at most a few hundred unacknowledged at a time.
  for (int i = 0; i < kWrites; ++i) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (i - acknowledged.load() >= 300 && failures.load() == 0 &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    // Spread the writes over about a second, so that they interleave with many searches.
    if (i % 4 == 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    n.loop.post([&, i] {
      node::WriteRequest w;
      w.collection = "docs";
      w.vector_id = id_of(i);
      w.embedding = embedding_of(i);
      n.node->write(std::move(w), [&](node::WriteResponse r) {
        if (!r.status.is_ok()) return fail("write: " + r.status.to_string());
        std::lock_guard lock(token_mu);
        token.observe(r);
        ++acknowledged;
      });
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  size_t live = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(n.loop.run_and_wait([&] { live = n.node->collection("docs")->live_count(); }));
    if (live == size_t(kWrites) && acknowledged.load() == kWrites) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  writing = false;
  for (std::thread& r : readers) r.join();
  EXPECT_EQ(live, size_t(kWrites));
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(answered.load(), 0u);

  // Everything applied: a session read of every write is served without the loop.
  node::SearchRequest request;
  request.collection = "docs";
  request.query.assign(kDim, 0.0f);
  request.consistency = node::Consistency::kSession;
  request.session = token;
  {
    std::shared_lock reader(n.loop.engine_lock());
    std::optional<node::SearchResponse> r = n.node->search_now(request);
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->session_satisfied);
    EXPECT_GE(n.node->counters().searches, answered.load());
  }
  n.loop.stop();
  loop_thread.join();
  std::cout << "searches answered off the loop: " << answered.load()
            << ", session reads that needed the loop: " << waited.load() << "\n";
}

INSTANTIATE_TEST_SUITE_P(IndexKinds, ConcurrentSearch,
                         ::testing::Values(IndexKind::kFlat, IndexKind::kIvf, IndexKind::kHnsw),
                         [](const auto& info) { return std::string(index_kind_name(info.param)); });

TEST(ConcurrentSearch, SearchNowLeavesWaitingAndUnknownCollectionsToTheCaller) {
  Node n(IndexKind::kFlat);
  ASSERT_TRUE(n.node->start().is_ok());
  node::SearchRequest request;
  request.collection = "nope";
  request.query.assign(kDim, 0.0f);
  std::optional<node::SearchResponse> r = n.node->search_now(request);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status.code(), StatusCode::kNotFound);

  request.collection = "docs";
  request.consistency = node::Consistency::kSession;
  node::WriteResponse future_write;
  future_write.shard = 0;
  future_write.origin = 1;
  future_write.sequence = 7;  // nothing written yet
  request.session.observe(future_write);
  EXPECT_FALSE(n.node->search_now(request).has_value());

  request.consistency = node::Consistency::kBounded;
  request.max_staleness = env::kSecond;  // a single region is never stale
  r = n.node->search_now(request);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->status.is_ok());
}

}  // namespace
}  // namespace meridian::real
