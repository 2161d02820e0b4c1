#include "tests/integration/real_run.h"

#include <grpcpp/client_context.h>

#include <utility>

#include "engine/core/rsync_delta.h"
#include "engine/core/segment_file.h"
#include "engine/core/shard_digest.h"
#include "engine/node/collection_state.h"
#include "engine/real/api/status_map.h"

namespace meridian::itest {

namespace {

// A fetched snapshot may be at most this much larger than the size the node announced.
constexpr size_t kSnapshotSlackBytes = size_t(1) << 20;

void set_deadline(grpc::ClientContext* context, std::chrono::milliseconds timeout) {
  context->set_deadline(std::chrono::system_clock::now() + timeout);
}

Status failed(const std::string& what, const Status& why) {
  return Status(why.code(), what + ": " + why.to_string());
}

// Per shard, NodeStatus's writes_accepted_here for collection `config`; empty if the node does
// not hold the collection.
std::vector<uint64_t> write_counts(const v1::NodeStatusResponse& status,
                                   const CollectionConfig& config) {
  for (const v1::CollectionStatus& c : status.collections()) {
    if (c.name() != config.name) continue;
    std::vector<uint64_t> counts(config.num_shards, 0);
    for (const v1::ShardStatus& s : c.shards()) {
      if (s.shard() < counts.size()) counts[s.shard()] = s.writes_accepted_here();
    }
    return counts;
  }
  return {};
}

// One shard's snapshot, fetched and verified as a catch-up would (engine/node/catch_up.cc).
// `stable_frontier` receives the frontier the node collected the snapshot at.
Result<ShardReplica> fetch_shard(v1::Meridian::Stub& stub, const CollectionConfig& config,
                                 uint32_t shard, const std::string& empty_signature,
                                 std::chrono::milliseconds timeout, uint64_t* stable_frontier) {
  const std::string what = config.name + " shard " + std::to_string(shard);
  v1::ShardDeltaRequest request;
  request.set_collection(config.name);
  request.set_shard(shard);
  request.set_signature(empty_signature);
  v1::ShardDeltaResponse response;
  grpc::ClientContext context;
  set_deadline(&context, timeout);
  grpc::Status s = stub.FetchShardDelta(&context, request, &response);
  if (!s.ok()) return failed("FetchShardDelta " + what, real::api::from_grpc(s));
  Result<std::string> bytes =
      rsync_patch("", response.delta(), response.snapshot_bytes() + kSnapshotSlackBytes);
  if (!bytes.is_ok()) return failed("patching " + what, bytes.status());
  Result<Segment> segment = read_segment(*bytes);
  if (!segment.is_ok()) return failed("reading " + what, segment.status());
  if (segment->header != node::snapshot_header(config, shard) || !segment->replica) {
    return Status::corruption(what + ": not this shard's snapshot as the scenario configures it");
  }
  if (to_hex(digest_shard(*segment->replica).root) != response.digest_root()) {
    return Status::corruption(what + ": digest differs from the one the node sent");
  }
  *stable_frontier = response.stable_frontier();
  return std::move(*segment->replica);
}

}  // namespace

RealRun::RealRun(const sim::Scenario& scenario, uint64_t seed, sim::TimeNs start_time,
                 sim::Trace trace)
    : scenario_(scenario),
      seed_(seed),
      start_time_(start_time),
      trace_(std::move(trace)),
      regions_(scenario.regions.size()) {}

Status RealRun::fetch_region(sim::RegionIndex r, v1::Meridian::Stub& stub,
                             std::chrono::milliseconds timeout) {
  const std::string& region = region_name(r);
  v1::NodeStatusResponse status;
  grpc::ClientContext context;
  set_deadline(&context, timeout);
  grpc::Status s = stub.NodeStatus(&context, v1::NodeStatusRequest{}, &status);
  if (!s.ok()) return failed("NodeStatus of " + region, real::api::from_grpc(s));
  Result<std::string> empty_signature = rsync_signature("");
  if (!empty_signature.is_ok()) return empty_signature.status();
  RegionState state;
  for (const sim::CollectionSpec& spec : scenario_.collections) {
    const CollectionConfig& config = spec.config;
    std::vector<uint64_t> counts = write_counts(status, config);
    if (counts.empty()) continue;  // the region does not hold it: collection() says nullptr
    Result<std::unique_ptr<Collection>> collection = Collection::create(config);
    if (!collection.is_ok()) return collection.status();
    std::vector<uint64_t> frontiers(config.num_shards, 0);
    for (uint32_t shard = 0; shard < config.num_shards; ++shard) {
      Result<ShardReplica> replica =
          fetch_shard(stub, config, shard, *empty_signature, timeout, &frontiers[shard]);
      if (!replica.is_ok()) return failed(region, replica.status());
      Status merged = (*collection)->merge_shard(*replica, 0, frontiers[shard]);
      if (!merged.is_ok()) return failed(region + " merging shard", merged);
    }
    state.collections[config.name] = std::move(collection).value();
    state.stable_frontiers[config.name] = std::move(frontiers);
    state.write_counts[config.name] = std::move(counts);
  }
  state.running = true;
  regions_.at(r) = std::move(state);
  return Status::ok();
}

const Collection* RealRun::collection(sim::RegionIndex r, const std::string& name) const {
  const auto& collections = regions_.at(r).collections;
  auto it = collections.find(name);
  return it == collections.end() ? nullptr : it->second.get();
}

uint64_t RealRun::shard_stable_frontier(sim::RegionIndex r, const std::string& name,
                                        uint32_t shard) const {
  const auto& frontiers = regions_.at(r).stable_frontiers;
  auto it = frontiers.find(name);
  return it == frontiers.end() || shard >= it->second.size() ? 0 : it->second[shard];
}

std::vector<uint64_t> RealRun::shard_write_counts(sim::RegionIndex r,
                                                  const std::string& name) const {
  const auto& counts = regions_.at(r).write_counts;
  auto it = counts.find(name);
  return it == counts.end() ? std::vector<uint64_t>() : it->second;
}

}  // namespace meridian::itest
