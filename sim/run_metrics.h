// What a finished run's trace and final states say (RunMetrics): per-region latency, throughput
// and error rates, replication lag per region pair, hot shards and session reads. Read through
// sim/checked_run.h, like the checks of sim/checker.h that judge them. Without apply times
// (CheckedRun::records_apply_times) there is no replication lag.
//
// Rules chosen here:
//
// Percentiles are nearest-rank: the p-th percentile of n sorted samples is the sample of rank
// ceil(p / 100 * n) (1-based, at least 1), so it is always an observed value; no samples -> 0.
//
// Search latency (per client region) covers answered kSearch requests sent by that region's
// clients, real and cost-modelled together; failed requests count in the error rate instead (a
// timeout is not a latency). Session reads are excluded: they wait for their token by design.
// Error rates are per client region; ops/s counts answered requests per region that served them,
// over the faulty phase (scenario duration).
//
// Replication lag from region A to B: for every write acknowledged by A (AckedWrite::origin),
// first apply at B (Trace::applied_at) minus the client's ack time, clamped at 0. A write B never
// applied counts as an infinite lag, so the p99 is +infinity when more than 1 % never arrived.
//
// Hot shard: a shard is hot in a region when the region has accepted at least
// kHotShardMinWrites writes to the collection and the shard's share of them is above
// max(0.5, 3 / num_shards): a majority of the writes and at least three times its fair share.
// A > 80 % skew is flagged with any number of shards >= 4; uniform load over 4 or more shards
// (fair share <= 25 %) is not; with 1-3 shards nothing can be flagged (fair share is too high to
// tell skew from chance).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/checked_run.h"
#include "sim/scenario.h"

namespace meridian::sim {

// Nearest-rank percentile (see above) of `samples`, which it sorts. p in (0, 100].
TimeNs nearest_rank(std::vector<TimeNs>& samples, double p);
// The 1-based rank nearest_rank picks among n samples (n >= 1).
size_t nearest_rank_index(size_t n, double p);

inline constexpr uint64_t kHotShardMinWrites = 200;

struct ShardShare {
  uint32_t shard = 0;
  double share = 0;  // of the region's writes to the collection, in [0, 1]
};
// The hot shards (rule above) among one region's per-shard write counts, ascending shard order.
std::vector<ShardShare> hot_shards_of(const std::vector<uint64_t>& writes_per_shard);

struct RegionMetrics {
  std::string region;
  uint64_t searches = 0;  // answered searches of this region's clients (latency samples)
  double search_p50_ms = 0;
  double search_p99_ms = 0;
  uint64_t served_ok = 0;  // answered requests this region served
  double ops_per_s = 0;
  uint64_t requests = 0;  // requests of this region's clients
  uint64_t errors = 0;
  double error_rate = 0;
};

struct LagMetrics {
  RegionIndex from = 0;
  RegionIndex to = 0;
  uint64_t writes = 0;         // acknowledged writes that originated in `from`
  uint64_t never_applied = 0;  // of them, never applied in `to`
  double p50_ms = 0;           // +infinity when the rank lands on a never-applied write
  double p99_ms = 0;
};

struct HotShard {
  std::string collection;
  RegionIndex region = 0;
  uint32_t shard = 0;
  double share = 0;
  uint64_t region_writes = 0;
};

struct SessionMetrics {
  uint64_t total = 0;       // answered session reads
  uint64_t satisfied = 0;   // found their write
  uint64_t flagged = 0;     // did not, and the node said so (session_satisfied == false)
  uint64_t violations = 0;  // did not, although the node claimed the token was covered
};

struct RunMetrics {
  std::vector<RegionMetrics> regions;  // per region index
  // Every ordered pair from != to, sorted by (from, to); empty when the run did not record
  // apply times (CheckedRun::records_apply_times).
  std::vector<LagMetrics> lag;
  uint64_t requests = 0;
  uint64_t errors = 0;
  double error_rate = 0;
  std::vector<HotShard> hot_shards;  // by region, then collection (scenario order), then shard
  SessionMetrics sessions;

  // nullptr if from == to or out of range.
  const LagMetrics* find_lag(RegionIndex from, RegionIndex to) const;
};

// Call once the run (faulty and liveness phases) has ended.
RunMetrics compute_metrics(const CheckedRun& run);

}  // namespace meridian::sim
