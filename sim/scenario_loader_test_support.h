// Shared by the scenario loader's tests: a full and a minimal scenario, and helpers that parse
// one and expect it accepted or rejected.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "sim/scenario_loader.h"

namespace meridian::sim::loader_test {

using env::kMicrosecond;
using env::kMillisecond;
using env::kSecond;

// Every block and most keys, with non-default values (the annotated example in
// docs/scenarios.md is the same scenario). Line numbers matter to the error tests
// (scenario_loader_error_test.cc).
inline constexpr const char* kFull = R"(name: full-example
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
  subscribe_setup_ms: 150
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
inline constexpr const char* kMinimal = R"(name: minimal
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

inline Scenario parse_ok(const std::string& text) {
  Result<Scenario> r = parse_scenario(text, "x.yaml");
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? std::move(r).value() : Scenario{};
}

// The loader's message for `text`, which must be rejected.
inline std::string error_of(const std::string& text) {
  Result<Scenario> r = parse_scenario(text, "x.yaml");
  EXPECT_FALSE(r.is_ok()) << "accepted:\n" << text;
  if (r.is_ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

// kMinimal with `from` replaced by `to` (which must occur exactly once).
inline std::string minimal_with(const std::string& from, const std::string& to) {
  std::string s = kMinimal;
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  EXPECT_EQ(s.find(from, at + 1), std::string::npos) << from;
  return s.replace(at, from.size(), to);
}

}  // namespace meridian::sim::loader_test
