// A finished scenario run against a real deployment, as the checker reads it (sim/checked_run.h):
// the trace the clients recorded (tests/integration/real_clients.h) and every region's final
// state, fetched from its meridian-node over the existing gRPC API.
//
// A region's state is what a peer would get: for every shard of every scenario collection,
// FetchShardDelta against an empty basis (the delta is then the whole snapshot segment), patched
// onto the empty basis, read and verified like a catch-up does (segment checksums, header, the
// digest the node sent), and merged into a fresh Collection at the stable frontier the node
// reported with it. Per-shard write counts come from NodeStatus (writes_accepted_here).
//
// Not recorded in a real run, and declared so (the checks that need them fail and say why):
// per-write apply times in each region (a client sees acknowledgements, not applies) and
// coverage marks (each node counts them in its own process).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/status.h"
#include "proto/meridian.grpc.pb.h"
#include "sim/checked_run.h"

namespace meridian::itest {

class RealRun final : public sim::CheckedRun {
 public:
  // `scenario` must outlive this object; the trace is copied.
  RealRun(const sim::Scenario& scenario, uint64_t seed, sim::TimeNs start_time, sim::Trace trace);

  // Fetches region r's final state from `stub` (each call's deadline `timeout`). On success the
  // region counts as running; on failure it stays not running (the checks then fail naming it)
  // and the error says what failed.
  Status fetch_region(sim::RegionIndex r, v1::Meridian::Stub& stub,
                      std::chrono::milliseconds timeout);

  const sim::Scenario& scenario() const override { return scenario_; }
  const sim::Trace& trace() const override { return trace_; }
  uint64_t seed() const override { return seed_; }
  sim::TimeNs start_time() const override { return start_time_; }
  bool running(sim::RegionIndex r) const override { return regions_.at(r).running; }
  const Collection* collection(sim::RegionIndex r, const std::string& name) const override;
  uint64_t shard_stable_frontier(sim::RegionIndex r, const std::string& name,
                                 uint32_t shard) const override;
  std::vector<uint64_t> shard_write_counts(sim::RegionIndex r,
                                           const std::string& name) const override;
  bool records_apply_times() const override { return false; }
  std::optional<uint64_t> coverage_count(const std::string&) const override { return std::nullopt; }

 private:
  struct RegionState {
    bool running = false;
    std::map<std::string, std::unique_ptr<Collection>> collections;
    std::map<std::string, std::vector<uint64_t>> stable_frontiers;  // per shard
    std::map<std::string, std::vector<uint64_t>> write_counts;      // per shard
  };
  const sim::Scenario& scenario_;
  const uint64_t seed_;
  const sim::TimeNs start_time_;
  const sim::Trace trace_;
  std::vector<RegionState> regions_;
};

}  // namespace meridian::itest
