#include "sim/world.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "engine/node/region_node.h"
#include "sim/workload.h"
#include "sim/world_region.h"

namespace meridian::sim {

World::World(const Scenario& scenario, uint64_t seed) : scenario_(scenario), seed_(seed) {}

World::~World() {
  // Nodes first (they hold their environment), then what feeds them.
  for (auto& r : regions_) r->node.reset();
  for (auto& r : regions_) r->mirrors.clear();
}

node::RegionNode* World::node(RegionIndex r) { return regions_[r]->node.get(); }

bool World::serving(RegionIndex r) const {
  return regions_[r]->node != nullptr && !regions_[r]->outage;
}

Status World::setup() {
  network_ = std::make_unique<Network>(scheduler_, rng("network"));
  for (const RegionSpec& spec : scenario_.regions) network_->add_region(spec.name);
  for (const ScenarioLink& l : scenario_.links) {
    LinkSpec link;
    link.latency = l.latency_ns;
    link.jitter = l.jitter_ns;
    link.loss = l.loss;
    link.bandwidth_bytes_per_s = l.bandwidth_bytes_per_s;
    network_->set_link(l.from, l.to, link);
  }
  for (RegionIndex r = 0; r < region_count(); ++r) build_region(r);
  // Mirrors run in the target region and pull every topic of every other region.
  for (RegionIndex target = 0; target < region_count(); ++target) {
    for (RegionIndex source = 0; source < region_count(); ++source) {
      if (source == target) continue;
      std::vector<std::string> topics = {node::kHeartbeatTopic};
      for (const CollectionSpec& c : scenario_.collections) {
        topics.push_back(node::wal_topic(c.config.name));
      }
      for (const std::string& topic : topics) {
        regions_[target]->mirrors.push_back(std::make_unique<SimMirror>(
            scheduler_, *network_, *regions_[source]->log, source, *regions_[target]->log, target,
            topic, SimMirrorSpec{},
            rng("mirror/" + region_name(source) + "->" + region_name(target) + "/" + topic)));
        regions_[target]->mirrors.back()->start();
      }
    }
  }
  for (RegionIndex r = 0; r < region_count(); ++r) {
    start_node(r, /*fresh_deployment=*/true);
    if (Status s = regions_[r]->node->start(); !s.is_ok()) return s;
  }
  load_initial_vectors();
  start_time_ = scheduler_.now();
  return Status::ok();
}

void World::build_region(RegionIndex r) {
  auto region = std::make_unique<Region>();
  region->index = r;
  region->clock = std::make_unique<SimClock>(scheduler_);
  region->clock->set_skew_ms(scenario_.regions[r].clock_skew_ns / env::kMillisecond);
  region->node_rng = std::make_unique<Rng>(rng("node/" + region_name(r)));
  SimDiskSpec disk;
  disk.write_latency_ns = scenario_.disk.write_latency_ns;
  disk.fsync_latency_ns = scenario_.disk.fsync_latency_ns;
  disk.throughput_bytes_per_s = scenario_.disk.throughput_bytes_per_s;
  region->disk = std::make_unique<SimDisk>(scheduler_, disk);
  SimLogSpec log;
  log.ack_latency_ns = scenario_.log.ack_latency_ns;
  log.fetch_wait_ns = scenario_.log.fetch_wait_ns;
  log.subscribe_setup_ns = scenario_.log.subscribe_setup_ns;
  log.retention_ns = scenario_.log.retention_ns;
  log.produce_timeout_ns = scenario_.log.produce_timeout_ns;
  log.producer_buffer_records = scenario_.log.producer_buffer_records;
  region->log = std::make_unique<SimLogCluster>(scheduler_, *region->disk, region_name(r), log,
                                                rng("log/" + region_name(r)));
  for (const CollectionSpec& c : scenario_.collections) {
    Status s = region->log->create_topic(node::wal_topic(c.config.name), c.config.num_shards);
    assert(s.is_ok());
  }
  Status s = region->log->create_topic(node::kHeartbeatTopic, 1);
  assert(s.is_ok());
  (void)s;
  region->files = std::make_unique<SimFiles>(*region->disk, rng("files/" + region_name(r)));
  region->peers = std::make_unique<SimPeers>(*this, r);
  region->observer = std::make_unique<TraceObserver>(*this, r);
  region->core_free_at.assign(kSearchCoresPerRegion, 0);
  regions_.push_back(std::move(region));
}

void World::start_node(RegionIndex r, bool fresh_deployment) {
  Region& region = *regions_[r];
  node::NodeOptions options;
  options.fresh_deployment = fresh_deployment;
  options.self = {region_name(r), scenario_.regions[r].id};
  for (const RegionSpec& spec : scenario_.regions) options.regions.push_back({spec.name, spec.id});
  for (const CollectionSpec& c : scenario_.collections) options.collections.push_back(c.config);
  region.timers = std::make_unique<ProcessTimers>(scheduler_);
  region.peers->set_liveness(region.timers->liveness());
  node::NodeEnv env{*region.clock, *region.timers, *region.node_rng,
                    *region.log,   *region.peers,  region.files.get()};
  region.node = std::make_unique<node::RegionNode>(std::move(options), env);
  region.node->set_observer(region.observer.get());
}

void World::load_initial_vectors() {
  // Written through region 0's node like any client write, in waves that respect the node's
  // admission bound, then replicated to every region before the scenario starts. A node takes
  // writes once its own subscriptions read (log.subscribe_setup_ms).
  while (!regions_[0]->node->recovered() && scheduler_.step()) {
  }
  for (const CollectionSpec& c : scenario_.collections) {
    if (c.initial_vectors == 0) continue;
    std::vector<node::WriteRequest> writes =
        initial_vector_writes(c, rng("initial/" + c.config.name));
    uint64_t acked = 0, issued = 0;
    const uint64_t wave = 2000;
    while (acked < c.initial_vectors) {
      const uint64_t until = std::min<uint64_t>(c.initial_vectors, issued + wave);
      for (; issued < until; ++issued) {
        regions_[0]->node->write(std::move(writes[issued]), [&acked](node::WriteResponse r) {
          assert(r.status.is_ok());
          acked += r.status.is_ok() ? 1 : 0;
        });
      }
      while (acked < issued && scheduler_.step()) {
      }
    }
    // Let every region apply everything.
    auto all_applied = [&] {
      for (auto& region : regions_) {
        if (region->node->collection(c.config.name)->live_count() < c.initial_vectors) return false;
      }
      return true;
    };
    while (!all_applied() && scheduler_.step()) {
    }
  }
}

// ---- faults ----

void World::set_region_outage(RegionIndex r, bool down) {
  regions_[r]->outage = down;
  regions_[r]->log->set_available(!down);
}

void World::crash_node(RegionIndex r, bool lose_unsynced) {
  Region& region = *regions_[r];
  if (region.crashes_active++ > 0) return;
  region.timers->kill();
  region.crashed_counters.push_back(region.node->counters());
  region.node.reset();
  region.log->drop_clients();
  region.files->crash(lose_unsynced ? SimFiles::CrashMode::kTear
                                    : SimFiles::CrashMode::kKeepUnsynced);
}

void World::restart_node(RegionIndex r) {
  Region& region = *regions_[r];
  if (region.crashes_active == 0 || --region.crashes_active > 0) return;
  region.log->fence_crashed_producers();
  start_node(r, /*fresh_deployment=*/false);
  Status s = region.node->start();
  assert(s.is_ok());  // the same configuration started before
  (void)s;
}

const std::vector<node::NodeCounters>& World::crashed_node_counters(RegionIndex r) const {
  return regions_[r]->crashed_counters;
}

void World::set_broker_outage(RegionIndex r, bool down) { regions_[r]->log->set_available(!down); }

void World::set_clock_skew_ns(RegionIndex r, TimeNs skew) {
  regions_[r]->clock->set_skew_ms(skew / env::kMillisecond);
}

TimeNs World::clock_skew_ns(RegionIndex r) const {
  return regions_[r]->clock->skew_ms() * env::kMillisecond;
}

void World::set_disk_stalled(RegionIndex r, bool stalled) {
  regions_[r]->disk->set_stalled(stalled);
}

void World::set_disk_slowdown(RegionIndex r, double factor) {
  regions_[r]->disk->set_slowdown(factor);
}

}  // namespace meridian::sim
