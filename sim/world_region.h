// World internals: one simulated region (private to sim/world*.cc).
#pragma once

#include <memory>
#include <vector>

#include "engine/node/node_env.h"
#include "engine/node/region_node.h"
#include "sim/process_timers.h"
#include "sim/sim_clock.h"
#include "sim/sim_disk.h"
#include "sim/sim_files.h"
#include "sim/sim_log.h"
#include "sim/sim_mirror.h"
#include "sim/world.h"

namespace meridian::sim {

// The node's view of its peers: forwarded searches travel over the simulated network.
class SimPeers final : public node::Peers {
 public:
  SimPeers(World& world, RegionIndex self) : world_(world), self_(self) {}
  void forward_search(const std::string& region, const node::SearchRequest& request,
                      std::function<void(node::SearchResponse)> done) override;
  void fetch_shard_delta(const std::string& region, const node::ShardDeltaRequest& request,
                         std::function<void(node::ShardDeltaResponse)> done) override;
  void fetch_shard_digest(const std::string& region, const node::ShardDigestRequest& request,
                          std::function<void(node::ShardDigestResponse)> done) override;
  // The current node incarnation's liveness: answers for a crashed one are dropped.
  void set_liveness(std::shared_ptr<const bool> alive) { alive_ = std::move(alive); }

 private:
  World& world_;
  RegionIndex self_;
  std::shared_ptr<const bool> alive_ = std::make_shared<const bool>(true);
};

// The node records what it applies into the run's trace (for lag and the checker).
class TraceObserver final : public node::NodeObserver {
 public:
  TraceObserver(World& world, RegionIndex region) : world_(world), region_(region) {}
  void on_applied(const std::string& collection, uint32_t shard, const Mutation& m,
                  bool duplicate) override {
    if (!duplicate) {
      world_.trace().applied(world_.region_name(region_), collection, m.origin_region, shard,
                             m.origin_sequence, world_.scheduler().now());
    }
  }
  void on_corrupt_record(const env::LogRecord& record, const Status& why) override {
    world_.trace().corrupt_record(world_.region_name(region_),
                                  record.topic + ": " + why.to_string());
  }
  void on_caught_up(const std::string& collection, uint32_t shard, const VersionVector& before,
                    const VersionVector& after) override {
    for (RegionId origin : after.origins()) {
      for (uint64_t seq = 1; seq <= after.max_sequence(origin); ++seq) {
        if (after.contains(origin, seq) && !before.contains(origin, seq)) {
          world_.trace().applied(world_.region_name(region_), collection, origin, shard, seq,
                                 world_.scheduler().now());
        }
      }
    }
  }
  void on_durability_problem(const std::string& what) override {
    world_.trace().note(world_.scheduler().now(), world_.region_name(region_) + ": " + what);
  }

 private:
  World& world_;
  RegionIndex region_;
};

struct World::Region {
  RegionIndex index = 0;
  std::unique_ptr<SimClock> clock;
  std::unique_ptr<Rng> node_rng;
  std::unique_ptr<SimDisk> disk;
  std::unique_ptr<SimLogCluster> log;
  std::unique_ptr<SimFiles> files;                  // the node's segment files; survive its crashes
  std::vector<std::unique_ptr<SimMirror>> mirrors;  // into this region, from every other one
  std::unique_ptr<SimPeers> peers;
  std::unique_ptr<TraceObserver> observer;
  std::unique_ptr<ProcessTimers> timers;             // the node process's; killed when it crashes
  std::unique_ptr<node::RegionNode> node;            // null while crashed
  int crashes_active = 0;                            // overlapping crash faults (swarm)
  std::vector<node::NodeCounters> crashed_counters;  // of incarnations that died
  std::vector<TimeNs> core_free_at;
  bool outage = false;
};

}  // namespace meridian::sim
