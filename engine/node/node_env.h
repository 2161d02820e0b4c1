// What a region node gets from its environment: the env seam plus typed calls to peer regions.
#pragma once

#include <functional>
#include <string>

#include "engine/env/env.h"
#include "engine/node/requests.h"

namespace meridian::node {

// Requests to other regions. The real build carries them over gRPC with mutual TLS; the
// simulator over its network model. `done` runs exactly once, on the engine's thread.
class Peers {
 public:
  virtual ~Peers() = default;
  // Runs `request` at `region` (a session read waits there for its token; anything else is
  // served from the remote's local replica). On failure (unreachable, timeout) the response
  // carries a non-ok status.
  virtual void forward_search(const std::string& region, const SearchRequest& request,
                              std::function<void(SearchResponse)> done) = 0;
  // Asks `region` for the delta that brings one shard up to its state (RegionNode::
  // serve_shard_delta there). The default answers `unsupported`: an environment without it
  // simply never catches up by delta (the node keeps waiting for the log).
  virtual void fetch_shard_delta(const std::string& region, const ShardDeltaRequest& request,
                                 std::function<void(ShardDeltaResponse)> done) {
    (void)request;
    ShardDeltaResponse r;
    r.status = Status::unsupported("delta catch-up is not wired to " + region);
    done(std::move(r));
  }
  // Asks `region` for one shard's version vector and digest (RegionNode::serve_shard_digest
  // there). The default answers `unsupported`: no digest comparison then.
  virtual void fetch_shard_digest(const std::string& region, const ShardDigestRequest& request,
                                  std::function<void(ShardDigestResponse)> done) {
    (void)request;
    ShardDigestResponse r;
    r.status = Status::unsupported("digest exchange is not wired to " + region);
    done(std::move(r));
  }
};

struct NodeEnv {
  env::Clock& clock;
  env::Timers& timers;
  env::Random& random;
  env::Log& log;
  Peers& peers;
  // The node's own files (segment snapshots and checkpoint manifests). Null: no local
  // durability; a restarted node then replays every log from offset 0.
  env::Files* files = nullptr;
  // Where shard digests are computed. Null: on the loop, at once (the simulator).
  env::Offload* offload = nullptr;
};

}  // namespace meridian::node
