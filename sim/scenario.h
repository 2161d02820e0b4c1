// A scenario: one simulated deployment, what happens to it, and what must hold afterwards.
//
// `meridian-sim` replays scenario files (`scenarios/<name>.yaml`, schema in docs/scenarios.md);
// sim/scenario_loader.h turns a file into the plain structs below. Everything here is already
// validated and resolved: region references are indexes into Scenario::regions, every ordered
// pair of regions has its link, per-region rates are spelled out per region, and times are
// nanoseconds of simulated time (env::TimeNs) whatever unit the file used.
//
// A run has two phases (TigerBeetle's VOPR shape):
//   faulty phase    [0, duration_ns): the workload runs and the faults below are injected;
//   liveness phase  [duration_ns, duration_ns + liveness_ns): every fault is healed, clocks stop
//                   drifting, the workload stops; the regions must converge before it ends.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/collection.h"
#include "engine/core/mutation.h"
#include "engine/env/env.h"

namespace meridian::sim {

using env::TimeNs;
// Index of a region in Scenario::regions: regions are numbered 0..n-1 in file order (the same
// numbering sim::Network uses when regions are added in that order).
using RegionIndex = uint32_t;

// Limits the loader enforces (also documented in docs/scenarios.md).
inline constexpr size_t kMaxScenarioRegions = 64;
inline constexpr size_t kMaxRegionNameBytes = 64;

struct RegionSpec {
  // `name`: [A-Za-z0-9_-], 1..64 bytes, unique. No dots: mirrored topics are "<origin>.<topic>".
  std::string name;
  // `id`: 1..65535, unique. The RegionId stamped on this region's writes (LWW tie-breaks).
  RegionId id = 0;
  // `clock_skew_ms` (default 0, may be negative): offset of this region's wall clock from true
  // time at the start of the run.
  TimeNs clock_skew_ns = 0;
  // `clock_drift_ppm` (default 0, may be negative, |x| <= 100000): how fast the wall clock gains
  // on true time during the faulty phase, in µs per second. Drift stops in the liveness phase.
  double clock_drift_ppm = 0;
};

// One direction of the network path between two regions.
struct ScenarioLink {
  RegionIndex from = 0;
  RegionIndex to = 0;
  // `latency_ms` (required in a link, >= 0): base one-way latency.
  TimeNs latency_ns = 0;
  // `jitter_ms` (default 0): each message adds a uniform delay in [0, jitter).
  TimeNs jitter_ns = 0;
  // `loss` (default 0, in [0, 1)): probability that a message is dropped.
  double loss = 0;
  // `bandwidth_mbps` (default 0 = unlimited): megabits per second, stored as bytes per second.
  double bandwidth_bytes_per_s = 0;
  // `source` (optional): where the figures come from (measurement, provider dashboard, physics).
  std::string source;
  // True if the file gave no link for this pair and `default_link` filled it in.
  bool from_default = false;
};

// The log cluster of each region (Kafka semantics, see engine/env/env.h).
struct LogSpec {
  // `ack_latency_ms` (default 2): produce to acks=all acknowledgement within the region.
  TimeNs ack_latency_ns = 2 * env::kMillisecond;
  // `fetch_wait_ms` (default 10): how long a consumer's fetch waits for new records
  // (fetch.wait.max.ms); bounds how late a mirrored record is noticed.
  TimeNs fetch_wait_ns = 10 * env::kMillisecond;
  // `subscribe_setup_ms` (default 0): how long a consumer takes after a (re)start before it
  // fetches (finding the partitions' leaders, connecting); a node takes writes only once its
  // own partitions are read. Real librdkafka consumers take tens to hundreds of ms.
  TimeNs subscribe_setup_ns = 0;
  // `retention_s` (default 0 = forever): records older than this are deleted; a consumer that
  // falls further behind must catch up by delta transfer instead.
  TimeNs retention_ns = 0;
  // `produce_timeout_ms` (default 30000, > 0): a produce not acknowledged by then fails
  // (librdkafka's message.timeout.ms).
  TimeNs produce_timeout_ns = 30 * env::kSecond;
  // `producer_buffer_records` (default 100000, >= 1): records a producer holds while the cluster
  // is unreachable; past it produce fails at once ("producer buffer full").
  uint64_t producer_buffer_records = 100'000;
};

// Each region's local disk (segment files, the applier's durable state).
struct DiskSpec {
  // `write_latency_us` (default 50): a buffered write.
  TimeNs write_latency_ns = 50 * env::kMicrosecond;
  // `fsync_latency_us` (default 1000): making written data durable.
  TimeNs fsync_latency_ns = 1000 * env::kMicrosecond;
  // `throughput_mb_per_s` (default 200, > 0): sequential throughput in megabytes (10^6 bytes)
  // per second, stored as bytes per second; compaction and catch-up share it.
  double throughput_bytes_per_s = 200e6;
};

struct CollectionSpec {
  // From `name`, `dimension` (required), `metric` (l2 | ip | cosine, default l2), `index`
  // (flat | hnsw | ivf, default flat), `shards` (default 16), `index_partitions` (default 1),
  // `routing_seed` (default 0) and the index tuning keys `hnsw_m`, `hnsw_ef_construction`,
  // `hnsw_ef_search` (hnsw only), `ivf_nlist`, `ivf_nprobe`, `ivf_train_size` (ivf only), whose
  // defaults are IndexParams'. validate(config) holds.
  CollectionConfig config;
  // `initial_vectors` (default 0): vectors loaded into every region before the run starts.
  uint64_t initial_vectors = 0;
};

// Operations per second offered by the clients of one region (Poisson arrivals).
struct OpRates {
  double upserts_per_s = 0;
  double deletes_per_s = 0;
  double patches_per_s = 0;
  double searches_per_s = 0;

  double total_per_s() const {
    return upserts_per_s + deletes_per_s + patches_per_s + searches_per_s;
  }
  bool operator==(const OpRates&) const = default;
};

enum class KeyDistribution : uint8_t { kUniform = 1, kZipf = 2 };

struct WorkloadSpec {
  // `collection` (required unless there is exactly one collection): which collection the
  // clients use; `collection_index` is its index in Scenario::collections.
  std::string collection;
  size_t collection_index = 0;
  // `keys` (required, >= 1): size of the vector id space; clients draw ids from 0..keys-1.
  uint64_t keys = 0;
  // `key_distribution` (uniform | zipf, default uniform) and `zipf_exponent` (default 1.0, in
  // (0, 10], zipf only): how ids are drawn; with zipf, rank 1 is the hottest id.
  KeyDistribution key_distribution = KeyDistribution::kUniform;
  double zipf_exponent = 1.0;
  // `hot_shard` (optional, zipf only, < the collection's shards): the clients give the
  // keys / shards hottest ranks ids that route to this shard (the rest as usual), so the skew
  // lands on one shard: with zipf_exponent 1.2, 8000 keys and 8 shards ~90 % of requests do.
  std::optional<uint32_t> hot_shard;
  // Per region index: `per_region` applies to every region, `regions: {name: {...}}` overrides
  // individual rates of named regions. Always Scenario::regions.size() entries.
  std::vector<OpRates> rates;
  // `sessions_per_region` (default 0): clients per region that write a key, then read it back
  // with the write's session token (read-your-writes), at `session_reads_per_s` (default 1.0,
  // per session) write-then-read cycles per second.
  uint32_t sessions_per_region = 0;
  double session_reads_per_s = 1.0;
  // `k` (default 10, 1..kMaxSearchK): neighbours per search.
  uint32_t k = 10;
  // `exact_search_fraction` (default 1.0, in [0, 1]): fraction of searches run through the real
  // FAISS index; the rest are answered by the cost model only (latency without results).
  double exact_search_fraction = 1.0;
  // `failover` (default false): while a region is down its clients send to the nearest region
  // that is up (lowest link latency) instead of failing.
  bool failover = false;
  // `request_timeout_ms` (default 1000, > 0): a client gives up on a request after this.
  TimeNs request_timeout_ns = 1000 * env::kMillisecond;
};

enum class FaultKind : uint8_t {
  kPartition = 1,    // regions: [a, b] — both directions between a and b cut
  kOneWayPartition,  // from, to — only from→to cut
  kIsolate,          // region — every link to and from it cut
  kRegionOutage,     // region — its node and its log cluster down
  kBrokerOutage,     // region — its log cluster down, the node up
  kSlowLink,         // between or from/to, factor — latency and jitter multiplied
  kFlappingLink,     // between or from/to, period_ms, up_fraction — link up/down periodically
  kClockSkew,        // region, skew_ms — wall clock steps by skew, steps back at the end
  kClockDrift,       // region, ppm — wall clock gains ppm µs/s while active
  kDiskStall,        // region — disk writes and fsyncs block until the fault ends
  kCompactionStall,  // region, factor — disk throughput divided by factor
  kCrashRestart,     // region, lose_unsynced — node crashes, restarts after duration
  kSwizzleClog,      // regions, step_ms — FoundationDB swizzle-clogging among the regions
};
inline constexpr size_t kFaultKindCount = 13;

// The file's spelling of a kind ("partition", "one_way_partition", ...).
constexpr const char* fault_kind_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kPartition: return "partition";
    case FaultKind::kOneWayPartition: return "one_way_partition";
    case FaultKind::kIsolate: return "isolate";
    case FaultKind::kRegionOutage: return "region_outage";
    case FaultKind::kBrokerOutage: return "broker_outage";
    case FaultKind::kSlowLink: return "slow_link";
    case FaultKind::kFlappingLink: return "flapping_link";
    case FaultKind::kClockSkew: return "clock_skew";
    case FaultKind::kClockDrift: return "clock_drift";
    case FaultKind::kDiskStall: return "disk_stall";
    case FaultKind::kCompactionStall: return "compaction_stall";
    case FaultKind::kCrashRestart: return "crash_restart";
    case FaultKind::kSwizzleClog: return "swizzle_clog";
  }
  return "?";
}

// One injected fault. Only the fields its kind uses (listed per field) are meaningful; the
// loader rejects keys a kind does not take.
struct FaultSpec {
  FaultKind kind = FaultKind::kPartition;
  // `at_s` (required, >= 0) and `duration_s` (required, > 0): active during
  // [at_ns, at_ns + duration_ns), which lies inside the faulty phase.
  TimeNs at_ns = 0;
  TimeNs duration_ns = 0;
  // partition: the two sides (2 regions); swizzle_clog: the regions clogged (>= 2), in order.
  std::vector<RegionIndex> regions;
  // isolate, region_outage, broker_outage, clock_skew, clock_drift, disk_stall,
  // compaction_stall, crash_restart: the region affected.
  RegionIndex region = 0;
  // one_way_partition, slow_link, flapping_link: the directed link from→to; with `between: [a,
  // b]` (slow_link, flapping_link) from = a, to = b and both_directions is true.
  RegionIndex from = 0;
  RegionIndex to = 0;
  bool both_directions = false;
  // slow_link (latency multiplier, in [1, 1000]); compaction_stall (throughput divisor, same).
  double factor = 1.0;
  // flapping_link: `period_ms` (> 0) one up-then-down cycle, `up_fraction` (in (0, 1)) of it up.
  TimeNs period_ns = 0;
  double up_fraction = 0.5;
  // clock_skew: `skew_ms` (non-zero, may be negative) the step.
  TimeNs skew_ns = 0;
  // clock_drift: `ppm` (non-zero, |ppm| <= 100000) extra drift while active; the offset gained
  // stays when the fault ends (a real clock does not jump back by itself).
  double drift_ppm = 0;
  // crash_restart: `lose_unsynced` (default true): writes not yet fsynced are lost in the crash.
  bool lose_unsynced = true;
  // swizzle_clog: `step_ms` (> 0) between clogging successive links, then unclogging them in
  // reverse order.
  TimeNs step_ns = 0;
  // Line of the fault in the scenario file (1-based), for the simulator's messages.
  int source_line = 0;
};

// A closed range [lo, hi] from which a swarm run draws one value with the run's seed.
struct ValueRange {
  double lo = 0;
  double hi = 0;
  bool operator==(const ValueRange&) const = default;
};

// Swarm testing: instead of (in addition to) the listed faults, the seed draws each fault
// kind's rate from its range, then draws faults at that rate.
struct SwarmSpec {
  // `enabled` (default false).
  bool enabled = false;
  // `<kind>_per_minute: [lo, hi]` (e.g. `partition_per_minute: [0, 2]`), lo >= 0; kinds not
  // given are never drawn.
  std::map<FaultKind, ValueRange> faults_per_minute;
  // `max_fault_duration_s` (default 10, > 0): drawn durations are uniform in (0, max].
  TimeNs max_fault_duration_ns = 10 * env::kSecond;
  // `link_loss: [lo, hi]` (default [0, 0], within [0, 1)): extra loss rate on every link.
  ValueRange link_loss;
  // `slow_link_factor: [lo, hi]` (default [2, 10], within [1, 1000]).
  ValueRange slow_link_factor{2, 10};
  // `max_clock_skew_ms` (default 5000, >= 0): drawn clock_skew steps are within ±this.
  TimeNs max_clock_skew_ns = 5 * env::kSecond;
};

// The smaller run `meridian-sim sweep` makes of this scenario for each of many seeds.
struct SweepSpec {
  // `duration_s` (default: the scenario's duration_s, > 0): the faulty phase of a sweep run;
  // listed faults that start at or after it are skipped, ones that overlap its end are cut.
  TimeNs duration_ns = 0;
  // `rates_scale` (default 1.0, in (0, 1]): every workload rate is multiplied by it.
  double rates_scale = 1.0;
};

struct LagBound {
  RegionIndex from = 0;
  RegionIndex to = 0;
  // `max_ms` (> the link's one-way latency: lag below it is physically impossible): bound on the
  // p99 of the time from an ack in `from` to the write being visible in `to`.
  TimeNs p99_max_ns = 0;
};

// What must hold. Booleans default to true where the property is a promise of the system;
// bounds are optional and only checked when given.
struct Expectations {
  // `converge` (default true): when the liveness phase ends, every region has the same state.
  bool converge = true;
  // `no_lost_acknowledged_writes` (default true): every acknowledged write is reflected
  // (or superseded by a later write) in every region at the end.
  bool no_lost_acknowledged_writes = true;
  // `read_your_writes` (default true): no session read misses its own session's write.
  bool read_your_writes = true;
  // `max_error_rate` (optional, in [0, 1]): failed / all client requests over the whole run.
  std::optional<double> max_error_rate;
  // `search_p99_ms`: one bound for every region (scalar) or `{region: ms}`; per region index,
  // always Scenario::regions.size() entries, nullopt = not checked.
  std::vector<std::optional<TimeNs>> search_p99_max_ns;
  // `replication_lag_p99_ms: [{from, to, max_ms}]`.
  std::vector<LagBound> replication_lag_p99;
  // `max_staleness_ms` (optional, > 0): bounded-staleness promise for eventual reads.
  std::optional<TimeNs> max_staleness_ns;
  // `hot_shard_detected` (optional): whether the hot-shard detector must (true) or must not
  // (false) have flagged a shard.
  std::optional<bool> hot_shard_detected;
  // `coverage` (default empty): names of coverage marks that must have fired during the run
  // (e.g. read_repair, producer_buffer_full); [a-z0-9_]+, unique.
  std::vector<std::string> coverage;
};

struct Scenario {
  // The path or name the scenario was loaded from (for messages).
  std::string source;
  // `name` (required, [A-Za-z0-9_-]+) and `description` (default empty).
  std::string name;
  std::string description;
  // `seed` (default 1): the run seed; every random stream derives from it (sim/rng.h).
  uint64_t seed = 1;
  // `duration_s` (required, > 0): the faulty phase.
  TimeNs duration_ns = 0;
  // `liveness_s` (default 30, > 0): the liveness phase.
  TimeNs liveness_ns = 30 * env::kSecond;
  // `regions` (required, 1..kMaxScenarioRegions).
  std::vector<RegionSpec> regions;
  // Every ordered pair (from != to), sorted by (from, to): `links` entries (`between: [a, b]`
  // gives both directions, `from`/`to` one), the rest from `default_link`.
  std::vector<ScenarioLink> links;
  LogSpec log;    // `log` (optional block)
  DiskSpec disk;  // `disk` (optional block)
  // `collections` (required, >= 1, unique names).
  std::vector<CollectionSpec> collections;
  WorkloadSpec workload;  // `workload` (required)
  // `faults` (default none), in file order.
  std::vector<FaultSpec> faults;
  SwarmSpec swarm;                 // `swarm` (optional block)
  std::optional<SweepSpec> sweep;  // `sweep` (optional block)
  Expectations expect;             // `expect` (optional block)

  // Index of the region called `name`, or nullopt.
  std::optional<RegionIndex> find_region(std::string_view name) const {
    for (size_t i = 0; i < regions.size(); ++i) {
      if (regions[i].name == name) return RegionIndex(i);
    }
    return std::nullopt;
  }
  // REQUIRES: from != to, both < regions.size().
  const ScenarioLink& link(RegionIndex from, RegionIndex to) const {
    const size_t n = regions.size();
    return links[from * (n - 1) + (to < from ? to : to - 1)];
  }
};

}  // namespace meridian::sim
