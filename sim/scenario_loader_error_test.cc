#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "sim/scenario_loader.h"
#include "sim/scenario_loader_test_support.h"

namespace meridian::sim {
namespace {

using namespace loader_test;  // kFull, kMinimal, the parse helpers and the time units

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

}  // namespace
}  // namespace meridian::sim
