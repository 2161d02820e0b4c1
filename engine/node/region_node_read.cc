// RegionNode's read path: local search, session (read-your-writes) and bounded staleness.
#include <algorithm>
#include <cassert>
#include <optional>
#include <utility>
#include <vector>

#include "engine/node/collection_state.h"
#include "engine/node/coverage.h"
#include "engine/node/region_node.h"

namespace meridian::node {

SearchResponse RegionNode::search_locally(const CollectionState& state,
                                          const SearchRequest& request) const {
  SearchResponse response;
  response.served_by = options_.self.name;
  const std::string* tag = request.tag ? &*request.tag : nullptr;
  Result<std::vector<SearchHit>> hits = state.collection->search(request.query, request.k, tag);
  if (!hits.is_ok()) {
    response.status = hits.status();
    return response;
  }
  response.hits = std::move(hits).value();
  if (request.consistency == Consistency::kSession) {
    response.session_satisfied = covers(state, request.session, nullptr);
  }
  response.staleness = max_staleness();
  response.stale = response.staleness > options_.stale_after;
  if (response.stale) searches_stale_.fetch_add(1, std::memory_order_relaxed);
  return response;
}

std::optional<RegionNode::SessionNeed> RegionNode::first_uncovered(
    const CollectionState& state, const SessionToken& token) const {
  for (const auto& [key, sequence] : token.entries()) {
    const auto [shard, origin] = key;
    if (shard >= state.collection->config().num_shards ||
        !state.collection->shard(shard).version_vector().contains(origin, sequence)) {
      return SessionNeed{shard, origin, sequence};
    }
  }
  return std::nullopt;
}

bool RegionNode::covers(const CollectionState& state, const SessionToken& token,
                        RegionId* missing_origin) const {
  const std::optional<SessionNeed> need = first_uncovered(state, token);
  if (need && missing_origin != nullptr) *missing_origin = std::get<1>(*need);
  return !need;
}

namespace {

// The origin a bounded read would be forwarded to: the stalest one (self if none is staler).
RegionId stalest_origin(const RegionNode& node) {
  RegionId worst = node.options().self.id;
  for (const RegionInfo& r : node.options().regions) {
    if (node.staleness(r.id) > node.staleness(worst)) worst = r.id;
  }
  return worst;
}

}  // namespace

std::optional<SearchResponse> RegionNode::search_now(const SearchRequest& request) const {
  const CollectionState* state = find(request.collection);
  if (state == nullptr) {
    searches_.fetch_add(1, std::memory_order_relaxed);
    SearchResponse r;
    r.served_by = options_.self.name;
    r.status = Status::not_found("no collection '" + request.collection + "'");
    return r;
  }
  switch (request.consistency) {
    case Consistency::kEventual: break;
    case Consistency::kSession:
      if (!covers(*state, request.session, nullptr)) return std::nullopt;
      break;
    case Consistency::kBounded:
      if (request.may_forward && staleness(stalest_origin(*this)) > request.max_staleness) {
        return std::nullopt;
      }
      break;
  }
  searches_.fetch_add(1, std::memory_order_relaxed);
  return search_locally(*state, request);
}

void RegionNode::search(SearchRequest request, std::function<void(SearchResponse)> done) {
  if (std::optional<SearchResponse> now = search_now(request)) {
    done(std::move(*now));
    return;
  }
  // Only session reads that must wait and bounded reads that must forward get here.
  searches_.fetch_add(1, std::memory_order_relaxed);
  CollectionState* state = find(request.collection);
  assert(state != nullptr);
  if (request.consistency == Consistency::kSession) {
    wait_for_session(*state, std::move(request), std::move(done));
    return;
  }
  assert(request.consistency == Consistency::kBounded);
  COVER("bounded_read_forwarded");
  forward(*region_by_id(stalest_origin(*this)), std::move(request), std::move(done));
}

void RegionNode::wait_for_session(CollectionState& state, SearchRequest request,
                                  std::function<void(SearchResponse)> done) {
  ++counters_.session_waits;
  COVER("session_read_waited");
  auto waiter = std::make_shared<SessionWaiter>();
  waiter->request = std::move(request);
  waiter->done = std::move(done);
  waiter->arrival = ++state.waiter_arrivals;
  answer_or_refile(state, {waiter});  // files it (search() found its token uncovered)
  if (!waiter->done) return;
  const std::string collection = waiter->request.collection;
  // BUGGIFY: give up on waiting at once, so read repair runs far more often in simulation.
  const env::TimeNs wait = BUGGIFY("session_wait_skipped") ? 0 : options_.session_wait;
  waiter->deadline = env_.timers.after(wait, [this, waiter, collection] {
    CollectionState* s = find(collection);
    if (s == nullptr || !waiter->done) return;
    auto filed = s->waiters.find(waiter->need);
    assert(filed != s->waiters.end());
    std::erase(filed->second, waiter);
    if (filed->second.empty()) s->waiters.erase(filed);
    waiter->deadline = 0;
    RegionId missing = options_.self.id;
    if (covers(*s, waiter->request.session, &missing)) {
      waiter->done(search_locally(*s, waiter->request));
      return;
    }
    const RegionInfo* origin = region_by_id(missing);
    if (!waiter->request.may_forward || origin == nullptr || missing == options_.self.id) {
      // Forwarded here already, or the missing write is this region's own: nobody is better
      // placed to answer. Answer and say the session guarantee was not met.
      COVER("session_read_unsatisfied");
      SearchResponse r = search_locally(*s, waiter->request);
      r.stale = true;
      waiter->done(std::move(r));
      return;
    }
    // The token's write has not arrived here in time: read repair from its origin region.
    COVER("read_repair");
    forward(*origin, std::move(waiter->request), std::move(waiter->done));
  });
}

void RegionNode::wake_session_waiters(CollectionState& state, const SessionNeed& applied) {
  auto filed = state.waiters.find(applied);
  if (filed == state.waiters.end()) return;
  std::vector<std::shared_ptr<SessionWaiter>> candidates = std::move(filed->second);
  state.waiters.erase(filed);
  answer_or_refile(state, std::move(candidates));
}

void RegionNode::wake_all_session_waiters(CollectionState& state) {
  std::vector<std::shared_ptr<SessionWaiter>> candidates;
  for (auto& [need, filed] : state.waiters) {
    for (auto& waiter : filed) candidates.push_back(std::move(waiter));
  }
  state.waiters.clear();
  answer_or_refile(state, std::move(candidates));
}

void RegionNode::answer_or_refile(CollectionState& state,
                                  std::vector<std::shared_ptr<SessionWaiter>> candidates) {
  std::sort(candidates.begin(), candidates.end(),
            [](const auto& x, const auto& y) { return x->arrival < y->arrival; });
  std::vector<std::shared_ptr<SessionWaiter>> covered;
  for (std::shared_ptr<SessionWaiter>& waiter : candidates) {
    if (std::optional<SessionNeed> need = first_uncovered(state, waiter->request.session)) {
      waiter->need = *need;
      state.waiters[*need].push_back(std::move(waiter));
    } else {
      covered.push_back(std::move(waiter));
    }
  }
  // Answered after the filing above: an answer's callback may park new reads.
  for (const std::shared_ptr<SessionWaiter>& waiter : covered) {
    if (waiter->deadline != 0) env_.timers.cancel(waiter->deadline);
    waiter->deadline = 0;
    auto done = std::move(waiter->done);
    waiter->done = nullptr;
    done(search_locally(state, waiter->request));
  }
}

void RegionNode::forward(const RegionInfo& target, SearchRequest request,
                         std::function<void(SearchResponse)> done) {
  ++counters_.searches_forwarded;
  // A session read stays a session read at the remote, which waits for the token itself; it
  // never forwards again.
  SearchRequest remote = request;
  remote.may_forward = false;
  if (remote.consistency != Consistency::kSession) remote.consistency = Consistency::kEventual;
  const std::string collection = request.collection;
  env_.peers.forward_search(target.name, remote,
                            [this, collection, request = std::move(request),
                             done = std::move(done)](SearchResponse reply) mutable {
                              if (reply.status.is_ok()) {
                                reply.forwarded = true;
                                done(std::move(reply));
                                return;
                              }
                              // The origin cannot be reached either: answer from here and say what
                              // was not met.
                              COVER("forward_failed_served_locally");
                              CollectionState* s = find(collection);
                              SearchResponse local = search_locally(*s, request);
                              local.stale = true;
                              if (request.consistency == Consistency::kSession) {
                                local.session_satisfied = covers(*s, request.session, nullptr);
                              }
                              done(std::move(local));
                            });
}

}  // namespace meridian::node
