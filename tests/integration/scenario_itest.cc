// Case 7 of the ThreeRegions suite (three_region_fixture.h; docs/integration-tests.md): the
// simulator's scenario scenarios/smoke-real.yaml, played against this deployment by the
// simulator's own workload and judged by the simulator's own checker (scenario_run.h). The same
// file passes in `meridian-sim run`; passing here too is the proof that the engine/environment
// seam holds: one engine, one workload, one checker, two environments.
#include <string>
#include <vector>

#include "sim/scenario_loader.h"
#include "tests/integration/scenario_run.h"
#include "tests/integration/three_region_fixture.h"

namespace meridian::itest {
namespace {

// The scenario must describe this deployment: regions a, b, c with their ids, and the one
// collection every node serves (three_region_fixture.h writes it into the node configs).
void expect_matches_deployment(const sim::Scenario& sc) {
  ASSERT_EQ(sc.regions.size(), size_t(kRegions));
  for (int r = 0; r < kRegions; ++r) {
    EXPECT_EQ(sc.regions[r].name, kNames[r]);
    EXPECT_EQ(int(sc.regions[r].id), g->regions[r].id);
  }
  v1::NodeStatusResponse status;
  ASSERT_TRUE(node_status(0, &status).ok());
  ASSERT_EQ(sc.collections.size(), 1u);
  ASSERT_EQ(status.collections_size(), 1);
  const CollectionConfig& want = sc.collections[0].config;
  const v1::CollectionStatus& have = status.collections(0);
  EXPECT_EQ(have.name(), want.name);
  EXPECT_EQ(have.dimension(), want.index.dimension);
  EXPECT_EQ(have.num_shards(), want.num_shards);
}

}  // namespace

TEST_F(ThreeRegions, Case7_SmokeRealScenarioPassesTheSimulatorsChecker) {
  const std::string path = std::string(MERIDIAN_SOURCE_DIR) + "/scenarios/smoke-real.yaml";
  Result<sim::Scenario> loaded = sim::load_scenario_file(path);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  const sim::Scenario& sc = *loaded;
  const std::vector<std::string> limits = real_run_limits(sc);
  ASSERT_TRUE(limits.empty()) << path << " cannot run against a real deployment:\n" << join(limits);
  expect_matches_deployment(sc);
  if (HasFatalFailure() || HasFailure()) return;

  RealDeployment d;
  for (Region& region : g->regions) d.stubs.push_back(region.stub.get());
  d.set_broker_outage = [](sim::RegionIndex r, bool down) {
    Region& region = g->regions[r];
    Status s = down ? region.broker->kill() : region.broker->restart();
    if (s.is_ok()) region.broker_up = !down;
    return s;
  };
  d.converged = [](std::string* why) { return converged(why); };

  const RealScenarioResult result = run_real_scenario(sc, d);
  ASSERT_TRUE(result.status.is_ok()) << result.status.to_string();
  for (const std::string& e : result.events) report("case 7: %s", e.c_str());
  const sim::RunMetrics& m = result.metrics;
  char line[400];
  std::snprintf(line, sizeof line,
                "case 7 figures: %s, seed %llu: setup %.1f s; faulty phase %.1f s (%llu requests, "
                "%llu errors, %zu acknowledged writes, %llu session reads); converged %.1f s into "
                "the liveness phase; final states fetched in %.1f s",
                sc.name.c_str(), (unsigned long long)sc.seed, result.setup_s, result.faulty_s,
                (unsigned long long)m.requests, (unsigned long long)m.errors,
                result.run->trace().acked_writes().size(), (unsigned long long)m.sessions.total,
                result.converged_after_s, result.fetch_s);
  report("%s", line);
  g->figures.push_back(line);
  for (const sim::CheckOutcome& c : result.checks) {
    const std::string outcome =
        std::string(c.passed ? "PASS " : "FAIL ") + c.name + "  " + c.detail;
    report("case 7: %s", outcome.c_str());
    g->figures.push_back("case 7: " + outcome);
    EXPECT_TRUE(c.passed) << c.name << ": " << c.detail;
  }
  EXPECT_FALSE(result.checks.empty()) << "the scenario expects nothing";
}

}  // namespace meridian::itest
