// The scenario parser: turns one YAML document into a sim::Scenario, strictly (see
// scenario_loader.h for what is rejected and how messages look). Internal to sim/; the public
// entry points are parse_scenario and load_scenario_file.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/scenario.h"
#include "sim/yaml_fields.h"

namespace meridian::sim::scenario_detail {

// ---------------------------------------------------------------------------------------------
// The schema: allowed keys per block (docs/scenarios.md documents each).

inline constexpr std::string_view kTopKeys[] = {
    "name",   "description",  "seed",  "duration_s", "liveness_s",  "regions",
    "links",  "default_link", "log",   "disk",       "collections", "workload",
    "faults", "swarm",        "sweep", "expect"};
inline constexpr std::string_view kRegionKeys[] = {"name", "id", "clock_skew_ms",
                                                   "clock_drift_ppm"};
inline constexpr std::string_view kLinkKeys[] = {
    "between", "from", "to", "latency_ms", "jitter_ms", "loss", "bandwidth_mbps", "source"};
inline constexpr std::string_view kDefaultLinkKeys[] = {"latency_ms", "jitter_ms", "loss",
                                                        "bandwidth_mbps", "source"};
inline constexpr std::string_view kLogKeys[] = {"ack_latency_ms",     "fetch_wait_ms",
                                                "subscribe_setup_ms", "retention_s",
                                                "produce_timeout_ms", "producer_buffer_records"};
inline constexpr std::string_view kDiskKeys[] = {"write_latency_us", "fsync_latency_us",
                                                 "throughput_mb_per_s"};
inline constexpr std::string_view kHnswKeys[] = {"hnsw_m", "hnsw_ef_construction",
                                                 "hnsw_ef_search"};
inline constexpr std::string_view kIvfKeys[] = {"ivf_nlist", "ivf_nprobe", "ivf_train_size"};
inline constexpr std::string_view kCollectionKeys[] = {"name",           "dimension",
                                                       "metric",         "index",
                                                       "shards",         "index_partitions",
                                                       "routing_seed",   "initial_vectors",
                                                       "hnsw_m",         "hnsw_ef_construction",
                                                       "hnsw_ef_search", "ivf_nlist",
                                                       "ivf_nprobe",     "ivf_train_size"};
inline constexpr std::string_view kWorkloadKeys[] = {"collection",
                                                     "keys",
                                                     "key_distribution",
                                                     "zipf_exponent",
                                                     "hot_shard",
                                                     "per_region",
                                                     "regions",
                                                     "sessions_per_region",
                                                     "session_reads_per_s",
                                                     "k",
                                                     "exact_search_fraction",
                                                     "failover",
                                                     "request_timeout_ms"};
inline constexpr std::string_view kRateKeys[] = {"upserts_per_s", "deletes_per_s", "patches_per_s",
                                                 "searches_per_s"};
inline constexpr std::string_view kFaultCommonKeys[] = {"at_s", "duration_s", "kind"};
inline constexpr std::string_view kFaultKeys[] = {
    "at_s",   "duration_s", "kind",        "regions", "region", "between",       "from",   "to",
    "factor", "period_ms",  "up_fraction", "skew_ms", "ppm",    "lose_unsynced", "step_ms"};
inline constexpr std::string_view kSwarmKeys[] = {"enabled",
                                                  "max_fault_duration_s",
                                                  "link_loss",
                                                  "slow_link_factor",
                                                  "max_clock_skew_ms",
                                                  "partition_per_minute",
                                                  "one_way_partition_per_minute",
                                                  "isolate_per_minute",
                                                  "region_outage_per_minute",
                                                  "broker_outage_per_minute",
                                                  "slow_link_per_minute",
                                                  "flapping_link_per_minute",
                                                  "clock_skew_per_minute",
                                                  "clock_drift_per_minute",
                                                  "disk_stall_per_minute",
                                                  "compaction_stall_per_minute",
                                                  "crash_restart_per_minute",
                                                  "swizzle_clog_per_minute"};
inline constexpr std::string_view kSweepKeys[] = {"duration_s", "rates_scale"};
inline constexpr std::string_view kExpectKeys[] = {
    "converge",      "no_lost_acknowledged_writes", "read_your_writes", "max_error_rate",
    "search_p99_ms", "replication_lag_p99_ms",      "max_staleness_ms", "hot_shard_detected",
    "coverage"};
inline constexpr std::string_view kLagKeys[] = {"from", "to", "max_ms"};

// ---------------------------------------------------------------------------------------------
// The parser: one pass over the document, sections in dependency order (regions first, since
// links, workload, faults and expectations refer to them). parse() throws LoadError (see
// yaml_fields.h) on the first problem; parse_scenario catches it.
//
// Member functions live in three files: scenario_parser.cc (parse() and references to regions
// shared by several sections), scenario_parser_topology.cc (regions, links, log, disk,
// collections) and scenario_parser_workload.cc (workload, faults, swarm, sweep, expect).

class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}
  Scenario parse(const std::string& text);

 private:
  struct Endpoints {
    RegionIndex from;
    RegionIndex to;
    bool both_directions;
  };

  [[noreturn]] void fail_at_line(int line, const std::string& what) const {
    throw LoadError{source_ + ":" + std::to_string(line) + ": " + what};
  }
  std::string region_names() const;
  RegionIndex region_ref(const Cursor& c) const;
  std::vector<RegionIndex> region_list(const Cursor& c, size_t min, size_t max) const;
  Endpoints endpoints(const Fields& f) const;
  ValueRange range(const Cursor& c, const Bounds& b) const;

  void parse_regions(const Cursor& c);
  void parse_links(const Fields& top);
  ScenarioLink link_params(const Fields& f) const;
  void parse_log(const Cursor& c);
  void parse_disk(const Cursor& c);
  void parse_collection(const Cursor& c);
  void parse_workload(const Cursor& c);
  void parse_rates(const Cursor& c, OpRates* rates) const;
  FaultSpec parse_fault(const Cursor& c) const;
  void parse_faults(const Cursor& c);
  void parse_swarm(const Cursor& c);
  void parse_sweep(const Cursor& c);
  void parse_expect(const Cursor& c);
  void parse_search_p99(const Cursor& c);
  void parse_lag_bounds(const Cursor& c);

  std::string source_;
  Scenario sc_;
  std::vector<int> region_lines_;      // per region: the line of its name
  std::vector<int> collection_lines_;  // per collection: the line of its name
};

}  // namespace meridian::sim::scenario_detail
