#include "sim/scenario_loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sim/scenario_loader_test_support.h"

namespace meridian::sim {
namespace {

using namespace loader_test;  // kFull, kMinimal, the parse helpers and the time units

TEST(ScenarioLoaderTest, FullExampleParsesWithEveryValue) {
  const Scenario s = parse_ok(kFull);
  EXPECT_EQ(s.source, "x.yaml");
  EXPECT_EQ(s.name, "full-example");
  EXPECT_EQ(s.description, "Every field at once.");
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.duration_ns, 90 * kSecond);
  EXPECT_EQ(s.liveness_ns, 45 * kSecond);

  ASSERT_EQ(s.regions.size(), 3u);
  EXPECT_EQ(s.regions[1].name, "europe-west1");
  EXPECT_EQ(s.regions[1].id, 2);
  EXPECT_EQ(s.regions[1].clock_skew_ns, 1500 * kMillisecond);
  EXPECT_EQ(s.regions[2].clock_skew_ns, -250'500 * kMicrosecond);
  EXPECT_EQ(s.regions[2].clock_drift_ppm, 40);
  EXPECT_EQ(s.find_region("eastus"), RegionIndex(2));
  EXPECT_EQ(s.find_region("nowhere"), std::nullopt);

  // Every ordered pair, sorted, each reachable through link().
  ASSERT_EQ(s.links.size(), 6u);
  for (RegionIndex from = 0; from < 3; ++from) {
    for (RegionIndex to = 0; to < 3; ++to) {
      if (from == to) continue;
      EXPECT_EQ(s.link(from, to).from, from);
      EXPECT_EQ(s.link(from, to).to, to);
    }
  }
  const ScenarioLink& transatlantic = s.link(1, 0);  // `between` gives both directions
  EXPECT_EQ(transatlantic.latency_ns, 38 * kMillisecond);
  EXPECT_EQ(transatlantic.jitter_ns, 2 * kMillisecond);
  EXPECT_DOUBLE_EQ(transatlantic.loss, 0.001);
  EXPECT_DOUBLE_EQ(transatlantic.bandwidth_bytes_per_s, 100e6);
  EXPECT_EQ(transatlantic.source, "PERF.md physics");
  EXPECT_FALSE(transatlantic.from_default);
  EXPECT_EQ(s.link(0, 2).latency_ns, 750 * kMicrosecond);
  EXPECT_EQ(s.link(0, 2).jitter_ns, 0);
  EXPECT_EQ(s.link(2, 0).latency_ns, 800 * kMicrosecond);
  EXPECT_EQ(s.link(2, 0).jitter_ns, 250 * kMicrosecond);
  EXPECT_TRUE(s.link(2, 1).from_default);
  EXPECT_EQ(s.link(2, 1).latency_ns, 40 * kMillisecond);
  EXPECT_EQ(s.link(2, 1).source, "physics");

  EXPECT_EQ(s.log.ack_latency_ns, 3 * kMillisecond);
  EXPECT_EQ(s.log.fetch_wait_ns, 20 * kMillisecond);
  EXPECT_EQ(s.log.subscribe_setup_ns, 150 * kMillisecond);
  EXPECT_EQ(s.log.retention_ns, 3600 * kSecond);
  EXPECT_EQ(s.log.produce_timeout_ns, 5 * kSecond);
  EXPECT_EQ(s.log.producer_buffer_records, 5000u);
  EXPECT_EQ(s.disk.write_latency_ns, 40 * kMicrosecond);
  EXPECT_EQ(s.disk.fsync_latency_ns, 800 * kMicrosecond);
  EXPECT_DOUBLE_EQ(s.disk.throughput_bytes_per_s, 150e6);

  ASSERT_EQ(s.collections.size(), 2u);
  const CollectionConfig& docs = s.collections[0].config;
  EXPECT_EQ(docs.name, "docs");
  EXPECT_EQ(docs.index.dimension, 32u);
  EXPECT_EQ(docs.index.metric, Metric::kCosine);
  EXPECT_EQ(docs.index.kind, IndexKind::kHnsw);
  EXPECT_EQ(docs.num_shards, 8u);
  EXPECT_EQ(docs.index_partitions, 2u);
  EXPECT_EQ(docs.index.hnsw_m, 16u);
  EXPECT_EQ(docs.index.hnsw_ef_search, 48u);
  EXPECT_EQ(docs.index.hnsw_ef_construction, IndexParams{}.hnsw_ef_construction);
  EXPECT_EQ(s.collections[0].initial_vectors, 2000u);
  const CollectionConfig& images = s.collections[1].config;
  EXPECT_EQ(images.index.kind, IndexKind::kIvf);
  EXPECT_EQ(images.index.ivf_nlist, 8u);
  EXPECT_EQ(images.index.ivf_nprobe, 8u);  // the default 16 capped at nlist
  EXPECT_TRUE(validate(images).is_ok());

  const WorkloadSpec& w = s.workload;
  EXPECT_EQ(w.collection, "docs");
  EXPECT_EQ(w.collection_index, 0u);
  EXPECT_EQ(w.keys, 8000u);
  EXPECT_EQ(w.key_distribution, KeyDistribution::kZipf);
  EXPECT_DOUBLE_EQ(w.zipf_exponent, 1.2);
  EXPECT_EQ(w.hot_shard, 3u);
  ASSERT_EQ(w.rates.size(), 3u);
  EXPECT_EQ(w.rates[0], (OpRates{100, 5, 10, 50}));
  EXPECT_EQ(w.rates[1], (OpRates{100, 5, 10, 50}));
  EXPECT_EQ(w.rates[2], (OpRates{100, 5, 10, 200}));  // only searches overridden
  EXPECT_EQ(w.sessions_per_region, 3u);
  EXPECT_DOUBLE_EQ(w.session_reads_per_s, 2);
  EXPECT_EQ(w.k, 20u);
  EXPECT_DOUBLE_EQ(w.exact_search_fraction, 0.25);
  EXPECT_TRUE(w.failover);
  EXPECT_EQ(w.request_timeout_ns, 750 * kMillisecond);

  ASSERT_EQ(s.faults.size(), 13u);
  const FaultSpec& partition = s.faults[0];
  EXPECT_EQ(partition.kind, FaultKind::kPartition);
  EXPECT_EQ(partition.regions, (std::vector<RegionIndex>{0, 1}));
  EXPECT_EQ(partition.at_ns, 10 * kSecond);
  EXPECT_EQ(partition.duration_ns, 5 * kSecond);
  EXPECT_EQ(partition.source_line, 55);
  EXPECT_EQ(s.faults[1].kind, FaultKind::kOneWayPartition);
  EXPECT_EQ(s.faults[1].from, 2u);
  EXPECT_EQ(s.faults[1].to, 1u);
  EXPECT_FALSE(s.faults[1].both_directions);
  EXPECT_TRUE(s.faults[2].both_directions);
  EXPECT_DOUBLE_EQ(s.faults[2].factor, 5);
  EXPECT_EQ(s.faults[3].period_ns, 500 * kMillisecond);
  EXPECT_DOUBLE_EQ(s.faults[3].up_fraction, 0.5);
  EXPECT_EQ(s.faults[4].skew_ns, -3 * kSecond);
  EXPECT_DOUBLE_EQ(s.faults[5].drift_ppm, 150);
  EXPECT_EQ(s.faults[6].kind, FaultKind::kRegionOutage);
  EXPECT_EQ(s.faults[6].region, 1u);
  EXPECT_EQ(s.faults[7].kind, FaultKind::kBrokerOutage);
  EXPECT_EQ(s.faults[8].kind, FaultKind::kDiskStall);
  EXPECT_DOUBLE_EQ(s.faults[9].factor, 20);
  EXPECT_FALSE(s.faults[10].lose_unsynced);
  EXPECT_EQ(s.faults[11].kind, FaultKind::kIsolate);
  EXPECT_EQ(s.faults[12].regions, (std::vector<RegionIndex>{2, 0, 1}));
  EXPECT_EQ(s.faults[12].step_ns, 200 * kMillisecond);

  EXPECT_TRUE(s.swarm.enabled);
  ASSERT_EQ(s.swarm.faults_per_minute.size(), 2u);
  EXPECT_EQ(s.swarm.faults_per_minute.at(FaultKind::kPartition), (ValueRange{0, 2}));
  EXPECT_EQ(s.swarm.faults_per_minute.at(FaultKind::kCrashRestart), (ValueRange{0, 0.5}));
  EXPECT_EQ(s.swarm.max_fault_duration_ns, 20 * kSecond);
  EXPECT_EQ(s.swarm.link_loss, (ValueRange{0, 0.01}));
  EXPECT_EQ(s.swarm.slow_link_factor, (ValueRange{2, 10}));
  EXPECT_EQ(s.swarm.max_clock_skew_ns, 2 * kSecond);
  ASSERT_TRUE(s.sweep.has_value());
  EXPECT_EQ(s.sweep->duration_ns, 30 * kSecond);
  EXPECT_DOUBLE_EQ(s.sweep->rates_scale, 0.25);

  const Expectations& e = s.expect;
  EXPECT_TRUE(e.converge);
  EXPECT_TRUE(e.no_lost_acknowledged_writes);
  EXPECT_FALSE(e.read_your_writes);
  EXPECT_EQ(e.max_error_rate, 0.05);
  EXPECT_EQ(e.search_p99_max_ns, (std::vector<std::optional<TimeNs>>{
                                     20 * kMillisecond, std::nullopt, 30 * kMillisecond}));
  ASSERT_EQ(e.replication_lag_p99.size(), 1u);
  EXPECT_EQ(e.replication_lag_p99[0].from, 0u);
  EXPECT_EQ(e.replication_lag_p99[0].to, 1u);
  EXPECT_EQ(e.replication_lag_p99[0].p99_max_ns, 150 * kMillisecond);
  EXPECT_EQ(e.max_staleness_ns, 5 * kSecond);
  EXPECT_EQ(e.hot_shard_detected, true);
  EXPECT_EQ(e.coverage, (std::vector<std::string>{"read_repair", "producer_buffer_full"}));
}

TEST(ScenarioLoaderTest, MinimalScenarioGetsTheDocumentedDefaults) {
  const Scenario s = parse_ok(kMinimal);
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.description, "");
  EXPECT_EQ(s.liveness_ns, 30 * kSecond);
  EXPECT_EQ(s.regions[0].clock_skew_ns, 0);
  EXPECT_EQ(s.regions[0].clock_drift_ppm, 0);
  EXPECT_EQ(s.link(0, 1).jitter_ns, 0);
  EXPECT_EQ(s.link(0, 1).loss, 0);
  EXPECT_EQ(s.link(0, 1).bandwidth_bytes_per_s, 0);  // unlimited
  EXPECT_EQ(s.log.ack_latency_ns, LogSpec{}.ack_latency_ns);
  EXPECT_EQ(s.log.retention_ns, 0);  // forever
  EXPECT_EQ(s.disk.throughput_bytes_per_s, DiskSpec{}.throughput_bytes_per_s);

  const CollectionConfig& c = s.collections[0].config;
  EXPECT_EQ(c.index.metric, Metric::kL2);
  EXPECT_EQ(c.index.kind, IndexKind::kFlat);
  EXPECT_EQ(c.num_shards, CollectionConfig{}.num_shards);
  EXPECT_EQ(c.index_partitions, 1u);
  EXPECT_EQ(s.collections[0].initial_vectors, 0u);

  const WorkloadSpec& w = s.workload;
  EXPECT_EQ(w.collection, "docs");  // the only collection
  EXPECT_EQ(w.key_distribution, KeyDistribution::kUniform);
  EXPECT_EQ(w.hot_shard, std::nullopt);
  EXPECT_EQ(w.rates, (std::vector<OpRates>(2, OpRates{})));
  EXPECT_EQ(w.sessions_per_region, 0u);
  EXPECT_EQ(w.k, 10u);
  EXPECT_EQ(w.exact_search_fraction, 1.0);
  EXPECT_FALSE(w.failover);
  EXPECT_EQ(w.request_timeout_ns, 1000 * kMillisecond);

  EXPECT_TRUE(s.faults.empty());
  EXPECT_FALSE(s.swarm.enabled);
  EXPECT_FALSE(s.sweep.has_value());
  EXPECT_TRUE(s.expect.converge);
  EXPECT_TRUE(s.expect.no_lost_acknowledged_writes);
  EXPECT_TRUE(s.expect.read_your_writes);
  EXPECT_EQ(s.expect.max_error_rate, std::nullopt);
  EXPECT_EQ(s.expect.search_p99_max_ns, (std::vector<std::optional<TimeNs>>(2)));
  EXPECT_EQ(s.expect.hot_shard_detected, std::nullopt);
}

TEST(ScenarioLoaderTest, SweepDurationDefaultsToTheRunAndSearchBoundToEveryRegion) {
  const Scenario s = parse_ok(std::string(kMinimal) +
                              "sweep: {rates_scale: 0.5}\nexpect: {search_p99_ms: 12.5}\n");
  EXPECT_EQ(s.sweep->duration_ns, 10 * kSecond);
  EXPECT_EQ(s.expect.search_p99_max_ns,
            (std::vector<std::optional<TimeNs>>(2, 12'500 * kMicrosecond)));
}

// The annotated example in docs/scenarios.md is kFull with comments: it loads to the same values.
TEST(ScenarioFilesTest, DocumentedExampleMatchesTheFullExample) {
  std::ifstream in(std::filesystem::path(MERIDIAN_SOURCE_DIR) / "docs" / "scenarios.md");
  ASSERT_TRUE(in) << "docs/scenarios.md not found";
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string open = "```yaml\n";
  const size_t start = doc.find(open);
  ASSERT_NE(start, std::string::npos);
  const size_t end = doc.find("```", start + open.size());
  ASSERT_NE(end, std::string::npos);
  const Scenario documented = parse_ok(doc.substr(start + open.size(), end - start - open.size()));
  const Scenario full = parse_ok(kFull);
  EXPECT_EQ(documented.name, full.name);
  EXPECT_EQ(documented.duration_ns, full.duration_ns);
  ASSERT_EQ(documented.regions.size(), full.regions.size());
  for (size_t i = 0; i < full.regions.size(); ++i) {
    EXPECT_EQ(documented.regions[i].clock_skew_ns, full.regions[i].clock_skew_ns);
  }
  ASSERT_EQ(documented.links.size(), full.links.size());
  for (size_t i = 0; i < full.links.size(); ++i) {
    EXPECT_EQ(documented.links[i].latency_ns, full.links[i].latency_ns);
    EXPECT_EQ(documented.links[i].from_default, full.links[i].from_default);
  }
  EXPECT_EQ(documented.log.producer_buffer_records, full.log.producer_buffer_records);
  ASSERT_EQ(documented.collections.size(), full.collections.size());
  EXPECT_EQ(documented.collections[0].config.index.hnsw_m, full.collections[0].config.index.hnsw_m);
  EXPECT_EQ(documented.workload.rates, full.workload.rates);
  ASSERT_EQ(documented.faults.size(), full.faults.size());
  for (size_t i = 0; i < full.faults.size(); ++i) {
    EXPECT_EQ(documented.faults[i].kind, full.faults[i].kind);
    EXPECT_EQ(documented.faults[i].at_ns, full.faults[i].at_ns);
  }
  EXPECT_EQ(documented.swarm.faults_per_minute, full.swarm.faults_per_minute);
  EXPECT_EQ(documented.expect.search_p99_max_ns, full.expect.search_p99_max_ns);
  EXPECT_EQ(documented.expect.coverage, full.expect.coverage);
}

// The checked-in scenarios all load, and each is named after its file.
TEST(ScenarioFilesTest, EveryScenarioFileParses) {
  const std::filesystem::path dir = std::filesystem::path(MERIDIAN_SOURCE_DIR) / "scenarios";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  EXPECT_GE(files.size(), 8u);
  for (const std::filesystem::path& file : files) {
    Result<Scenario> r = load_scenario_file(file.string());
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->name, file.stem().string());
    EXPECT_EQ(r->source, file.string());
    if (r->name == "latency-table") {  // by convention every latency there is cited
      for (const ScenarioLink& link : r->links) {
        EXPECT_FALSE(link.source.empty() || link.from_default)
            << r->regions[link.from].name << " -> " << r->regions[link.to].name;
      }
    }
  }
}

}  // namespace
}  // namespace meridian::sim
