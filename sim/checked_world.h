// The simulator's side of the checker seam (sim/checked_run.h): a finished World as the checker
// reads it. Every region's state is its running node's (a crashed region is not running); the
// simulator records every apply time and counts coverage marks in this process
// (engine/node/coverage.h, reset by the runner at the start of each run).
#pragma once

#include "engine/node/coverage.h"
#include "sim/checked_run.h"
#include "sim/world.h"

namespace meridian::sim {

class CheckedWorld final : public CheckedRun {
 public:
  // `world` must outlive this view; it is read, never changed.
  explicit CheckedWorld(World& world) : world_(world) {}

  const Scenario& scenario() const override { return world_.scenario(); }
  const Trace& trace() const override { return world_.trace(); }
  uint64_t seed() const override { return world_.seed(); }
  TimeNs start_time() const override { return world_.start_time(); }

  bool running(RegionIndex r) const override { return world_.node(r) != nullptr; }
  const Collection* collection(RegionIndex r, const std::string& name) const override {
    return world_.node(r)->collection(name);
  }
  uint64_t shard_stable_frontier(RegionIndex r, const std::string& name,
                                 uint32_t shard) const override {
    return world_.node(r)->shard_stable_frontier(name, shard);
  }
  std::vector<uint64_t> shard_write_counts(RegionIndex r, const std::string& name) const override {
    return world_.node(r)->shard_write_counts(name);
  }

  bool records_apply_times() const override { return true; }
  std::optional<uint64_t> coverage_count(const std::string& name) const override {
    return Coverage::count(name);
  }

 private:
  World& world_;
};

}  // namespace meridian::sim
