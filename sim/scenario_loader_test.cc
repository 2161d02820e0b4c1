#include "sim/scenario_loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace meridian::sim {
namespace {

using env::kMicrosecond;
using env::kMillisecond;
using env::kSecond;

// Every block and most keys, with non-default values (the annotated example in
// docs/scenarios.md is the same scenario). Line numbers matter to the error tests below.
constexpr const char* kFull = R"(name: full-example
description: Every field at once.
seed: 42
duration_s: 90
liveness_s: 45
regions:
  - {name: us-east-1, id: 1}
  - {name: europe-west1, id: 2, clock_skew_ms: 1500}
  - {name: eastus, id: 3, clock_skew_ms: -250.5, clock_drift_ppm: 40}
default_link: {latency_ms: 40, jitter_ms: 3, source: "physics"}
links:
  - between: [us-east-1, europe-west1]
    latency_ms: 38
    jitter_ms: 2
    loss: 0.001
    bandwidth_mbps: 800
    source: PERF.md physics
  - {from: us-east-1, to: eastus, latency_ms: 0.75}
  - {from: eastus, to: us-east-1, latency_ms: 0.8, jitter_ms: 0.25}
log:
  ack_latency_ms: 3
  fetch_wait_ms: 20
  retention_s: 3600
  produce_timeout_ms: 5000
  producer_buffer_records: 5000
disk: {write_latency_us: 40, fsync_latency_us: 800, throughput_mb_per_s: 150}
collections:
  - name: docs
    dimension: 32
    metric: cosine
    index: hnsw
    shards: 8
    index_partitions: 2
    initial_vectors: 2000
    hnsw_m: 16
    hnsw_ef_search: 48
  - {name: images, dimension: 64, index: ivf, shards: 4, ivf_nlist: 8}
workload:
  collection: docs
  keys: 8000
  key_distribution: zipf
  zipf_exponent: 1.2
  hot_shard: 3
  per_region: {upserts_per_s: 100, deletes_per_s: 5, patches_per_s: 10, searches_per_s: 50}
  regions:
    eastus: {searches_per_s: 200}
  sessions_per_region: 3
  session_reads_per_s: 2
  k: 20
  exact_search_fraction: 0.25
  failover: true
  request_timeout_ms: 750
faults:
  - {kind: partition, regions: [us-east-1, europe-west1], at_s: 10, duration_s: 5}
  - {kind: one_way_partition, from: eastus, to: europe-west1, at_s: 12, duration_s: 3}
  - {kind: slow_link, between: [us-east-1, eastus], factor: 5, at_s: 20, duration_s: 10}
  - {kind: flapping_link, from: eastus, to: us-east-1, period_ms: 500, at_s: 20, duration_s: 10}
  - {kind: clock_skew, region: eastus, skew_ms: -3000, at_s: 30, duration_s: 10}
  - {kind: clock_drift, region: us-east-1, ppm: 150, at_s: 30, duration_s: 20}
  - {kind: region_outage, region: europe-west1, at_s: 40, duration_s: 15}
  - {kind: broker_outage, region: eastus, at_s: 60, duration_s: 5}
  - {kind: disk_stall, region: us-east-1, at_s: 60, duration_s: 2}
  - {kind: compaction_stall, region: us-east-1, factor: 20, at_s: 62, duration_s: 8}
  - {kind: crash_restart, region: eastus, lose_unsynced: false, at_s: 70, duration_s: 4}
  - {kind: isolate, region: us-east-1, at_s: 75, duration_s: 5}
  - {kind: swizzle_clog, regions: [eastus, us-east-1, europe-west1], step_ms: 200, at_s: 81, duration_s: 6}
swarm:
  enabled: true
  partition_per_minute: [0, 2]
  crash_restart_per_minute: [0, 0.5]
  max_fault_duration_s: 20
  link_loss: [0, 0.01]
  max_clock_skew_ms: 2000
sweep: {duration_s: 30, rates_scale: 0.25}
expect:
  converge: true
  no_lost_acknowledged_writes: true
  read_your_writes: false
  max_error_rate: 0.05
  search_p99_ms: {us-east-1: 20, eastus: 30}
  replication_lag_p99_ms:
    - {from: us-east-1, to: europe-west1, max_ms: 150}
  max_staleness_ms: 5000
  hot_shard_detected: true
  coverage: [read_repair, producer_buffer_full]
)";

// The smallest valid scenario: everything else defaults.
constexpr const char* kMinimal = R"(name: minimal
duration_s: 10
regions:
  - {name: a, id: 1}
  - {name: b, id: 2}
links:
  - {between: [a, b], latency_ms: 5}
collections:
  - {name: docs, dimension: 8}
workload:
  keys: 100
)";

Scenario parse_ok(const std::string& text) {
  Result<Scenario> r = parse_scenario(text, "x.yaml");
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? std::move(r).value() : Scenario{};
}

// The loader's message for `text`, which must be rejected.
std::string error_of(const std::string& text) {
  Result<Scenario> r = parse_scenario(text, "x.yaml");
  EXPECT_FALSE(r.is_ok()) << "accepted:\n" << text;
  if (r.is_ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

// kMinimal with `from` replaced by `to` (which must occur exactly once).
std::string minimal_with(const std::string& from, const std::string& to) {
  std::string s = kMinimal;
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  EXPECT_EQ(s.find(from, at + 1), std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

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
  EXPECT_EQ(partition.source_line, 54);
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

// ---- One test per class of error: exact file, line and field path. ----

TEST(ScenarioLoaderErrorTest, YamlSyntaxError) {
  // " bad" is indented less than the map it would belong to.
  EXPECT_EQ(error_of(minimal_with("  keys: 100", "  keys: 100\n bad: 1")),
            "x.yaml:12: YAML syntax error: end of map not found");
}

TEST(ScenarioLoaderErrorTest, UnknownKeyNearMissSuggestsTheRightOne) {
  EXPECT_EQ(error_of(minimal_with("duration_s: 10", "duraton_s: 10")),
            "x.yaml:2: duraton_s: unknown key (did you mean 'duration_s'?)");
  EXPECT_EQ(error_of(minimal_with("keys: 100", "keys: 100\n  sesions_per_region: 2")),
            "x.yaml:12: workload.sesions_per_region: unknown key (did you mean "
            "'sessions_per_region'?)");
}

TEST(ScenarioLoaderErrorTest, UnknownKeyFarFromAnyListsTheAllowedOnes) {
  EXPECT_EQ(error_of(minimal_with("{name: a, id: 1}", "{name: a, id: 1, colour: red}")),
            "x.yaml:4: regions[0].colour: unknown key (allowed: name, id, clock_skew_ms, "
            "clock_drift_ppm)");
}

TEST(ScenarioLoaderErrorTest, DuplicateKey) {
  EXPECT_EQ(error_of(minimal_with("keys: 100", "keys: 100\n  keys: 200")),
            "x.yaml:12: workload.keys: duplicate key (first given at line 11)");
}

TEST(ScenarioLoaderErrorTest, WrongTypes) {
  EXPECT_EQ(error_of(minimal_with("keys: 100", "keys: many")),
            "x.yaml:11: workload.keys: expected an integer, got 'many'");
  EXPECT_EQ(error_of(minimal_with("keys: 100", "keys: 100.5")),
            "x.yaml:11: workload.keys: expected an integer, got '100.5'");
  EXPECT_EQ(error_of(minimal_with("duration_s: 10", "duration_s: \"10\"")),
            "x.yaml:2: duration_s: expected a number, got the quoted string '10'");
  EXPECT_EQ(error_of(minimal_with("keys: 100", "keys: 100\n  failover: yes")),
            "x.yaml:12: workload.failover: expected true or false, got 'yes'");
  EXPECT_EQ(error_of(minimal_with("workload:\n  keys: 100", "workload: [keys, 100]")),
            "x.yaml:10: workload: expected a map, got a list");
  EXPECT_EQ(error_of(std::string(kMinimal) + "faults: {kind: partition}\n"),
            "x.yaml:12: faults: expected a list, got a map");
  EXPECT_EQ(error_of(minimal_with("duration_s: 10", "duration_s:")),
            "x.yaml:2: duration_s: expected a number, got nothing");
}

TEST(ScenarioLoaderErrorTest, OutOfRangeValues) {
  const std::string with_fault = std::string(kMinimal) +
                                 "faults:\n"
                                 "  - {kind: partition, regions: [a, b], at_s: 1, duration_s: 2}\n"
                                 "  - {kind: partition, regions: [a, b], at_s: 4, duration_s: 2}\n"
                                 "  - kind: isolate\n"
                                 "    region: a\n"
                                 "    at_s: 7\n"
                                 "    duration_s: 0\n";
  EXPECT_EQ(error_of(with_fault), "x.yaml:18: faults[2].duration_s: must be > 0 (got 0)");
  EXPECT_EQ(error_of(minimal_with("{name: b, id: 2}", "{name: b, id: 70000}")),
            "x.yaml:5: regions[1].id: must be <= 65535 (got 70000)");
  EXPECT_EQ(error_of(minimal_with("latency_ms: 5", "latency_ms: 5, loss: 1")),
            "x.yaml:7: links[0].loss: must be < 1 (got 1)");
  EXPECT_EQ(error_of(minimal_with("keys: 100", "keys: 100\n  exact_search_fraction: -0.1")),
            "x.yaml:12: workload.exact_search_fraction: must be >= 0 (got -0.1)");
  EXPECT_EQ(error_of(std::string(kMinimal) + "seed: -1\n"),
            "x.yaml:12: seed: expected an integer in [0, 18446744073709551615], got '-1'");
}

TEST(ScenarioLoaderErrorTest, MissingRequiredFields) {
  EXPECT_EQ(error_of(minimal_with("workload:\n  keys: 100\n", "")),
            "x.yaml:1: workload: required field is missing");
  EXPECT_EQ(error_of(minimal_with("{name: b, id: 2}", "{name: b}")),
            "x.yaml:5: regions[1].id: required field is missing");
  EXPECT_EQ(error_of(minimal_with("latency_ms: 5", "jitter_ms: 5")),
            "x.yaml:7: links[0].latency_ms: required field is missing");
}

TEST(ScenarioLoaderErrorTest, UnknownRegionReferences) {
  EXPECT_EQ(error_of(minimal_with("[a, b]", "[a, c]")),
            "x.yaml:7: links[0].between[1]: unknown region 'c' (regions: a, b)");
  EXPECT_EQ(error_of(std::string(kMinimal) +
                     "faults:\n  - {kind: isolate, region: z, at_s: 1, duration_s: 1}\n"),
            "x.yaml:13: faults[0].region: unknown region 'z' (regions: a, b)");
  EXPECT_EQ(error_of(minimal_with("keys: 100", "keys: 100\n  regions:\n    q: {upserts_per_s: 1}")),
            "x.yaml:13: workload.regions.q: unknown region 'q' (regions: a, b)");
  EXPECT_EQ(error_of(std::string(kMinimal) +
                     "expect:\n  replication_lag_p99_ms:\n    - {from: a, to: x, max_ms: 50}\n"),
            "x.yaml:14: expect.replication_lag_p99_ms[0].to: unknown region 'x' (regions: a, b)");
  EXPECT_EQ(error_of(std::string(kMinimal) + "expect:\n  search_p99_ms: {a: 5, x: 5}\n"),
            "x.yaml:13: expect.search_p99_ms.x: unknown region 'x' (regions: a, b)");
}

TEST(ScenarioLoaderErrorTest, DuplicateRegionNameOrId) {
  EXPECT_EQ(error_of(minimal_with("{name: b, id: 2}", "{name: a, id: 2}")),
            "x.yaml:5: regions[1].name: duplicate region name 'a' (first at line 4)");
  EXPECT_EQ(error_of(minimal_with("{name: b, id: 2}", "{name: b, id: 1}")),
            "x.yaml:5: regions[1].id: duplicate region id 1 (also region 'a')");
}

TEST(ScenarioLoaderErrorTest, LinkGivenTwice) {
  EXPECT_EQ(error_of(minimal_with("latency_ms: 5}",
                                  "latency_ms: 5}\n  - {from: b, to: a, latency_ms: 6}")),
            "x.yaml:8: links[1].from: the link b -> a is already given at line 7");
}

TEST(ScenarioLoaderErrorTest, RegionPairWithoutLinkOrDefault) {
  EXPECT_EQ(error_of(minimal_with("between: [a, b]", "from: a, to: b")),
            "x.yaml:7: links: no link from b to a and no default_link");
  // With a default_link the missing direction is filled in.
  const Scenario s = parse_ok(minimal_with("between: [a, b]", "from: a, to: b") +
                              "default_link: {latency_ms: 9}\n");
  EXPECT_TRUE(s.link(1, 0).from_default);
  EXPECT_EQ(s.link(1, 0).latency_ns, 9 * kMillisecond);
}

TEST(ScenarioLoaderErrorTest, ContradictoryOverlappingFaults) {
  const std::string faults =
      std::string(kMinimal) +
      "faults:\n"
      "  - {kind: slow_link, between: [a, b], factor: 3, at_s: 1, duration_s: 5}\n"
      "  - {kind: slow_link, from: b, to: a, factor: 8, at_s: 4, duration_s: 2}\n";
  EXPECT_EQ(error_of(faults),
            "x.yaml:14: faults[1]: overlaps faults[0] (line 13): two slow_link faults on the "
            "same link at the same time");
  EXPECT_EQ(error_of(std::string(kMinimal) +
                     "faults:\n"
                     "  - {kind: region_outage, region: a, at_s: 1, duration_s: 5}\n"
                     "  - {kind: crash_restart, region: a, at_s: 2, duration_s: 1}\n"),
            "x.yaml:14: faults[1]: overlaps faults[0] (line 13): a crash_restart during a "
            "region_outage of the same region");
  // Back to back is not overlapping; clock steps compose.
  parse_ok(std::string(kMinimal) +
           "faults:\n"
           "  - {kind: slow_link, between: [a, b], factor: 3, at_s: 1, duration_s: 3}\n"
           "  - {kind: slow_link, from: b, to: a, factor: 8, at_s: 4, duration_s: 2}\n"
           "  - {kind: clock_skew, region: a, skew_ms: 100, at_s: 1, duration_s: 5}\n"
           "  - {kind: clock_skew, region: a, skew_ms: -900, at_s: 2, duration_s: 5}\n");
}

TEST(ScenarioLoaderErrorTest, FaultMustFitTheFaultyPhaseAndItsKind) {
  EXPECT_EQ(error_of(std::string(kMinimal) +
                     "faults:\n  - {kind: isolate, region: a, at_s: 8, duration_s: 5}\n"),
            "x.yaml:13: faults[0].duration_s: the fault would end at 13 s, after the faulty "
            "phase (duration_s: 10); the liveness phase heals every fault");
  EXPECT_EQ(
      error_of(std::string(kMinimal) +
               "faults:\n  - {kind: isolate, region: a, factor: 2, at_s: 1, duration_s: 1}\n"),
      "x.yaml:13: faults[0].factor: not a field of kind isolate (it takes: region)");
  EXPECT_EQ(error_of(std::string(kMinimal) +
                     "faults:\n  - {kind: partiton, regions: [a, b], at_s: 1, duration_s: 1}\n"),
            "x.yaml:13: faults[0].kind: unknown fault kind 'partiton' (kinds: partition, "
            "one_way_partition, isolate, region_outage, broker_outage, slow_link, "
            "flapping_link, clock_skew, clock_drift, disk_stall, compaction_stall, "
            "crash_restart, swizzle_clog)");
  EXPECT_EQ(error_of(std::string(kMinimal) +
                     "faults:\n  - {kind: partition, regions: [a, a], at_s: 1, duration_s: 1}\n"),
            "x.yaml:13: faults[0].regions[1]: region 'a' is listed twice");
  EXPECT_EQ(error_of(std::string(kMinimal) +
                     "faults:\n  - {kind: slow_link, between: [a, b], at_s: 1, duration_s: 1}\n"),
            "x.yaml:13: faults[0].factor: required field is missing");
}

TEST(ScenarioLoaderErrorTest, CollectionRulesPointAtTheField) {
  EXPECT_EQ(error_of(minimal_with("dimension: 8", "dimension: 8, shards: 4, index_partitions: 5")),
            "x.yaml:9: collections[0].index_partitions: must be <= 4 (got 5)");
  EXPECT_EQ(error_of(minimal_with("dimension: 8", "dimension: 8, hnsw_m: 8")),
            "x.yaml:9: collections[0].hnsw_m: only applies to index: hnsw (this index is flat)");
  EXPECT_EQ(error_of(minimal_with("dimension: 8", "dimension: 8, metric: euclid")),
            "x.yaml:9: collections[0].metric: must be one of l2, ip, cosine (got 'euclid')");
  EXPECT_EQ(error_of(minimal_with("dimension: 8", "dimension: 5000")),
            "x.yaml:9: collections[0].dimension: must be <= 4096 (got 5000)");
  EXPECT_EQ(error_of(minimal_with("name: docs", "name: \"my docs\"")).substr(0, 30),
            "x.yaml:9: collections[0].name:");
  EXPECT_EQ(error_of(minimal_with("keys: 100", "keys: 100\n  collection: other")),
            "x.yaml:12: workload.collection: unknown collection 'other' (collections: docs)");
  EXPECT_EQ(error_of(minimal_with("keys: 100", "keys: 100\n  hot_shard: 1")),
            "x.yaml:12: workload.hot_shard: only applies to key_distribution: zipf");
}

TEST(ScenarioLoaderErrorTest, LagBoundBelowTheLinkLatencyIsImpossible) {
  EXPECT_EQ(error_of(std::string(kMinimal) +
                     "expect:\n  replication_lag_p99_ms:\n    - {from: a, to: b, max_ms: 4}\n"),
            "x.yaml:14: expect.replication_lag_p99_ms[0].max_ms: 4 ms is not above the one-way "
            "latency a -> b (5 ms): no replication is that fast");
}

TEST(ScenarioLoaderErrorTest, DocumentShape) {
  EXPECT_EQ(error_of(""), "x.yaml:1: empty file: no scenario in it");
  EXPECT_EQ(error_of("# only a comment\n"), "x.yaml:1: empty file: no scenario in it");
  EXPECT_EQ(error_of("- a\n- b\n"), "x.yaml:1: expected a map of scenario fields, got a list");
  EXPECT_EQ(error_of(std::string(kMinimal) + "---\nname: second\n"),
            "x.yaml:13: a scenario file holds one YAML document; found a second");
  // yaml-cpp 0.7's LoadAll never returns on this (jbeder/yaml-cpp#1040); the loader must.
  EXPECT_EQ(error_of(","), "x.yaml:1: YAML syntax error: unexpected ','");
  EXPECT_EQ(error_of("\n  ,\n"), "x.yaml:2: YAML syntax error: unexpected ','");
  EXPECT_EQ(error_of(std::string(kMinimal) + "---\n,\n"),
            "x.yaml:13: a scenario file holds one YAML document; found a second");
  // Inputs that made older yaml-cpp versions hang or exhaust memory.
  for (const char* text : {"[:", "{:", "[[:", "{!\xdb:", "bad YAML: [", "- !+(.,.)"}) {
    EXPECT_FALSE(parse_scenario(text, "x.yaml").is_ok()) << text;
  }
}

TEST(ScenarioLoaderErrorTest, MissingFileIsNotFound) {
  Result<Scenario> r = load_scenario_file("/nonexistent/nowhere.yaml");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message().rfind("/nonexistent/nowhere.yaml: cannot open", 0), 0u);
}

// Whatever is cut from a valid file, the loader answers (a scenario or a message that starts
// with the file and a line) and never crashes or throws.
TEST(ScenarioLoaderRobustnessTest, EveryPrefixAndEveryLineDeletionIsHandled) {
  const std::string full = kFull;
  const std::regex message_shape(R"(^x\.yaml:[0-9]+: .+)");
  auto check = [&](const std::string& text) {
    Result<Scenario> r = parse_scenario(text, "x.yaml");
    if (!r.is_ok()) {
      EXPECT_TRUE(std::regex_search(r.status().message(), message_shape)) << r.status().message();
    }
  };
  for (size_t cut = 0; cut < full.size(); cut += 7) check(full.substr(0, cut));
  for (size_t start = 0; start < full.size();) {
    const size_t end = full.find('\n', start);
    check(full.substr(0, start) + full.substr(end + 1));
    start = end + 1;
  }
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
