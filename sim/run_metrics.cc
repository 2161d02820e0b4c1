#include "sim/run_metrics.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <map>

namespace meridian::sim {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double to_ms(TimeNs t) { return double(t) / double(env::kMillisecond); }

// Nearest-rank percentile in ms of `sorted` plus `missing` samples that count as infinite.
double rank_ms(const std::vector<TimeNs>& sorted, uint64_t missing, double p) {
  const size_t n = sorted.size() + missing;
  if (n == 0) return 0;
  const size_t rank = nearest_rank_index(n, p);
  return rank <= sorted.size() ? to_ms(sorted[rank - 1]) : kInf;
}

// Per ordered pair of regions, sorted by (from, to); rule in run_metrics.h.
std::vector<LagMetrics> lag_metrics(const CheckedRun& run,
                                    const std::map<RegionId, RegionIndex>& index_of_id) {
  const size_t n = run.region_count();
  std::vector<LagMetrics> lag;
  std::vector<std::vector<TimeNs>> lags(n * n);
  std::vector<uint64_t> never(n * n, 0);
  for (const AckedWrite& w : run.trace().acked_writes()) {
    auto it = index_of_id.find(w.origin);
    if (it == index_of_id.end()) continue;
    const RegionIndex from = it->second;
    for (RegionIndex to = 0; to < n; ++to) {
      if (to == from) continue;
      const TimeNs* t =
          run.trace().applied_at(run.region_name(to), w.collection, w.origin, w.shard, w.sequence);
      if (t == nullptr) {
        ++never[from * n + to];
      } else {
        lags[from * n + to].push_back(std::max<TimeNs>(0, *t - w.acked_at));
      }
    }
  }
  for (RegionIndex from = 0; from < n; ++from) {
    for (RegionIndex to = 0; to < n; ++to) {
      if (from == to) continue;
      std::vector<TimeNs>& v = lags[from * n + to];
      std::sort(v.begin(), v.end());
      const uint64_t missing = never[from * n + to];
      lag.push_back({from, to, v.size() + missing, missing, rank_ms(v, missing, 50),
                     rank_ms(v, missing, 99)});
    }
  }
  return lag;
}

}  // namespace

size_t nearest_rank_index(size_t n, double p) {
  assert(n >= 1);
  const double exact = std::ceil(p / 100.0 * double(n));
  size_t rank = exact < 1 ? 1 : size_t(exact);
  return std::min(rank, n);
}

TimeNs nearest_rank(std::vector<TimeNs>& samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  return samples[nearest_rank_index(samples.size(), p) - 1];
}

std::vector<ShardShare> hot_shards_of(const std::vector<uint64_t>& writes_per_shard) {
  std::vector<ShardShare> hot;
  uint64_t total = 0;
  for (uint64_t n : writes_per_shard) total += n;
  if (total < kHotShardMinWrites || writes_per_shard.empty()) return hot;
  const double threshold = std::max(0.5, 3.0 / double(writes_per_shard.size()));
  for (size_t s = 0; s < writes_per_shard.size(); ++s) {
    const double share = double(writes_per_shard[s]) / double(total);
    if (share > threshold) hot.push_back({uint32_t(s), share});
  }
  return hot;
}

const LagMetrics* RunMetrics::find_lag(RegionIndex from, RegionIndex to) const {
  for (const LagMetrics& l : lag) {
    if (l.from == from && l.to == to) return &l;
  }
  return nullptr;
}

RunMetrics compute_metrics(const CheckedRun& run) {
  const Scenario& sc = run.scenario();
  const Trace& trace = run.trace();
  const size_t n = run.region_count();
  RunMetrics m;
  m.regions.resize(n);
  std::map<std::string, RegionIndex> index_of;
  std::map<RegionId, RegionIndex> index_of_id;
  for (RegionIndex r = 0; r < n; ++r) {
    m.regions[r].region = run.region_name(r);
    index_of[run.region_name(r)] = r;
    index_of_id[sc.regions[r].id] = r;
  }

  // Requests: latency, throughput, errors.
  std::vector<std::vector<TimeNs>> latency(n);
  for (const RequestSample& s : trace.requests()) {
    ++m.requests;
    m.errors += s.ok ? 0 : 1;
    if (auto it = index_of.find(s.client_region); it != index_of.end()) {
      RegionMetrics& rm = m.regions[it->second];
      ++rm.requests;
      rm.errors += s.ok ? 0 : 1;
      if (s.ok && s.kind == RequestKind::kSearch) latency[it->second].push_back(s.latency);
    }
    if (auto it = index_of.find(s.served_region); s.ok && it != index_of.end()) {
      ++m.regions[it->second].served_ok;
    }
  }
  m.error_rate = m.requests == 0 ? 0 : double(m.errors) / double(m.requests);
  const double seconds = double(sc.duration_ns) / double(env::kSecond);
  for (RegionIndex r = 0; r < n; ++r) {
    RegionMetrics& rm = m.regions[r];
    rm.searches = latency[r].size();
    std::sort(latency[r].begin(), latency[r].end());
    rm.search_p50_ms = rank_ms(latency[r], 0, 50);
    rm.search_p99_ms = rank_ms(latency[r], 0, 99);
    rm.ops_per_s = seconds > 0 ? double(rm.served_ok) / seconds : 0;
    rm.error_rate = rm.requests == 0 ? 0 : double(rm.errors) / double(rm.requests);
  }

  // Replication lag per ordered pair (none without apply times: check() says why).
  if (run.records_apply_times()) m.lag = lag_metrics(run, index_of_id);

  // Hot shards, from what each node accepted.
  for (RegionIndex r = 0; r < n; ++r) {
    if (!run.running(r)) continue;
    for (const CollectionSpec& c : sc.collections) {
      const std::vector<uint64_t> counts = run.shard_write_counts(r, c.config.name);
      uint64_t total = 0;
      for (uint64_t x : counts) total += x;
      for (const ShardShare& h : hot_shards_of(counts)) {
        m.hot_shards.push_back({c.config.name, r, h.shard, h.share, total});
      }
    }
  }

  for (const SessionReadSample& s : trace.session_reads()) {
    ++m.sessions.total;
    if (s.found) {
      ++m.sessions.satisfied;
    } else if (s.satisfied_claimed) {
      ++m.sessions.violations;
    } else {
      ++m.sessions.flagged;
    }
  }
  return m;
}

}  // namespace meridian::sim
