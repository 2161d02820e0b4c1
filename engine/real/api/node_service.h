// NodeService: the data plane's operations in engine types, shared by the gRPC service and the
// HTTP gateway so that both front ends have the same semantics (docs/api.md).
//
// Each operation (1) validates the request without touching the node (configuration is copied
// at construction and immutable, so validation is thread-safe), (2) hops onto the node's event
// loop with EventLoop::post, where it calls RegionNode, and (3) hands the answer to `done`.
// Server threads never touch the RegionNode themselves: the engine is single-threaded.
//
// Searches are the exception (node_service_search.cc): with search_threads > 0 they go to a
// pool of that many workers, which take the loop's engine lock shared and call the node's
// thread-compatible RegionNode::search_now, so FAISS runs there, concurrently, while the loop
// keeps applying replication (it waits only for the searches already running). What search_now
// cannot answer (a session read that must wait for its token, a bounded read that must be
// forwarded) hops to the loop as before. Why a pool of our own rather than gRPC's callback
// threads: those are a handful (gRPC 1.51's `nexting_thread`s) and every RPC's callbacks go
// through them; a wait for the engine lock there while the loop applies a batch would stall
// every other call of the server, writes included. With read_on_caller (meridian-node's
// default) a search first *tries* the lock on the calling thread and, if it is free, runs there
// (tens of microseconds of FAISS, never a wait); only if the loop holds it does the search go
// to a worker. That saves a hand-off (a wake-up and context switches) per search: on the 2-core
// benchmark machine it cut p50 at 2,000 searches/s from 21-43 ms to 5-9 ms and raised the
// ceiling by 11-27 % (docs/benchmarks.md, section 2). Gets do the same: on the calling thread
// if the lock is free, else on the loop.
//
// `done` runs exactly once: on the loop thread, on a search worker, or on the calling thread
// when the search ran there or the request is rejected before the hop (invalid, unknown
// collection, search queue full) or the loop (or the search pool) has stopped. It must not block
// for long (it runs on the engine's thread or a search worker). The *_sync variants wait for the
// answer (for thread-per-request servers such as the HTTP gateway) for at most `call_timeout`, and
// answer unavailable if the loop stops or the time runs out.
//
// Validation beyond the engine's own (engine/core/mutation.h limits, dimension, finiteness):
// session tokens must name shards of the collection and regions of the deployment (at most
// kMaxSessionEntries entries); bounded reads need max_staleness in 1 ms..1 day; k in
// 1..kMaxSearchK; a tag is 1..kMaxStringBytes bytes.
//
// REQUIRES: the loop and the node outlive the service and every call in flight; the node is
// started. Construct on the loop thread or before the loop runs. Destruction stops the search
// pool (stop_searches()).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/collection.h"
#include "engine/core/status.h"
#include "engine/node/region_node.h"
#include "engine/node/requests.h"
#include "engine/real/event_loop.h"
#include "engine/real/worker_pool.h"

namespace meridian::real::api {

inline constexpr size_t kMaxSessionEntries = 65536;
// Items of one write_batch call (UpsertBatch). A batch is one loop hop, so this also bounds
// how long one call keeps the loop from everything else (~10 ms of encoding at 4096).
inline constexpr size_t kMaxBatchItems = 4096;
inline constexpr env::TimeNs kMaxBoundedStaleness = 86'400 * env::kSecond;

struct OriginStaleness {
  std::string region;
  RegionId id = 0;
  env::TimeNs staleness = 0;
};

struct WriteResult {
  node::WriteResponse response;  // response.status says whether the write was acknowledged
  node::SessionToken session;    // the request's token, plus this write when acknowledged
};

// The answer to write_batch: one engine WriteResponse per item, in request order.
struct BatchWriteResult {
  // ok iff every item was acknowledged; otherwise the first item's failure (its code), with
  // its index, id and how many items were acknowledged in the message.
  Status status;
  RegionId origin = 0;
  std::vector<node::WriteResponse> items;  // each with its own status; empty if not attempted
  size_t acknowledged = 0;
  node::SessionToken session;  // the request's token plus every acknowledged item
};

struct SearchResult {
  node::SearchResponse response;
  // Per origin, as this region saw it when the search ran here; empty when forwarded.
  std::vector<OriginStaleness> per_origin;
  // What was met: kSession if requested and satisfied, kBounded if requested and
  // response.staleness <= max_staleness, else kEventual.
  node::Consistency guarantee_met = node::Consistency::kEventual;
};

struct OriginProgress {
  RegionId origin = 0;
  std::string region;
  uint64_t frontier = 0;
  uint64_t max_sequence = 0;
  uint64_t consumed_offset = 0;
  uint64_t end_offset = 0;
  uint64_t backlog() const {
    return end_offset > consumed_offset ? end_offset - consumed_offset : 0;
  }
};

struct ShardStatus {
  uint32_t shard = 0;
  uint64_t live_vectors = 0;
  uint64_t writes_accepted_here = 0;
  std::vector<OriginProgress> origins;  // in the deployment's region order
};

struct CollectionStatus {
  CollectionConfig config;
  uint64_t live_vectors = 0;
  std::vector<ShardStatus> shards;
};

struct NodeStatus {
  node::RegionInfo self;
  bool recovered = false;      // RegionNode::recovered(): writes are accepted
  std::string writes_stopped;  // RegionNode::writes_stopped(): "" unless a second writer was seen
  uint32_t writer_epoch = 0;   // of RegionNode::writer_id(): 0 while recovering
  env::TimeNs max_staleness = 0;
  std::vector<OriginStaleness> staleness;  // every region, including this one (0)
  uint64_t pending_writes = 0;
  node::NodeCounters counters;
  std::vector<node::RegionNode::LagAlert> lag_alerts;
  std::vector<CollectionStatus> collections;  // in name order
};

// "<shard>:<origin>:<sequence>" entries joined by ',' (the HTTP form of a token); "" if empty.
std::string encode_session_token(const node::SessionToken& token);
// Inverse of encode_session_token; invalid_argument naming the bad entry.
Result<node::SessionToken> parse_session_token(std::string_view text);
// `into` extended with every entry of `more` (per key, the higher sequence).
void merge_session_token(node::SessionToken& into, const node::SessionToken& more);

struct NodeServiceOptions {
  // Workers that serve searches off the event loop; 0 = every search runs on the loop (the
  // behaviour before the pool, kept for comparison and for single-core deployments).
  size_t search_threads = hardware_threads();
  // Reads first try to run on the calling (server) thread, if the engine lock can be taken
  // shared at once: a search (with search workers) is otherwise queued for a worker, a Get
  // hops to the loop. Saves a hand-off (a wake-up, context switches) per read.
  bool read_on_caller = false;
  // Searches waiting for a worker beyond which new ones are refused with `unavailable`.
  size_t max_queued_searches = 4096;
  // How long the *_sync variants wait for an answer.
  std::chrono::milliseconds call_timeout{30000};
};

class NodeService {
 public:
  NodeService(EventLoop& loop, node::RegionNode& node, NodeServiceOptions options = {});
  ~NodeService();
  NodeService(const NodeService&) = delete;
  NodeService& operator=(const NodeService&) = delete;

  // Upsert, delete or patch (request.op). `session` is the client's token so far.
  void write(node::WriteRequest request, node::SessionToken session,
             std::function<void(WriteResult)> done);
  // Upserts into one collection as one call (UpsertBatch): every item is checked first (one
  // invalid item fails the batch, invalid_argument naming items[i], and nothing is written);
  // then all are written in order on one loop hop, as that many write() calls would be.
  // `done` runs once every item has answered. REQUIRES: every item's op is kUpsert.
  void write_batch(std::vector<node::WriteRequest> items, node::SessionToken session,
                   std::function<void(BatchWriteResult)> done);
  void search(node::SearchRequest request, std::function<void(SearchResult)> done);
  // The live vector `id` as this region's replica sees it; not_found if there is none.
  void get(std::string collection, std::string id, std::function<void(Result<VectorView>)> done);
  void status(std::function<void(NodeStatus)> done);
  // A peer's delta catch-up request (RegionNode::serve_shard_delta on the loop).
  void shard_delta(node::ShardDeltaRequest request,
                   std::function<void(node::ShardDeltaResponse)> done);
  // A peer's digest comparison request (RegionNode::serve_shard_digest on the loop).
  void shard_digest(node::ShardDigestRequest request,
                    std::function<void(node::ShardDigestResponse)> done);
  // Runs nothing on the node: ok once the loop has run a task (a liveness probe).
  void ping(std::function<void(Status)> done);
  // Shutdown: stops the search pool. Searches still queued are answered `unavailable`, the
  // running ones finish; later searches are answered `unavailable` at once. Idempotent; call
  // after the servers stopped accepting calls and before the loop stops.
  void stop_searches();

  WriteResult write_sync(node::WriteRequest request, node::SessionToken session);
  BatchWriteResult write_batch_sync(std::vector<node::WriteRequest> items,
                                    node::SessionToken session);
  SearchResult search_sync(node::SearchRequest request);
  Result<VectorView> get_sync(std::string collection, std::string id);
  Result<NodeStatus> status_sync();
  Status ping_sync(std::chrono::milliseconds timeout);

  // Thread-safe checks done before the hop (exposed for tests and front ends).
  Status check_write(const node::WriteRequest& request, const node::SessionToken& session) const;
  Status check_search(const node::SearchRequest& request) const;
  // 1..kMaxBatchItems upserts, all into the same collection, each valid as check_write's.
  Status check_batch(const std::vector<node::WriteRequest>& items,
                     const node::SessionToken& session) const;

  // nullptr if no such collection.
  const CollectionConfig* collection(const std::string& name) const;
  const node::RegionInfo& self() const { return self_; }
  const std::vector<node::RegionInfo>& regions() const { return regions_; }

 private:
  Status check_session(const CollectionConfig& config, const node::SessionToken& token) const;
  // Posts `fn` to the loop, or returns false if the loop has stopped.
  bool hop(std::function<void()> fn);
  // The search path after validation (node_service_search.cc): on a worker under the shared
  // engine lock, or on the loop.
  using SearchDone = std::shared_ptr<std::function<void(SearchResult)>>;
  void search_on_worker(const node::SearchRequest& request, const SearchDone& done);
  // search_under on this thread if the engine lock is free for readers now; false (nothing
  // done) if it was not.
  bool try_search_here(const node::SearchRequest& request, const SearchDone& done);
  // search_now under `reader` (held shared); then, with the lock released, `done` with the
  // answer, or the hop to the loop for what search_now cannot answer.
  void search_under(const node::SearchRequest& request, std::shared_lock<EngineLock> reader,
                    const SearchDone& done);
  void search_on_loop(node::SearchRequest request, const SearchDone& done);
  // The node's answer as a SearchResult (per-origin staleness, the guarantee met). Loop thread,
  // or a reader holding the engine lock shared.
  SearchResult to_search_result(node::Consistency wanted, env::TimeNs bound,
                                node::SearchResponse response) const;
  SearchResult search_failed(Status status) const;
  NodeStatus snapshot() const;  // loop thread
  // The live vector `id` of `collection`, or not_found. Loop thread, or the engine lock shared.
  Result<VectorView> find_vector(const std::string& collection, const std::string& id) const;
  // Waits for an async call's answer; `fallback` if the loop stops or call_timeout passes.
  template <typename T>
  T wait_for(const std::function<void(std::function<void(T)>)>& start, T fallback,
             std::chrono::milliseconds timeout);

  EventLoop& loop_;
  node::RegionNode& node_;
  const std::chrono::milliseconds call_timeout_;
  const node::RegionInfo self_;
  const std::vector<node::RegionInfo> regions_;
  const std::map<std::string, CollectionConfig> configs_;
  std::unique_ptr<WorkerPool> search_pool_;  // null with search_threads 0
  const bool read_on_caller_;
};

}  // namespace meridian::real::api
