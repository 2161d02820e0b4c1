#include "engine/real/api/node_service.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <future>
#include <shared_mutex>
#include <utility>

#include "engine/core/mutation.h"
#include "engine/node/own_writer_check.h"

namespace meridian::real::api {

namespace {

std::map<std::string, CollectionConfig> configs_by_name(const node::NodeOptions& options) {
  std::map<std::string, CollectionConfig> out;
  for (const CollectionConfig& c : options.collections) out.emplace(c.name, c);
  return out;
}

Status unknown_collection(const std::string& name) {
  return Status::not_found("no collection '" + name + "'");
}

Status loop_stopped() { return Status::unavailable("node is shutting down"); }

bool parse_u64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

// ---- session tokens ----

std::string encode_session_token(const node::SessionToken& token) {
  std::string out;
  for (const auto& [key, sequence] : token.entries()) {
    if (!out.empty()) out += ',';
    out += std::to_string(key.first) + ':' + std::to_string(key.second) + ':' +
           std::to_string(sequence);
  }
  return out;
}

Result<node::SessionToken> parse_session_token(std::string_view text) {
  node::SessionToken token;
  size_t count = 0;
  if (text.empty()) return token;
  for (bool last = false; !last;) {
    const size_t comma = text.find(',');
    last = comma == std::string_view::npos;
    const std::string_view entry = text.substr(0, comma);
    if (!last) text = text.substr(comma + 1);
    if (++count > kMaxSessionEntries) {
      return Status::invalid_argument("session token has more than " +
                                      std::to_string(kMaxSessionEntries) + " entries");
    }
    const size_t a = entry.find(':');
    const size_t b = a == std::string_view::npos ? a : entry.find(':', a + 1);
    uint64_t shard = 0, origin = 0, sequence = 0;
    if (b == std::string_view::npos || !parse_u64(entry.substr(0, a), &shard) ||
        !parse_u64(entry.substr(a + 1, b - a - 1), &origin) ||
        !parse_u64(entry.substr(b + 1), &sequence) || shard > UINT32_MAX || origin > 0xFFFF) {
      return Status::invalid_argument("session token entry '" + std::string(entry) +
                                      "' is not <shard>:<origin>:<sequence>");
    }
    node::WriteResponse w;
    w.shard = uint32_t(shard);
    w.origin = RegionId(origin);
    w.sequence = sequence;
    token.observe(w);
  }
  return token;
}

void merge_session_token(node::SessionToken& into, const node::SessionToken& more) {
  for (const auto& [key, sequence] : more.entries()) {
    node::WriteResponse w;
    w.shard = key.first;
    w.origin = key.second;
    w.sequence = sequence;
    into.observe(w);
  }
}

// ---- NodeService ----

NodeService::NodeService(EventLoop& loop, node::RegionNode& node, NodeServiceOptions options)
    : loop_(loop),
      node_(node),
      call_timeout_(options.call_timeout),
      self_(node.options().self),
      regions_(node.options().regions),
      configs_(configs_by_name(node.options())),
      read_on_caller_(options.read_on_caller) {
  if (options.search_threads > 0) {
    search_pool_ = std::make_unique<WorkerPool>("search", options.search_threads,
                                                std::max<size_t>(1, options.max_queued_searches));
  }
}

NodeService::~NodeService() { stop_searches(); }

const CollectionConfig* NodeService::collection(const std::string& name) const {
  auto it = configs_.find(name);
  return it == configs_.end() ? nullptr : &it->second;
}

void NodeService::shard_delta(node::ShardDeltaRequest request,
                              std::function<void(node::ShardDeltaResponse)> done) {
  auto shared_done =
      std::make_shared<std::function<void(node::ShardDeltaResponse)>>(std::move(done));
  const bool posted = hop([this, request = std::move(request), shared_done] {
    (*shared_done)(node_.serve_shard_delta(request));
  });
  if (!posted) {
    node::ShardDeltaResponse failed;
    failed.status = loop_stopped();
    (*shared_done)(std::move(failed));
  }
}

void NodeService::shard_digest(node::ShardDigestRequest request,
                               std::function<void(node::ShardDigestResponse)> done) {
  auto shared_done =
      std::make_shared<std::function<void(node::ShardDigestResponse)>>(std::move(done));
  const bool posted = hop([this, request = std::move(request), shared_done] {
    node_.serve_shard_digest(request, [shared_done](node::ShardDigestResponse response) {
      (*shared_done)(std::move(response));
    });
  });
  if (!posted) {
    node::ShardDigestResponse failed;
    failed.status = loop_stopped();
    (*shared_done)(std::move(failed));
  }
}

bool NodeService::hop(std::function<void()> fn) {
  if (loop_.stopped()) return false;
  loop_.post(std::move(fn));
  return true;
}

Status NodeService::check_session(const CollectionConfig& config,
                                  const node::SessionToken& token) const {
  if (token.entries().size() > kMaxSessionEntries) {
    return Status::invalid_argument("session token has more than " +
                                    std::to_string(kMaxSessionEntries) + " entries");
  }
  for (const auto& [key, sequence] : token.entries()) {
    const auto [shard, origin] = key;
    bool known = false;
    for (const node::RegionInfo& r : regions_) known |= r.id == origin;
    if (shard >= config.num_shards || !known || sequence == 0) {
      return Status::invalid_argument("session token entry " + std::to_string(shard) + ":" +
                                      std::to_string(origin) + ":" + std::to_string(sequence) +
                                      " does not belong to collection '" + config.name +
                                      "' (shards 0.." + std::to_string(config.num_shards - 1) +
                                      ", known regions, sequence >= 1)");
    }
  }
  return Status::ok();
}

Status NodeService::check_write(const node::WriteRequest& request,
                                const node::SessionToken& session) const {
  const CollectionConfig* config = collection(request.collection);
  if (config == nullptr) return unknown_collection(request.collection);
  // The engine's own rules (RegionNode::to_mutation), checked here so that a bad request never
  // costs a loop hop; the node checks again.
  Mutation m;
  m.op = request.op;
  m.collection = request.collection;
  m.vector_id = request.vector_id;
  m.embedding = request.embedding;
  m.payload = request.payload;
  m.unset_fields = request.unset_fields;
  m.removed_tags = request.removed_tags;
  m.timestamp = 1;
  m.origin_sequence = 1;
  m.origin_region = self_.id;
  if (Status s = validate(m); !s.is_ok()) return s;
  if (m.op == Op::kUpsert && m.embedding.size() != config->index.dimension) {
    return Status::invalid_argument("embedding has " + std::to_string(m.embedding.size()) +
                                    " dimensions; collection '" + config->name + "' has " +
                                    std::to_string(config->index.dimension));
  }
  return check_session(*config, session);
}

Status NodeService::check_search(const node::SearchRequest& request) const {
  const CollectionConfig* config = collection(request.collection);
  if (config == nullptr) return unknown_collection(request.collection);
  if (request.query.size() != config->index.dimension) {
    return Status::invalid_argument("query has " + std::to_string(request.query.size()) +
                                    " dimensions; collection '" + config->name + "' has " +
                                    std::to_string(config->index.dimension));
  }
  for (size_t i = 0; i < request.query.size(); ++i) {
    if (!std::isfinite(request.query[i])) {
      return Status::invalid_argument("query[" + std::to_string(i) + "] is not finite");
    }
  }
  if (request.k < 1 || request.k > kMaxSearchK) {
    return Status::invalid_argument("k must be in 1.." + std::to_string(kMaxSearchK));
  }
  if (request.tag && (request.tag->empty() || request.tag->size() > kMaxStringBytes)) {
    return Status::invalid_argument("tag must be 1.." + std::to_string(kMaxStringBytes) + " bytes");
  }
  switch (request.consistency) {
    case node::Consistency::kEventual: break;
    case node::Consistency::kSession: break;
    case node::Consistency::kBounded:
      if (request.max_staleness < env::kMillisecond ||
          request.max_staleness > kMaxBoundedStaleness) {
        return Status::invalid_argument(
            "bounded consistency needs max_staleness_ms in 1..86400000");
      }
      break;
    default: return Status::invalid_argument("unknown consistency");
  }
  return check_session(*config, request.session);
}

void NodeService::write(node::WriteRequest request, node::SessionToken session,
                        std::function<void(WriteResult)> done) {
  WriteResult result;
  result.response.origin = self_.id;
  result.session = session;
  if (Status s = check_write(request, session); !s.is_ok()) {
    result.response.status = std::move(s);
    done(std::move(result));
    return;
  }
  auto shared_done = std::make_shared<std::function<void(WriteResult)>>(std::move(done));
  const bool posted = hop([this, request = std::move(request), result, shared_done]() mutable {
    node_.write(std::move(request),
                [result = std::move(result), shared_done](node::WriteResponse r) mutable {
                  if (r.status.is_ok()) result.session.observe(r);
                  result.response = std::move(r);
                  (*shared_done)(std::move(result));
                });
  });
  if (!posted) {
    WriteResult failed;
    failed.response.origin = self_.id;
    failed.response.status = loop_stopped();
    failed.session = std::move(session);
    (*shared_done)(std::move(failed));
  }
}

void NodeService::get(std::string collection, std::string id,
                      std::function<void(Result<VectorView>)> done) {
  if (this->collection(collection) == nullptr) {
    done(unknown_collection(collection));
    return;
  }
  if (id.empty()) {
    done(Status::invalid_argument("vector id is empty"));
    return;
  }
  if (id.size() > kMaxVectorIdBytes) {
    done(Status::too_large("vector id is " + std::to_string(id.size()) + " bytes; the limit is " +
                           std::to_string(kMaxVectorIdBytes)));
    return;
  }
  if (read_on_caller_) {
    std::shared_lock reader(loop_.engine_lock(), std::try_to_lock);
    if (reader.owns_lock()) {
      Result<VectorView> view = find_vector(collection, id);
      reader.unlock();
      done(std::move(view));
      return;
    }
  }
  auto shared_done = std::make_shared<std::function<void(Result<VectorView>)>>(std::move(done));
  const bool posted = hop([this, collection, id = std::move(id), shared_done] {
    (*shared_done)(find_vector(collection, id));
  });
  if (!posted) (*shared_done)(loop_stopped());
}

Result<VectorView> NodeService::find_vector(const std::string& collection,
                                            const std::string& id) const {
  const Collection* c = node_.collection(collection);
  if (c == nullptr) return unknown_collection(collection);
  std::optional<VectorView> view = c->get(id);
  if (!view) return Status::not_found("no vector '" + id + "' in collection '" + collection + "'");
  return std::move(*view);
}

NodeStatus NodeService::snapshot() const {
  NodeStatus s;
  s.self = self_;
  s.recovered = node_.recovered();
  s.writes_stopped = node_.writes_stopped();
  s.writer_epoch = node::writer_epoch(node_.writer_id());
  s.max_staleness = node_.max_staleness();
  for (const node::RegionInfo& r : regions_) {
    s.staleness.push_back({r.name, r.id, node_.staleness(r.id)});
  }
  s.pending_writes = node_.pending_writes();
  s.counters = node_.counters();
  s.lag_alerts = node_.lag_alerts();
  std::map<std::tuple<std::string, RegionId, uint32_t>, node::RegionNode::ShardLag> lags;
  for (const node::RegionNode::ShardLag& lag : node_.replication_lag()) {
    lags[{lag.collection, lag.origin, lag.shard}] = lag;
  }
  for (const auto& [name, config] : configs_) {
    const Collection* c = node_.collection(name);
    if (c == nullptr) continue;
    CollectionStatus cs;
    cs.config = config;
    cs.live_vectors = c->live_count();
    const std::vector<uint64_t> writes = node_.shard_write_counts(name);
    for (uint32_t shard = 0; shard < config.num_shards; ++shard) {
      ShardStatus ss;
      ss.shard = shard;
      ss.live_vectors = c->shard(shard).live_count();
      ss.writes_accepted_here = shard < writes.size() ? writes[shard] : 0;
      const VersionVector& vv = c->shard(shard).version_vector();
      for (const node::RegionInfo& r : regions_) {
        OriginProgress p;
        p.origin = r.id;
        p.region = r.name;
        p.frontier = vv.frontier(r.id);
        p.max_sequence = vv.max_sequence(r.id);
        auto lag = lags.find({name, r.id, shard});
        if (lag != lags.end()) {
          p.consumed_offset = lag->second.consumed;
          p.end_offset = lag->second.end_offset;
        }
        ss.origins.push_back(std::move(p));
      }
      cs.shards.push_back(std::move(ss));
    }
    s.collections.push_back(std::move(cs));
  }
  return s;
}

void NodeService::status(std::function<void(NodeStatus)> done) {
  auto shared_done = std::make_shared<std::function<void(NodeStatus)>>(std::move(done));
  if (!hop([this, shared_done] { (*shared_done)(snapshot()); })) {
    NodeStatus s;
    s.self = self_;
    (*shared_done)(std::move(s));
  }
}

void NodeService::ping(std::function<void(Status)> done) {
  auto shared_done = std::make_shared<std::function<void(Status)>>(std::move(done));
  if (!hop([shared_done] { (*shared_done)(Status::ok()); })) (*shared_done)(loop_stopped());
}

// ---- blocking variants ----

template <typename T>
T NodeService::wait_for(const std::function<void(std::function<void(T)>)>& start, T fallback,
                        std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<T>>();
  std::future<T> answer = promise->get_future();
  start([promise](T value) { promise->set_value(std::move(value)); });
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (answer.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
    if (loop_.stopped() || std::chrono::steady_clock::now() >= deadline) return fallback;
  }
  return answer.get();
}

WriteResult NodeService::write_sync(node::WriteRequest request, node::SessionToken session) {
  WriteResult fallback;
  fallback.response.origin = self_.id;
  fallback.response.status =
      Status::unavailable("no answer from the node in time; the write may or may not be applied");
  fallback.session = session;
  return wait_for<WriteResult>(
      [&](std::function<void(WriteResult)> done) {
        write(std::move(request), std::move(session), std::move(done));
      },
      std::move(fallback), call_timeout_);
}

BatchWriteResult NodeService::write_batch_sync(std::vector<node::WriteRequest> items,
                                               node::SessionToken session) {
  BatchWriteResult fallback;
  fallback.origin = self_.id;
  fallback.status =
      Status::unavailable("no answer from the node in time; the items may or may not be applied");
  fallback.session = session;
  return wait_for<BatchWriteResult>(
      [&](std::function<void(BatchWriteResult)> done) {
        write_batch(std::move(items), std::move(session), std::move(done));
      },
      std::move(fallback), call_timeout_);
}

SearchResult NodeService::search_sync(node::SearchRequest request) {
  SearchResult fallback;
  fallback.response.status = Status::unavailable("no answer from the node in time");
  fallback.response.served_by = self_.name;
  return wait_for<SearchResult>(
      [&](std::function<void(SearchResult)> done) { search(std::move(request), std::move(done)); },
      std::move(fallback), call_timeout_);
}

Result<VectorView> NodeService::get_sync(std::string collection, std::string id) {
  return wait_for<Result<VectorView>>(
      [&](std::function<void(Result<VectorView>)> done) {
        get(std::move(collection), std::move(id), std::move(done));
      },
      Status::unavailable("no answer from the node in time"), call_timeout_);
}

Result<NodeStatus> NodeService::status_sync() {
  using Answer = std::shared_ptr<NodeStatus>;
  Answer answer = wait_for<Answer>(
      [&](std::function<void(Answer)> done) {
        status([done](NodeStatus s) { done(std::make_shared<NodeStatus>(std::move(s))); });
      },
      nullptr, call_timeout_);
  if (answer == nullptr) return Status::unavailable("no answer from the node in time");
  return std::move(*answer);
}

Status NodeService::ping_sync(std::chrono::milliseconds timeout) {
  return wait_for<Status>([&](std::function<void(Status)> done) { ping(std::move(done)); },
                          Status::unavailable("event loop did not answer within " +
                                              std::to_string(timeout.count()) + " ms"),
                          timeout);
}

}  // namespace meridian::real::api
