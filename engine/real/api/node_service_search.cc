// NodeService's search path: validation, then a search worker (the shared engine lock and
// RegionNode::search_now) or, for what needs the loop, a hop onto the event loop.
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <utility>

#include "engine/real/api/node_service.h"

namespace meridian::real::api {

SearchResult NodeService::search_failed(Status status) const {
  SearchResult r;
  r.response.status = std::move(status);
  r.response.served_by = self_.name;
  return r;
}

SearchResult NodeService::to_search_result(node::Consistency wanted, env::TimeNs bound,
                                           node::SearchResponse response) const {
  SearchResult r;
  if (response.status.is_ok()) {
    if (!response.forwarded) {
      for (const node::RegionInfo& region : regions_) {
        r.per_origin.push_back({region.name, region.id, node_.staleness(region.id)});
      }
    }
    if (wanted == node::Consistency::kSession && response.session_satisfied) {
      r.guarantee_met = node::Consistency::kSession;
    } else if (wanted == node::Consistency::kBounded && response.staleness <= bound) {
      r.guarantee_met = node::Consistency::kBounded;
    }
  }
  r.response = std::move(response);
  return r;
}

void NodeService::search(node::SearchRequest request, std::function<void(SearchResult)> done) {
  if (Status s = check_search(request); !s.is_ok()) {
    done(search_failed(std::move(s)));
    return;
  }
  auto shared_done = std::make_shared<std::function<void(SearchResult)>>(std::move(done));
  if (search_pool_ == nullptr) {
    search_on_loop(std::move(request), shared_done);
    return;
  }
  if (read_on_caller_ && try_search_here(request, shared_done)) return;
  auto shared_request = std::make_shared<node::SearchRequest>(std::move(request));
  const bool queued = search_pool_->submit(
      [this, shared_request, shared_done] { search_on_worker(*shared_request, shared_done); },
      [this, shared_done] {
        (*shared_done)(search_failed(Status::unavailable("node is shutting down")));
      });
  if (!queued) {
    // Stopped, or the bound on waiting searches is reached: the node is saturated, and queueing
    // more would only turn into timeouts. The client may retry (elsewhere).
    (*shared_done)(search_failed(Status::unavailable("search queue full (" +
                                                     std::to_string(search_pool_->max_queued()) +
                                                     " waiting) or node shutting down")));
  }
}

void NodeService::search_on_worker(const node::SearchRequest& request, const SearchDone& done) {
  search_under(request, std::shared_lock(loop_.engine_lock()), done);
}

bool NodeService::try_search_here(const node::SearchRequest& request, const SearchDone& done) {
  std::shared_lock reader(loop_.engine_lock(), std::try_to_lock);
  if (!reader.owns_lock()) return false;
  search_under(request, std::move(reader), done);
  return true;
}

void NodeService::search_under(const node::SearchRequest& request,
                               std::shared_lock<EngineLock> reader, const SearchDone& done) {
  // Between two loop iterations: search_now and staleness() only read the engine.
  std::optional<SearchResult> result;
  if (std::optional<node::SearchResponse> now = node_.search_now(request)) {
    result = to_search_result(request.consistency, request.max_staleness, std::move(*now));
  }
  // `done` (gRPC's Finish: serialisation, encryption) runs outside the lock, so the loop never
  // waits for it.
  reader.unlock();
  if (result) {
    (*done)(std::move(*result));
    return;
  }
  search_on_loop(request, done);
}

void NodeService::search_on_loop(node::SearchRequest request, const SearchDone& done) {
  const bool posted = hop([this, request = std::move(request), done]() mutable {
    const node::Consistency wanted = request.consistency;
    const env::TimeNs bound = request.max_staleness;
    node_.search(std::move(request), [this, wanted, bound, done](node::SearchResponse response) {
      (*done)(to_search_result(wanted, bound, std::move(response)));
    });
  });
  if (!posted) (*done)(search_failed(Status::unavailable("node is shutting down")));
}

void NodeService::stop_searches() {
  if (search_pool_ != nullptr) search_pool_->stop();
}

}  // namespace meridian::real::api
