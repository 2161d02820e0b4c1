// Test fixture for region_node_test.cc and region_node_read_test.cc: one to three region nodes
// ("a" id 1, "b" id 2, "c" id 3) on the simulator's pieces, wired as sim/world.cc wires them: per
// region a SimClock, SimDisk and SimLogCluster with the topics wal.c (kShards partitions) and
// heartbeat, and MirrorMaker-like SimMirrors of both topics into each region from the other over a
// Network (kOneWay apart). Peers are a test double that forwards to the other node through the
// scheduler, or fails, as the test says. Everything runs on one Scheduler, seeded.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/record_codec.h"
#include "engine/node/coverage.h"
#include "engine/node/node_env.h"
#include "engine/node/region_node.h"
#include "sim/network.h"
#include "sim/process_timers.h"
#include "sim/rng.h"
#include "sim/scheduler.h"
#include "sim/sim_clock.h"
#include "sim/sim_disk.h"
#include "sim/sim_files.h"
#include "sim/sim_log.h"
#include "sim/sim_mirror.h"
#include "sim/sim_offload.h"

namespace meridian::sim::node_test {

using env::kMillisecond;
using env::kSecond;

inline constexpr TimeNs kOneWay = 30 * kMillisecond;
inline constexpr uint32_t kShards = 4;
inline constexpr uint32_t kDim = 4;
inline const std::string kColl = "c";

class Recorder final : public node::NodeObserver {
 public:
  struct Applied {
    uint32_t shard;
    std::string id;
    uint64_t sequence;
    bool duplicate;
  };
  void on_applied(const std::string&, uint32_t shard, const Mutation& m, bool dup) override {
    applied.push_back({shard, m.vector_id, m.origin_sequence, dup});
  }
  void on_corrupt_record(const env::LogRecord&, const Status& why) override {
    corrupt.push_back(why);
  }
  void on_durability_problem(const std::string& what) override { durability.push_back(what); }
  std::vector<Applied> applied;
  std::vector<Status> corrupt;
  std::vector<std::string> durability;
};

class TestPeers final : public node::Peers {
 public:
  explicit TestPeers(Scheduler& scheduler) : scheduler_(scheduler) {}
  void forward_search(const std::string& region, const node::SearchRequest& request,
                      std::function<void(node::SearchResponse)> done) override {
    targets.push_back(region);
    auto it = nodes.find(region);
    if (fail || it == nodes.end()) {
      scheduler_.after(2 * delay, [done = std::move(done), region, alive = alive_] {
        if (!*alive) return;
        node::SearchResponse r;
        r.status = Status::unavailable("peer " + region + " unreachable");
        done(std::move(r));
      });
      return;
    }
    node::RegionNode* target = it->second;
    scheduler_.after(delay, [this, target, request, done = std::move(done), alive = alive_] {
      if (!*alive) return;
      target->search(request, [this, done, alive](node::SearchResponse r) {
        scheduler_.after(delay, [done, r = std::move(r), alive] {
          if (*alive) done(r);
        });
      });
    });
  }
  void fetch_shard_delta(const std::string& region, const node::ShardDeltaRequest& request,
                         std::function<void(node::ShardDeltaResponse)> done) override {
    auto it = nodes.find(region);
    node::ShardDeltaResponse r;
    if (fail || it == nodes.end()) {
      r.status = Status::unavailable("peer " + region + " unreachable");
    } else {
      r = it->second->serve_shard_delta(request);
    }
    scheduler_.after(2 * delay, [done = std::move(done), r = std::move(r), alive = alive_] {
      if (*alive) done(r);
    });
  }
  void fetch_shard_digest(const std::string& region, const node::ShardDigestRequest& request,
                          std::function<void(node::ShardDigestResponse)> done) override {
    auto it = nodes.find(region);
    node::ShardDigestResponse r;
    if (fail || it == nodes.end()) {
      r.status = Status::unavailable("peer " + region + " unreachable");
    } else {
      r = it->second->serve_shard_digest(request);
    }
    scheduler_.after(2 * delay, [done = std::move(done), r = std::move(r), alive = alive_] {
      if (*alive) done(r);
    });
  }
  // The calling process died: answers still in flight are never delivered (its node is gone).
  void drop_calls() {
    *alive_ = false;
    alive_ = std::make_shared<bool>(true);
  }
  std::map<std::string, node::RegionNode*> nodes;  // reachable regions
  bool fail = false;                               // every call fails (after 2 * delay)
  TimeNs delay = kOneWay;                          // one way
  std::vector<std::string> targets;                // every call's region

 private:
  Scheduler& scheduler_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

struct Region {
  Region(Scheduler& s, const std::string& name, uint64_t seed, const SimLogSpec& log_spec)
      : clock(s),
        rng(Rng::derive(seed, "node/" + name)),
        disk(s),
        log(s, disk, name, log_spec, Rng::derive(seed, "log/" + name)),
        files(disk, Rng::derive(seed, "files/" + name)),
        peers(s) {}
  SimClock clock;
  Rng rng;
  SimDisk disk;
  SimLogCluster log;
  SimFiles files;
  TestPeers peers;
  Recorder observer;
  std::unique_ptr<ProcessTimers> timers;  // the node process's: killed on crash
  std::unique_ptr<SimOffload> offload;    // with Nodes::digest_offload_delay
  std::unique_ptr<node::RegionNode> node;
};

template <typename T>
struct Reply {
  bool done = false;
  T r;
  TimeNs at = -1;
};

inline std::vector<float> embedding(float x) { return {x, x + 1, -x, 0.5f}; }

inline node::WriteRequest upsert(const std::string& id, float x) {
  node::WriteRequest w;
  w.op = Op::kUpsert;
  w.collection = kColl;
  w.vector_id = id;
  w.embedding = embedding(x);
  return w;
}

inline node::SearchRequest query(node::Consistency c, float x) {
  node::SearchRequest q;
  q.collection = kColl;
  q.query = embedding(x);
  q.k = 10;
  q.consistency = c;
  return q;
}

inline bool has_hit(const node::SearchResponse& r, const std::string& id) {
  for (const SearchHit& h : r.hits) {
    if (h.id == id) return true;
  }
  return false;
}

// A valid upsert as region `origin` ("a" → 1, "b" → 2) would log it.
inline Mutation mutation_from(const std::string& origin, const std::string& id, uint64_t seq) {
  Mutation m;
  m.op = Op::kUpsert;
  m.collection = kColl;
  m.vector_id = id;
  m.embedding = embedding(7);
  m.timestamp = uint64_t(SimClock::kEpochWallMs) << 16;
  m.origin_region = origin == "a" ? 1 : 2;
  m.origin_sequence = seq;
  return m;
}

inline std::vector<Mutation> decoded(const SimLogCluster& log, const std::string& topic,
                                     uint32_t partition) {
  std::vector<Mutation> out;
  for (const env::LogRecord& r : log.records(topic, partition)) {
    Result<Mutation> m = decode_mutation(r.value);
    EXPECT_TRUE(m.is_ok()) << m.status().to_string();
    if (m.is_ok()) out.push_back(std::move(m).value());
  }
  return out;
}

class Nodes {
 public:
  // digest_offload_delay >= 0: the nodes take shard digests through a SimOffload that answers
  // that long after, as the real build does on a thread of its own; else on the loop at once.
  explicit Nodes(size_t n, const std::function<void(node::NodeOptions&)>& tweak = {},
                 uint64_t seed = 42, const SimLogSpec& log_spec = {},
                 TimeNs digest_offload_delay = -1)
      : tweak_(tweak),
        digest_offload_delay_(digest_offload_delay),
        network_(scheduler, Rng::derive(seed, "network")) {
    const std::vector<std::string>& names = names_;
    for (size_t r = 0; r < n; ++r) {
      network_.add_region(names[r], LinkSpec{kOneWay, 0, 0.0, 0});
      regions_.push_back(std::make_unique<Region>(scheduler, names[r], seed, log_spec));
      EXPECT_TRUE(log(r).create_topic(node::wal_topic(kColl), kShards).is_ok());
      EXPECT_TRUE(log(r).create_topic(node::kHeartbeatTopic, 1).is_ok());
    }
    for (RegionIndex target = 0; target < n; ++target) {
      for (RegionIndex source = 0; source < n; ++source) {
        if (source == target) continue;
        for (const std::string& topic :
             {std::string(node::kHeartbeatTopic), node::wal_topic(kColl)}) {
          const std::string key = names[source] + "->" + names[target] + "/" + topic;
          auto m = std::make_unique<SimMirror>(scheduler, network_, log(source), source,
                                               log(target), target, topic, SimMirrorSpec{},
                                               Rng::derive(seed, "mirror/" + key));
          m->start();
          mirrors_[key] = std::move(m);
        }
      }
    }
    for (size_t r = 0; r < n; ++r) start_node(r, /*fresh_deployment=*/true);
    for (size_t r = 0; r < n; ++r) {
      for (size_t i = 0; i < n; ++i) {
        if (i != r) regions_[r]->peers.nodes[names[i]] = regions_[i]->node.get();
      }
    }
  }
  // The node process of region r crashes (its timers, subscriptions and pending produces die
  // with it) and a new incarnation starts at once, recovering from the log.
  void crash_and_restart(size_t r, SimFiles::CrashMode mode = SimFiles::CrashMode::kLoseUnsynced) {
    Region& region = *regions_[r];
    region.timers->kill();
    region.peers.drop_calls();
    region.node.reset();
    region.log.drop_clients();
    region.files.crash(mode);
    region.log.fence_crashed_producers();
    start_node(r, /*fresh_deployment=*/false);
    for (size_t i = 0; i < regions_.size(); ++i) {
      if (i != r) regions_[i]->peers.nodes[names_[r]] = region.node.get();
    }
  }

  ~Nodes() {
    for (auto& r : regions_) r->node.reset();  // nodes first, then what feeds them
    mirrors_.clear();
  }

  node::RegionNode& node(size_t r) { return *regions_[r]->node; }
  SimLogCluster& log(size_t r) { return regions_[r]->log; }
  SimFiles& files(size_t r) { return regions_[r]->files; }
  SimDisk& disk(size_t r) { return regions_[r]->disk; }
  SimClock& clock(size_t r) { return regions_[r]->clock; }
  TestPeers& peers(size_t r) { return regions_[r]->peers; }
  Recorder& observer(size_t r) { return regions_[r]->observer; }
  Network& network() { return network_; }
  SimMirror& mirror(const std::string& from, const std::string& to, const std::string& topic) {
    return *mirrors_.at(from + "->" + to + "/" + topic);
  }
  void run_for(TimeNs d) { scheduler.run_until(scheduler.now() + d); }

  std::shared_ptr<Reply<node::WriteResponse>> write(size_t r, node::WriteRequest w) {
    auto out = std::make_shared<Reply<node::WriteResponse>>();
    node(r).write(std::move(w), [this, out](node::WriteResponse resp) {
      EXPECT_FALSE(out->done) << "write answered twice";
      *out = {true, std::move(resp), scheduler.now()};
    });
    return out;
  }
  std::shared_ptr<Reply<node::SearchResponse>> search(size_t r, node::SearchRequest q) {
    auto out = std::make_shared<Reply<node::SearchResponse>>();
    node(r).search(std::move(q), [this, out](node::SearchResponse resp) {
      EXPECT_FALSE(out->done) << "search answered twice";
      *out = {true, std::move(resp), scheduler.now()};
    });
    return out;
  }

  // The options region r's node starts with.
  node::NodeOptions options(size_t r, bool fresh_deployment) const {
    const size_t n = regions_.size();
    node::NodeOptions o;
    o.self = {names_[r], RegionId(r + 1)};
    for (size_t i = 0; i < n; ++i) o.regions.push_back({names_[i], RegionId(i + 1)});
    CollectionConfig config;
    config.name = kColl;
    config.index.dimension = kDim;
    config.num_shards = kShards;
    o.collections.push_back(config);
    o.fresh_deployment = fresh_deployment;
    if (tweak_) tweak_(o);
    return o;
  }

  Scheduler scheduler;

 private:
  void start_node(size_t r, bool fresh_deployment) {
    node::NodeOptions o = options(r, fresh_deployment);
    Region& region = *regions_[r];
    region.timers = std::make_unique<ProcessTimers>(scheduler);
    region.offload.reset();
    if (digest_offload_delay_ >= 0) {
      region.offload = std::make_unique<SimOffload>(*region.timers, digest_offload_delay_);
    }
    node::NodeEnv env{region.clock, *region.timers, region.rng,          region.log,
                      region.peers, &region.files,  region.offload.get()};
    region.node = std::make_unique<node::RegionNode>(std::move(o), env);
    region.node->set_observer(&region.observer);
    EXPECT_TRUE(region.node->start().is_ok());
  }

  const std::vector<std::string> names_ = {"a", "b", "c"};
  std::function<void(node::NodeOptions&)> tweak_;
  TimeNs digest_offload_delay_ = -1;  // see the constructor
  Network network_;
  std::vector<std::unique_ptr<Region>> regions_;
  std::map<std::string, std::unique_ptr<SimMirror>> mirrors_;
};

}  // namespace meridian::sim::node_test
