#include "sim/workload.h"

#include <cassert>
#include <cmath>
#include <utility>

#include "engine/core/routing.h"

namespace meridian::sim {

namespace {

constexpr const char* kTags[] = {"red", "green", "blue"};

enum class StreamOp : uint8_t { kUpsert, kDelete, kPatch, kSearch };

const char* stream_op_name(StreamOp op) {
  switch (op) {
    case StreamOp::kUpsert: return "upserts";
    case StreamOp::kDelete: return "deletes";
    case StreamOp::kPatch: return "patches";
    case StreamOp::kSearch: return "searches";
  }
  return "?";
}

// An exponential gap with the given rate (events per second), in whole nanoseconds.
TimeNs exponential_gap(Rng& rng, double per_s) {
  return TimeNs(std::llround(rng.exponential(double(env::kSecond) / per_s)));
}

std::string random_tag(Rng& rng) { return kTags[rng.below(3)]; }

}  // namespace

std::string key_id(uint64_t n) { return "k" + std::to_string(n); }

std::vector<uint64_t> hot_shard_rank_order(uint64_t keys, uint32_t hot_shard, uint32_t num_shards,
                                           uint32_t routing_seed) {
  assert(hot_shard < num_shards);
  std::vector<uint64_t> order;
  std::vector<uint64_t> rest;
  order.reserve(keys);
  for (uint64_t n = 0; n < keys; ++n) {
    (shard_of(key_id(n), num_shards, routing_seed) == hot_shard ? order : rest).push_back(n);
  }
  order.insert(order.end(), rest.begin(), rest.end());
  return order;
}

std::vector<node::WriteRequest> initial_vector_writes(const CollectionSpec& c, Rng vectors) {
  std::vector<node::WriteRequest> writes(c.initial_vectors);
  for (uint64_t n = 0; n < c.initial_vectors; ++n) {
    node::WriteRequest& w = writes[n];
    w.op = Op::kUpsert;
    w.collection = c.config.name;
    w.vector_id = key_id(n);
    w.embedding.resize(c.config.index.dimension);
    for (float& x : w.embedding) x = float(vectors.uniform(-1, 1));
  }
  return writes;
}

KeyChooser::KeyChooser(const WorkloadSpec& spec, const CollectionConfig& collection)
    : keys_(spec.keys) {
  assert(keys_ >= 1);
  if (spec.key_distribution != KeyDistribution::kZipf) return;
  zipf_ = std::make_unique<ZipfSampler>(keys_, spec.zipf_exponent);
  if (spec.hot_shard && *spec.hot_shard < collection.num_shards) {
    rank_order_ = hot_shard_rank_order(keys_, *spec.hot_shard, collection.num_shards,
                                       collection.routing_seed);
  }
}

uint64_t KeyChooser::draw_key(Rng& rng) const {
  if (zipf_ == nullptr) return rng.below(keys_);
  const uint64_t rank = zipf_->sample(rng);
  return rank_order_.empty() ? rank - 1 : rank_order_[rank - 1];
}

// ---- the workload ----

struct Workload::Stream {
  RegionIndex region;
  StreamOp op;
  double per_s;
  Rng rng;
};

struct Workload::Session {
  RegionIndex region;
  uint32_t index;
  uint64_t next_write = 0;
  Rng rng;
  node::SessionToken token;
};

Workload::Workload(ClientEnv& env)
    : env_(env),
      spec_(env.scenario().workload),
      collection_(env.scenario().collections.at(spec_.collection_index).config),
      keys_(spec_, collection_),
      suspect_until_(region_count(), std::vector<TimeNs>(region_count(), 0)),
      probing_(region_count(), std::vector<bool>(region_count(), false)) {}

Workload::~Workload() = default;

void Workload::start(TimeNs stop_at) {
  stop_at_ = stop_at;
  for (RegionIndex r = 0; r < region_count(); ++r) {
    const OpRates& rates = spec_.rates.at(r);
    const std::pair<StreamOp, double> ops[] = {{StreamOp::kUpsert, rates.upserts_per_s},
                                               {StreamOp::kDelete, rates.deletes_per_s},
                                               {StreamOp::kPatch, rates.patches_per_s},
                                               {StreamOp::kSearch, rates.searches_per_s}};
    const std::string prefix = "workload/" + region_name(r) + "/";
    for (const auto& [op, per_s] : ops) {
      if (!(per_s > 0)) continue;
      streams_.push_back(
          std::make_unique<Stream>(Stream{r, op, per_s, env_.rng(prefix + stream_op_name(op))}));
      schedule_arrival(streams_.back().get());
    }
    if (!(spec_.session_reads_per_s > 0)) continue;
    for (uint32_t i = 0; i < spec_.sessions_per_region; ++i) {
      sessions_.push_back(std::make_unique<Session>(
          Session{r, i, 0, env_.rng(prefix + "session-" + std::to_string(i)), {}}));
      schedule_session(sessions_.back().get());
    }
  }
}

RegionIndex Workload::route(RegionIndex r) {
  const TimeNs now = env_.now();
  auto trusted = [&](RegionIndex t) { return suspect_until_[r][t] == 0; };
  if (!spec_.failover || trusted(r)) return r;
  if (now >= suspect_until_[r][r] && !probing_[r][r]) {
    probing_[r][r] = true;  // half-open: this request probes the home region
    return r;
  }
  const Scenario& scenario = env_.scenario();
  RegionIndex best = r;
  TimeNs best_latency = 0;
  bool found = false;
  for (RegionIndex t = 0; t < region_count(); ++t) {
    if (t == r || !trusted(t)) continue;
    const TimeNs latency = scenario.link(r, t).latency_ns;
    if (!found || latency < best_latency) {
      best = t;
      best_latency = latency;
      found = true;
    }
  }
  return best;
}

std::vector<float> Workload::random_vector(Rng& rng) const {
  std::vector<float> v(collection_.index.dimension);
  for (float& x : v) x = float(rng.uniform(-1, 1));
  return v;
}

void Workload::record(RequestKind kind, RegionIndex client, RegionIndex target, TimeNs sent,
                      bool ok, bool stale, bool cost_modelled) {
  RequestSample s;
  s.kind = kind;
  s.client_region = region_name(client);
  s.served_region = region_name(target);
  s.sent_at = sent;
  s.latency = env_.now() - sent;
  s.ok = ok;
  s.stale = stale;
  s.cost_modelled = cost_modelled;
  env_.trace().request(s);
  // Circuit breaker: a failure (timeout or refusal) opens it, a success closes it.
  suspect_until_[client][target] = ok ? 0 : env_.now() + kSuspectNs;
  probing_[client][target] = false;
}

// ---- open-loop streams ----

void Workload::schedule_arrival(Stream* s) {
  const TimeNs at = env_.now() + exponential_gap(s->rng, s->per_s);
  if (at >= stop_at_) return;
  env_.at(at, [this, s] {
    issue(*s);
    schedule_arrival(s);
  });
}

void Workload::issue(Stream& s) {
  if (s.op == StreamOp::kSearch) {
    node::SearchRequest request;
    request.collection = collection_.name;
    request.query = random_vector(s.rng);
    request.k = spec_.k;
    request.consistency = node::Consistency::kEventual;
    const bool cost_only = !s.rng.chance(spec_.exact_search_fraction);
    const RegionIndex client = s.region;
    const RegionIndex target = route(client);
    const TimeNs sent = env_.now();
    env_.client_search(client, target, std::move(request), cost_only,
                       [this, client, target, sent, cost_only](node::SearchResponse r) {
                         record(RequestKind::kSearch, client, target, sent, r.status.is_ok(),
                                r.stale, cost_only);
                       });
    return;
  }
  node::WriteRequest request;
  request.collection = collection_.name;
  request.vector_id = keys_.draw_id(s.rng);
  RequestKind kind = RequestKind::kUpsert;
  switch (s.op) {
    case StreamOp::kUpsert:
      request.op = Op::kUpsert;
      request.embedding = random_vector(s.rng);
      request.payload.tags.insert(random_tag(s.rng));
      break;
    case StreamOp::kDelete:
      request.op = Op::kDelete;
      kind = RequestKind::kDelete;
      break;
    case StreamOp::kPatch:
      request.op = Op::kPatch;
      request.payload.tags.insert(random_tag(s.rng));
      kind = RequestKind::kPatch;
      break;
    case StreamOp::kSearch: break;
  }
  send_write(s.region, std::move(request), kind, nullptr);
}

void Workload::send_write(RegionIndex client, node::WriteRequest request, RequestKind kind,
                          std::function<void(const node::WriteResponse&)> then) {
  const RegionIndex target = route(client);
  const TimeNs sent = env_.now();
  std::string id = request.vector_id;
  env_.client_write(client, target, std::move(request),
                    [this, client, target, sent, kind, id = std::move(id),
                     then = std::move(then)](node::WriteResponse r) {
                      const bool ok = r.status.is_ok();
                      record(kind, client, target, sent, ok, false, false);
                      if (ok) {
                        AckedWrite w;
                        w.collection = collection_.name;
                        w.vector_id = id;
                        w.origin = r.origin;
                        w.shard = r.shard;
                        w.sequence = r.sequence;
                        w.timestamp = r.timestamp;
                        w.acked_at = env_.now();
                        w.client_region = region_name(client);
                        env_.trace().write_acked(w);
                      }
                      if (then) then(r);
                    });
}

// ---- session clients ----

void Workload::schedule_session(Session* s) {
  const TimeNs at = env_.now() + exponential_gap(s->rng, spec_.session_reads_per_s);
  if (at >= stop_at_) return;
  env_.at(at, [this, s] { session_cycle(s); });
}

void Workload::session_cycle(Session* s) {
  node::WriteRequest write;
  write.op = Op::kUpsert;
  write.collection = collection_.name;
  write.vector_id = "s" + region_name(s->region) + "-" + std::to_string(s->index) + "-" +
                    std::to_string(s->next_write++);
  write.embedding = random_vector(s->rng);
  std::string id = write.vector_id;
  std::vector<float> embedding = write.embedding;
  send_write(s->region, std::move(write), RequestKind::kUpsert,
             [this, s, id = std::move(id),
              embedding = std::move(embedding)](const node::WriteResponse& w) mutable {
               if (!w.status.is_ok()) {
                 schedule_session(s);
                 return;
               }
               s->token.observe(w);
               node::SearchRequest read;
               read.collection = collection_.name;
               read.query = std::move(embedding);
               read.k = spec_.k;
               read.consistency = node::Consistency::kSession;
               read.session = s->token;
               const RegionIndex client = s->region;
               const RegionIndex target = route(client);
               const TimeNs sent = env_.now();
               env_.client_search(client, target, std::move(read), false,
                                  [this, s, client, target, sent, id](node::SearchResponse r) {
                                    const bool ok = r.status.is_ok();
                                    record(RequestKind::kSessionSearch, client, target, sent, ok,
                                           r.stale, false);
                                    if (ok) {
                                      SessionReadSample sample;
                                      sample.client_region = region_name(client);
                                      sample.served_region = region_name(target);
                                      sample.expected_id = id;
                                      sample.satisfied_claimed = r.session_satisfied;
                                      for (const SearchHit& hit : r.hits) {
                                        if (hit.id == id) sample.found = true;
                                      }
                                      sample.forwarded = r.forwarded;
                                      sample.at = env_.now();
                                      env_.trace().session_read(sample);
                                    }
                                    schedule_session(s);
                                  });
             });
}

}  // namespace meridian::sim
