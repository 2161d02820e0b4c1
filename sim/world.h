// A simulated deployment: the regions of a Scenario, each running the production RegionNode
// (engine/node) on simulated clocks, network, Kafka-semantics log and disk, all driven by one
// Scheduler in virtual time. The world knows nothing about workloads or checks: clients call
// client_write/client_search (the ClientEnv of sim/client_env.h); the fault runner flips the
// switches below; the checker reads the nodes and the trace afterwards (sim/checked_world.h).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/node/region_node.h"
#include "sim/client_env.h"
#include "sim/network.h"
#include "sim/rng.h"
#include "sim/scenario.h"
#include "sim/scheduler.h"
#include "sim/trace.h"

namespace meridian::sim {

class SimLogCluster;
class SimMirror;
class SimDisk;
class SimClock;
class SimPeers;

class World final : public ClientEnv {
 public:
  // `scenario` must outlive the world. Every random stream derives from `seed`.
  World(const Scenario& scenario, uint64_t seed);
  ~World() override;
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // Builds regions, links, log clusters, mirrors and nodes, then loads each collection's
  // initial_vectors (written in region 0 and replicated everywhere before time 0 of the
  // scenario proper; the setup time is reported separately). Fails on an invalid scenario.
  Status setup();

  const Scenario& scenario() const override { return scenario_; }
  uint64_t seed() const { return seed_; }
  Scheduler& scheduler() { return scheduler_; }
  Network& network() { return *network_; }
  Trace& trace() override { return trace_; }
  size_t region_count() const { return scenario_.regions.size(); }
  const std::string& region_name(RegionIndex r) const { return scenario_.regions[r].name; }
  // A named random stream derived from the run seed (sim/rng.h).
  Rng rng(std::string_view name) const override { return Rng::derive(seed_, name); }
  // ClientEnv's clock and timers: the scheduler's virtual time.
  TimeNs now() const override { return scheduler_.now(); }
  void at(TimeNs at, std::function<void()> fn) override { scheduler_.at(at, std::move(fn)); }
  // Virtual time at which the scenario proper (workload, faults) starts: after setup.
  TimeNs start_time() const { return start_time_; }

  // The node of region r; nullptr while the region's process is down (crash).
  node::RegionNode* node(RegionIndex r);
  // True while region r answers clients (not in a region outage or crash).
  bool serving(RegionIndex r) const;

  // A client living in region `client` sends a request to region `target`. The request and
  // the response each cross the network (one-way latency of the link; local latency when
  // client == target). `done` runs exactly once: with the node's response, or with an
  // unavailable status when no response arrives within the scenario's request timeout.
  void client_write(RegionIndex client, RegionIndex target, node::WriteRequest request,
                    std::function<void(node::WriteResponse)> done) override;
  // Searches also queue for one of the target region's search cores for their modelled CPU
  // cost. With `cost_only`, the node is not asked (the answer has no hits and is not checked):
  // the scenario's exact_search_fraction decides which searches are real.
  void client_search(RegionIndex client, RegionIndex target, node::SearchRequest request,
                     bool cost_only, std::function<void(node::SearchResponse)> done) override;

  // Runs a search at region `target` once one of its search cores is free for the modelled
  // cost; `done` gets the node's response (cost_only: an empty one). Nothing runs if the region
  // is not serving. Used for client searches and for searches forwarded between regions.
  void serve_search(RegionIndex target, node::SearchRequest request, bool cost_only,
                    std::function<void(node::SearchResponse)> done);

  // --- faults (used by the fault runner) ---
  void set_region_outage(RegionIndex r, bool down);  // node unreachable + log cluster down
  void set_broker_outage(RegionIndex r, bool down);  // log cluster down only
  void set_clock_skew_ns(RegionIndex r, TimeNs skew);
  TimeNs clock_skew_ns(RegionIndex r) const;
  void set_disk_stalled(RegionIndex r, bool stalled);
  void set_disk_slowdown(RegionIndex r, double factor);
  // The node process of region r dies: its timers, subscriptions, pending produces and
  // in-memory state are gone (clients time out; the log, mirrors and disk live on). restart
  // fences the dead incarnation's producer and starts a new node that recovers from the log.
  // Overlapping crashes nest: the node restarts when the last one ends.
  // `lose_unsynced`: the node's file writes not yet durable are lost, and the one in progress is
  // left torn (SimFiles::CrashMode::kTear); otherwise they still land.
  void crash_node(RegionIndex r, bool lose_unsynced);
  void restart_node(RegionIndex r);
  // Counters of region r's node incarnations that crashed (the running one is not included).
  const std::vector<node::NodeCounters>& crashed_node_counters(RegionIndex r) const;

  // Modelled CPU time of one search in `collection` holding `live_vectors` (docs/cost-model.md).
  static TimeNs search_cost_ns(const CollectionConfig& collection, size_t live_vectors);
  static constexpr int kSearchCoresPerRegion = 2;

 private:
  struct Region;
  void build_region(RegionIndex r);
  void start_node(RegionIndex r, bool fresh_deployment);
  void load_initial_vectors();
  TimeNs one_way(RegionIndex from, RegionIndex to) const;
  void queue_search(RegionIndex target, TimeNs cost, std::function<void()> run);

  const Scenario& scenario_;
  uint64_t seed_;
  Scheduler scheduler_;
  std::unique_ptr<Network> network_;
  Trace trace_;
  std::vector<std::unique_ptr<Region>> regions_;
  TimeNs start_time_ = 0;
};

}  // namespace meridian::sim
