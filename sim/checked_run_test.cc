// The checker seam (sim/checked_run.h): a run that does not record apply times or coverage marks
// (as a real deployment's clients cannot) gets failing checks that say why, never a pass; the
// same run read with everything recorded passes them.
#include "sim/checked_run.h"

#include <gtest/gtest.h>

#include <string>

#include "sim/checked_world.h"
#include "sim/checker.h"
#include "sim/scenario_loader.h"
#include "sim/workload.h"
#include "sim/world.h"

namespace meridian::sim {
namespace {

constexpr const char* kScenario = R"(
name: seam
seed: 5
duration_s: 2
liveness_s: 5
regions:
  - {name: a, id: 1}
  - {name: b, id: 2}
default_link: {latency_ms: 10}
collections:
  - {name: docs, dimension: 4, shards: 2, initial_vectors: 20}
workload:
  keys: 50
  per_region: {upserts_per_s: 20, deletes_per_s: 2, searches_per_s: 5}
expect:
  replication_lag_p99_ms:
    - {from: a, to: b, max_ms: 5000}
  max_staleness_ms: 5000
  coverage: [tombstone_collected]
)";

// The World's run as an environment that records neither apply times nor coverage marks.
class WithoutApplyTimesOrCoverage final : public CheckedRun {
 public:
  explicit WithoutApplyTimesOrCoverage(const CheckedRun& run) : run_(run) {}
  const Scenario& scenario() const override { return run_.scenario(); }
  const Trace& trace() const override { return run_.trace(); }
  uint64_t seed() const override { return run_.seed(); }
  TimeNs start_time() const override { return run_.start_time(); }
  bool running(RegionIndex r) const override { return run_.running(r); }
  const Collection* collection(RegionIndex r, const std::string& name) const override {
    return run_.collection(r, name);
  }
  uint64_t shard_stable_frontier(RegionIndex r, const std::string& name,
                                 uint32_t shard) const override {
    return run_.shard_stable_frontier(r, name, shard);
  }
  std::vector<uint64_t> shard_write_counts(RegionIndex r, const std::string& name) const override {
    return run_.shard_write_counts(r, name);
  }
  bool records_apply_times() const override { return false; }
  std::optional<uint64_t> coverage_count(const std::string&) const override { return std::nullopt; }

 private:
  const CheckedRun& run_;
};

const CheckOutcome* find(const std::vector<CheckOutcome>& checks, const std::string& name) {
  for (const CheckOutcome& c : checks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

TEST(CheckedRun, ChecksNeedingWhatARunDidNotRecordFailSayingWhy) {
  Result<Scenario> sc = parse_scenario(kScenario, "seam.yaml");
  ASSERT_TRUE(sc.is_ok()) << sc.status().to_string();
  World world(*sc, sc->seed);
  ASSERT_TRUE(world.setup().is_ok());
  Workload workload(world);
  const TimeNs end = world.start_time() + sc->duration_ns;
  workload.start(end);
  world.scheduler().run_until(end + sc->liveness_ns);

  const CheckedWorld recorded(world);
  const std::vector<CheckOutcome> all = check(recorded, compute_metrics(recorded));
  const WithoutApplyTimesOrCoverage partial_run(recorded);
  const RunMetrics partial_metrics = compute_metrics(partial_run);
  const std::vector<CheckOutcome> partial = check(partial_run, partial_metrics);

  EXPECT_FALSE(compute_metrics(recorded).lag.empty());
  EXPECT_TRUE(partial_metrics.lag.empty());
  for (const char* name : {"replication_lag_p99[a->b]", "max_staleness_ms"}) {
    ASSERT_NE(find(all, name), nullptr) << name;
    EXPECT_TRUE(find(all, name)->passed) << name << ": " << find(all, name)->detail;
    ASSERT_NE(find(partial, name), nullptr) << name;
    EXPECT_FALSE(find(partial, name)->passed) << name;
    EXPECT_NE(find(partial, name)->detail.find("not measurable"), std::string::npos);
  }
  ASSERT_NE(find(partial, "coverage"), nullptr);
  EXPECT_FALSE(find(partial, "coverage")->passed);
  EXPECT_NE(find(partial, "coverage")->detail.find("does not count coverage marks"),
            std::string::npos);
  // What both can measure, they judge alike.
  for (const char* name : {"converge", "no_lost_acknowledged_writes", "read_your_writes"}) {
    ASSERT_NE(find(all, name), nullptr) << name;
    ASSERT_NE(find(partial, name), nullptr) << name;
    EXPECT_EQ(find(all, name)->passed, find(partial, name)->passed) << name;
    EXPECT_EQ(find(all, name)->detail, find(partial, name)->detail) << name;
  }
}

}  // namespace
}  // namespace meridian::sim
