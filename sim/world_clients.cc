// World: how client requests and peer calls travel (network, timeouts, search cores).
#include <algorithm>
#include <memory>
#include <utility>

#include "sim/world.h"
#include "sim/world_region.h"

namespace meridian::sim {

namespace {

size_t request_bytes(const node::WriteRequest& r) {
  return 64 + r.vector_id.size() + 4 * r.embedding.size();
}
size_t request_bytes(const node::SearchRequest& r) { return 64 + 4 * r.query.size(); }
size_t response_bytes(const node::SearchResponse& r) { return 64 + 48 * r.hits.size(); }

// Makes sure a client callback runs exactly once: first of response or timeout wins.
template <typename Response>
struct Call {
  std::function<void(Response)> done;
  env::Timers::TimerId timeout = 0;
  bool finished = false;

  void finish(Scheduler& scheduler, Response r) {
    if (finished) return;
    finished = true;
    if (timeout != 0) scheduler.cancel(timeout);
    done(std::move(r));
  }
};

}  // namespace

TimeNs World::one_way(RegionIndex from, RegionIndex to) const {
  return network_->expected_latency(from, to);
}

void World::client_write(RegionIndex client, RegionIndex target, node::WriteRequest request,
                         std::function<void(node::WriteResponse)> done) {
  auto call = std::make_shared<Call<node::WriteResponse>>();
  call->done = std::move(done);
  call->timeout = scheduler_.after(scenario_.workload.request_timeout_ns, [this, call, target] {
    node::WriteResponse r;
    r.status = Status::unavailable("request to " + region_name(target) + " timed out");
    call->finish(scheduler_, std::move(r));
  });
  const size_t bytes = request_bytes(request);
  network_->send(
      client, target, bytes, [this, call, client, target, request = std::move(request)]() mutable {
        if (!serving(target)) return;  // nobody answers; the client times out
        regions_[target]->node->write(
            std::move(request), [this, call, client, target](node::WriteResponse r) {
              network_->send(target, client, 64, [this, call, r = std::move(r)]() mutable {
                call->finish(scheduler_, std::move(r));
              });
            });
      });
}

void World::queue_search(RegionIndex target, TimeNs cost, std::function<void()> run) {
  Region& region = *regions_[target];
  // FIFO onto the core that frees up first.
  size_t best = 0;
  for (size_t c = 1; c < region.core_free_at.size(); ++c) {
    if (region.core_free_at[c] < region.core_free_at[best]) best = c;
  }
  const TimeNs start = std::max(scheduler_.now(), region.core_free_at[best]);
  region.core_free_at[best] = start + cost;
  scheduler_.at(start + cost, std::move(run));
}

void World::serve_search(RegionIndex target, node::SearchRequest request, bool cost_only,
                         std::function<void(node::SearchResponse)> done) {
  if (!serving(target)) return;
  const Collection* c = regions_[target]->node->collection(request.collection);
  const TimeNs cost = c == nullptr ? 0 : search_cost_ns(c->config(), c->live_count());
  queue_search(
      target, cost,
      [this, target, cost_only, request = std::move(request), done = std::move(done)]() mutable {
        if (!serving(target)) return;
        if (cost_only) {
          node::SearchResponse r;
          r.served_by = region_name(target);
          r.staleness = regions_[target]->node->max_staleness();
          done(std::move(r));
          return;
        }
        regions_[target]->node->search(std::move(request), std::move(done));
      });
}

void World::client_search(RegionIndex client, RegionIndex target, node::SearchRequest request,
                          bool cost_only, std::function<void(node::SearchResponse)> done) {
  auto call = std::make_shared<Call<node::SearchResponse>>();
  call->done = std::move(done);
  call->timeout = scheduler_.after(scenario_.workload.request_timeout_ns, [this, call, target] {
    node::SearchResponse r;
    r.status = Status::unavailable("request to " + region_name(target) + " timed out");
    call->finish(scheduler_, std::move(r));
  });
  const size_t bytes = request_bytes(request);
  network_->send(client, target, bytes,
                 [this, call, client, target, cost_only, request = std::move(request)]() mutable {
                   serve_search(target, std::move(request), cost_only,
                                [this, call, client, target](node::SearchResponse r) {
                                  const size_t bytes = response_bytes(r);
                                  network_->send(target, client, bytes,
                                                 [this, call, r = std::move(r)]() mutable {
                                                   call->finish(scheduler_, std::move(r));
                                                 });
                                });
                 });
}

// ---- peer calls between regions (read forwarding) ----

void SimPeers::forward_search(const std::string& region, const node::SearchRequest& request,
                              std::function<void(node::SearchResponse)> done) {
  const RegionIndex target = world_.scenario().find_region(region).value_or(self_);
  auto call = std::make_shared<Call<node::SearchResponse>>();
  call->done = std::move(done);
  Scheduler& scheduler = world_.scheduler();
  const TimeNs timeout =
      2 * world_.network().expected_latency(self_, target) + 500 * env::kMillisecond;
  call->timeout = scheduler.after(timeout, [call, &scheduler, region] {
    node::SearchResponse r;
    r.status = Status::unavailable("peer " + region + " did not answer");
    call->finish(scheduler, std::move(r));
  });
  // A crashed caller never hears back: its timeout died with it, and so does the answer.
  call->done = [alive = alive_, done = std::move(call->done)](node::SearchResponse r) {
    if (*alive) done(std::move(r));
  };
  world_.network().send(self_, target, request_bytes(request), [this, call, target, request] {
    world_.serve_search(target, request, false, [this, call, target](node::SearchResponse r) {
      world_.network().send(target, self_, response_bytes(r),
                            [this, call, r = std::move(r)]() mutable {
                              call->finish(world_.scheduler(), std::move(r));
                            });
    });
  });
}

void SimPeers::fetch_shard_delta(const std::string& region, const node::ShardDeltaRequest& request,
                                 std::function<void(node::ShardDeltaResponse)> done) {
  const RegionIndex target = world_.scenario().find_region(region).value_or(self_);
  auto call = std::make_shared<Call<node::ShardDeltaResponse>>();
  call->done = [alive = alive_, done = std::move(done)](node::ShardDeltaResponse r) {
    if (*alive) done(std::move(r));
  };
  Scheduler& scheduler = world_.scheduler();
  // Signature and delta cross the link at its bandwidth; the timeout allows for large ones.
  call->timeout = scheduler.after(30 * env::kSecond, [call, &scheduler, region] {
    node::ShardDeltaResponse r;
    r.status = Status::unavailable("peer " + region + " did not answer the catch-up request");
    call->finish(scheduler, std::move(r));
  });
  world_.network().send(
      self_, target, 64 + request.signature.size(), [this, call, target, request] {
        if (!world_.serving(target)) return;  // nobody answers; the caller times out
        node::ShardDeltaResponse r = world_.node(target)->serve_shard_delta(request);
        const size_t bytes = 128 + r.delta.size();
        world_.network().send(target, self_, bytes, [this, call, r = std::move(r)]() mutable {
          call->finish(world_.scheduler(), std::move(r));
        });
      });
}

void SimPeers::fetch_shard_digest(const std::string& region,
                                  const node::ShardDigestRequest& request,
                                  std::function<void(node::ShardDigestResponse)> done) {
  const RegionIndex target = world_.scenario().find_region(region).value_or(self_);
  auto call = std::make_shared<Call<node::ShardDigestResponse>>();
  call->done = [alive = alive_, done = std::move(done)](node::ShardDigestResponse r) {
    if (*alive) done(std::move(r));
  };
  Scheduler& scheduler = world_.scheduler();
  const TimeNs timeout =
      2 * world_.network().expected_latency(self_, target) + 500 * env::kMillisecond;
  call->timeout = scheduler.after(timeout, [call, &scheduler, region] {
    node::ShardDigestResponse r;
    r.status = Status::unavailable("peer " + region + " did not answer the digest request");
    call->finish(scheduler, std::move(r));
  });
  world_.network().send(self_, target, 64, [this, call, target, request] {
    if (!world_.serving(target)) return;
    node::ShardDigestResponse r = world_.node(target)->serve_shard_digest(request);
    const size_t bytes = 128 + r.version_vector.size();
    world_.network().send(target, self_, bytes, [this, call, r = std::move(r)]() mutable {
      call->finish(world_.scheduler(), std::move(r));
    });
  });
}

}  // namespace meridian::sim
