// RegionNode: periodic digest comparison with peers (anti-entropy's second half, DESIGN.md §4).
//
// Version vectors say which mutations a replica applied; digests say what state it holds. Two
// replicas with equal version vectors must hold equal state (the CRDT is deterministic), so a
// digest mismatch between them is a divergence no amount of log replay will fix. The node
// reports it and pulls the peer's snapshot by delta catch-up, whose merge (a join) converges
// both sides' content where the difference came from missing data. Different version vectors
// prove nothing (one side is simply behind) and are left to replication and catch-up by lag.
#include <algorithm>

#include "engine/core/shard_digest.h"
#include "engine/core/shard_snapshot.h"
#include "engine/node/collection_state.h"
#include "engine/node/coverage.h"
#include "engine/node/region_node.h"

namespace meridian::node {

namespace {

// The hex digest root of `replica` as if collected at `g`.
std::string digest_root_at(const ShardReplica& replica, uint64_t g) {
  if (g <= replica.collected_below()) return to_hex(digest_shard(replica).root);
  ShardReplica copy = replica;
  copy.collect_garbage(g);
  return to_hex(digest_shard(copy).root);
}

}  // namespace

void RegionNode::digest_at(const ShardReplica& replica, uint64_t g,
                           std::function<void(std::string root)> done) {
  if (env_.offload == nullptr) {
    done(digest_root_at(replica, g));
    return;
  }
  // A copy whose entries are shared with the replica (vector_entry.h): a pointer per id on the
  // loop, against a pass that encodes and hashes every entry, which happens off it.
  auto copy = std::make_shared<ShardReplica>(replica);
  if (g > copy->collected_below()) copy->collect_garbage(g);
  env_.offload->run([copy] { return to_hex(digest_shard(*copy).root); },
                    [done = std::move(done)](std::optional<std::string> root) {
                      done(root.value_or(""));  // dropped (shutting down): no digest
                    });
}

void RegionNode::check_next_digest() {
  env_.timers.after(options_.digest_check_interval, [this] { check_next_digest(); });
  std::vector<std::pair<std::string, uint32_t>> shards;
  for (const auto& [name, state] : collections_) {
    for (uint32_t s = 0; s < state->collection->config().num_shards; ++s)
      shards.emplace_back(name, s);
  }
  std::vector<const RegionInfo*> peers;
  for (const RegionInfo& r : options_.regions) {
    if (r.id != options_.self.id) peers.push_back(&r);
  }
  if (shards.empty() || peers.empty()) return;
  const uint64_t round = digest_round_++;
  const auto [collection, shard] = shards[round % shards.size()];
  const RegionInfo& peer = *peers[(round / shards.size()) % peers.size()];
  ShardDigestRequest request{collection, shard, shard_stable_frontier(collection, shard), {}};
  encode_version_vector(find(collection)->collection->shard(shard).version_vector(),
                        &request.version_vector);
  env_.peers.fetch_shard_digest(peer.name, request,
                                [this, collection, shard, &peer](ShardDigestResponse response) {
                                  compare_digest(collection, shard, peer, response);
                                });
}

void RegionNode::compare_digest(const std::string& collection, uint32_t shard,
                                const RegionInfo& peer, const ShardDigestResponse& response) {
  if (!response.status.is_ok()) return;  // unreachable or unsupported: try again next round
  CollectionState* state = find(collection);
  Result<VersionVector> theirs = decode_version_vector(response.version_vector);
  if (state == nullptr || !theirs.is_ok()) return;
  const ShardReplica& replica = state->collection->shard(shard);
  if (!(*theirs == replica.version_vector())) return;  // one side is behind: nothing to compare
  // The peer did not digest: our vectors differed when it answered (and are equal now only
  // because we have caught up with it since). Next round.
  if (response.digest_root.empty()) return;
  // The peer digested its state collected at response.stable_frontier; equal version vectors
  // mean we applied the same mutations, so we are complete below it too and can do the same.
  // If we have meanwhile collected beyond it, our state cannot be brought back: next round.
  if (replica.collected_below() > response.stable_frontier) return;
  digest_at(replica, response.stable_frontier,
            [this, collection, shard, &peer, theirs = response.digest_root](std::string ours) {
              on_digests(collection, shard, peer, ours, theirs);
            });
}

void RegionNode::on_digests(const std::string& collection, uint32_t shard, const RegionInfo& peer,
                            const std::string& ours, const std::string& theirs) {
  if (ours.empty()) return;  // not taken (the environment dropped the work)
  ++counters_.digest_checks;
  COVER("digest_compared");
  if (ours == theirs) return;
  COVER("digest_mismatch");
  ++counters_.digest_mismatches;
  report_durability_problem(collection + " shard " + std::to_string(shard) +
                            ": same version vector as " + peer.name +
                            " but a different digest (replicas diverged); catching up from it");
  if (catching_up_.count({collection, shard}) == 0) start_catch_up(collection, shard, peer.id);
}

RegionNode::DigestToServe RegionNode::prepare_shard_digest(const ShardDigestRequest& request) {
  DigestToServe out;
  ShardDigestResponse& response = out.response;
  response.served_by = options_.self.name;
  const CollectionState* state = find(request.collection);
  if (state == nullptr) {
    response.status = Status::not_found("no collection '" + request.collection + "'");
    return out;
  }
  if (request.shard >= state->collection->config().num_shards) {
    response.status = Status::invalid_argument("no shard " + std::to_string(request.shard));
    return out;
  }
  const ShardReplica& replica = state->collection->shard(request.shard);
  encode_version_vector(replica.version_vector(), &response.version_vector);
  if (!request.version_vector.empty()) {
    Result<VersionVector> theirs = decode_version_vector(request.version_vector);
    if (!theirs.is_ok()) {
      response.status = Status::invalid_argument("version_vector: " + theirs.status().message());
      return out;
    }
    if (!(*theirs == replica.version_vector())) {
      COVER("digest_skipped_vectors_differ");
      return out;  // one side is behind: a digest would be thrown away
    }
  }
  // The larger frontier: whichever side is behind the other's version vector makes the
  // comparison moot anyway, and with equal vectors both are complete below either frontier.
  response.stable_frontier =
      std::max(request.stable_frontier, shard_stable_frontier(request.collection, request.shard));
  out.replica = &replica;
  return out;
}

ShardDigestResponse RegionNode::serve_shard_digest(const ShardDigestRequest& request) {
  DigestToServe d = prepare_shard_digest(request);
  if (d.replica != nullptr) {
    d.response.digest_root = digest_root_at(*d.replica, d.response.stable_frontier);
  }
  return std::move(d.response);
}

void RegionNode::serve_shard_digest(const ShardDigestRequest& request,
                                    std::function<void(ShardDigestResponse)> done) {
  DigestToServe d = prepare_shard_digest(request);
  if (d.replica == nullptr) {
    done(std::move(d.response));
    return;
  }
  digest_at(*d.replica, d.response.stable_frontier,
            [response = std::move(d.response), done = std::move(done)](std::string root) mutable {
              response.digest_root = std::move(root);  // empty if not taken: nothing to compare
              done(std::move(response));
            });
}

}  // namespace meridian::node
