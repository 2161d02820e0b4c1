#include "sim/checker.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <tuple>
#include <utility>

namespace meridian::sim {

namespace {

constexpr int kConvergeQueries = 20;
constexpr size_t kConvergeK = 10;
constexpr const char* kNoApplyTimes =
    "not measurable: this environment does not record when each write was applied in each "
    "region";

unsigned long long ull(uint64_t v) { return v; }

double to_ms(TimeNs t) { return double(t) / double(env::kMillisecond); }

template <typename... Args>
std::string format(const char* f, Args... args) {
  char buf[1024];
  std::snprintf(buf, sizeof buf, f, args...);
  return buf;
}

std::string ms(double v) { return std::isinf(v) ? std::string("inf ms") : format("%.1f ms", v); }

// Trace time (virtual or steady-clock) as seconds into the scenario proper.
std::string at(const CheckedRun& run, TimeNs t) {
  return format("t=%.3f s", double(t - run.start_time()) / double(env::kSecond));
}

std::string region_of_id(const CheckedRun& run, RegionId id) {
  for (const RegionSpec& r : run.scenario().regions) {
    if (r.id == id) return r.name;
  }
  return "region-id-" + std::to_string(id);
}

std::string describe(const CheckedRun& run, const AckedWrite& w) {
  return w.collection + "/" + w.vector_id + " (origin " + region_of_id(run, w.origin) + ", shard " +
         std::to_string(w.shard) + ", seq " + std::to_string(w.sequence) + ", acked " +
         at(run, w.acked_at) + " to a client in " + w.client_region + ")";
}

std::string join(const std::vector<std::string>& parts, size_t max_parts = 8) {
  std::string out;
  for (size_t i = 0; i < parts.size() && i < max_parts; ++i) out += (i ? "; " : "") + parts[i];
  if (parts.size() > max_parts) out += format("; ... (%zu more)", parts.size() - max_parts);
  return out;
}

}  // namespace

bool same_collected_state(const CheckedRun& run, const std::string& name, RegionIndex a,
                          RegionIndex b) {
  const Collection* ca = run.collection(a, name);
  const Collection* cb = run.collection(b, name);
  if (ca == nullptr || cb == nullptr) return ca == cb;
  if (ca->config().num_shards != cb->config().num_shards) return false;
  for (uint32_t s = 0; s < ca->config().num_shards; ++s) {
    const ShardReplica& ra = ca->shard(s);
    const ShardReplica& rb = cb->shard(s);
    if (!(ra.version_vector() == rb.version_vector())) return false;
    uint64_t g = 0;
    for (RegionIndex r = 0; r < run.region_count(); ++r) {
      if (run.running(r)) g = std::max(g, run.shard_stable_frontier(r, name, s));
    }
    if (ra.collected_below() == g && rb.collected_below() == g) {
      if (!(ra == rb)) return false;
      continue;
    }
    ShardReplica na = ra, nb = rb;
    na.collect_garbage(g);
    nb.collect_garbage(g);
    if (!(na == nb)) return false;
  }
  return true;
}

namespace {

CheckOutcome check_converge(const CheckedRun& run) {
  const Scenario& sc = run.scenario();
  CheckOutcome out{"converge", false, ""};
  // Fixed queries per collection, drawn in scenario order from one stream.
  Rng rng = run.rng("checker/queries");
  std::vector<std::vector<std::vector<float>>> queries(sc.collections.size());
  for (size_t c = 0; c < sc.collections.size(); ++c) {
    for (int q = 0; q < kConvergeQueries; ++q) {
      std::vector<float> v(sc.collections[c].config.index.dimension);
      for (float& x : v) x = float(rng.uniform(-1, 1));
      queries[c].push_back(std::move(v));
    }
  }
  if (!run.running(0)) {
    out.detail = "region " + run.region_name(0) + " (the reference) has no running node";
    return out;
  }
  std::vector<std::string> differ;
  for (RegionIndex r = 1; r < run.region_count(); ++r) {
    if (!run.running(r)) {
      differ.push_back(run.region_name(r) + ": no running node");
      continue;
    }
    for (size_t c = 0; c < sc.collections.size(); ++c) {
      const std::string& name = sc.collections[c].config.name;
      const Collection* a = run.collection(0, name);
      const Collection* b = run.collection(r, name);
      if (a == nullptr || b == nullptr) {
        differ.push_back(run.region_name(r) + ": " + name + " missing");
        continue;
      }
      if (!same_collected_state(run, name, 0, r)) {
        differ.push_back(format("%s: %s state differs (%zu live vs %zu in %s)",
                                run.region_name(r).c_str(), name.c_str(), b->live_count(),
                                a->live_count(), run.region_name(0).c_str()));
        continue;
      }
      if (a->config().index.kind != IndexKind::kFlat) continue;
      for (int q = 0; q < kConvergeQueries; ++q) {
        auto ra = a->search(queries[c][q], kConvergeK);
        auto rb = b->search(queries[c][q], kConvergeK);
        if (!ra.is_ok() || !rb.is_ok() || *ra != *rb) {
          differ.push_back(format("%s: %s search results differ for query %d (%s)",
                                  run.region_name(r).c_str(), name.c_str(), q,
                                  !ra.is_ok()   ? ra.status().to_string().c_str()
                                  : !rb.is_ok() ? rb.status().to_string().c_str()
                                                : "different hits"));
          break;
        }
      }
    }
  }
  out.passed = differ.empty();
  out.detail = out.passed ? format(
                                "%zu regions hold identical state in %zu collections; %d fixed "
                                "queries give identical results on flat indexes",
                                run.region_count(), sc.collections.size(), kConvergeQueries)
                          : "differ from " + run.region_name(0) + ": " + join(differ);
  return out;
}

CheckOutcome check_no_lost_writes(const CheckedRun& run) {
  CheckOutcome out{"no_lost_acknowledged_writes", false, ""};
  std::vector<std::string> down;
  for (RegionIndex r = 0; r < run.region_count(); ++r) {
    if (!run.running(r)) down.push_back(run.region_name(r));
  }
  if (!down.empty()) {
    out.detail = "no running node to check in: " + join(down);
    return out;
  }
  const auto& acked = run.trace().acked_writes();
  uint64_t missing = 0;
  std::string first;
  for (const AckedWrite& w : acked) {
    for (RegionIndex r = 0; r < run.region_count(); ++r) {
      const Collection* c = run.collection(r, w.collection);
      const bool present = c != nullptr && w.shard < c->config().num_shards &&
                           c->shard(w.shard).version_vector().contains(w.origin, w.sequence);
      if (present) continue;
      if (missing++ == 0) first = describe(run, w) + " missing in " + run.region_name(r);
    }
  }
  out.passed = missing == 0;
  out.detail = out.passed ? format("all %zu acknowledged writes present in all %zu regions",
                                   acked.size(), run.region_count())
                          : format("%llu (write, region) pairs missing of %zu writes; first: %s",
                                   ull(missing), acked.size(), first.c_str());
  return out;
}

CheckOutcome check_read_your_writes(const CheckedRun& run, const SessionMetrics& s) {
  CheckOutcome out{"read_your_writes", s.violations == 0, ""};
  out.detail = format(
      "%llu violations in %llu session reads (%llu satisfied, %llu flagged "
      "unsatisfied by the node)",
      ull(s.violations), ull(s.total), ull(s.satisfied), ull(s.flagged));
  for (const SessionReadSample& r : run.trace().session_reads()) {
    if (r.satisfied_claimed && !r.found) {
      out.detail += "; first: " + r.expected_id + " not found by a client in " + r.client_region +
                    " served by " + r.served_region + (r.forwarded ? " (forwarded)" : "") + " at " +
                    at(run, r.at);
      break;
    }
  }
  return out;
}

// Ground-truth bounded staleness of unflagged eventual reads (rule in checker.h).
CheckOutcome check_staleness(const CheckedRun& run, TimeNs bound) {
  CheckOutcome out{"max_staleness_ms", false, ""};
  if (!run.records_apply_times()) {
    out.detail = kNoApplyTimes;
    return out;
  }
  const Trace& trace = run.trace();
  const auto& acked = trace.acked_writes();
  uint64_t checked = 0, violations = 0;
  std::string first;
  for (RegionIndex r = 0; r < run.region_count(); ++r) {
    const std::string& name = run.region_name(r);
    // (acked_at, applied_at here or +inf, index), by ack time.
    std::vector<std::tuple<TimeNs, TimeNs, size_t>> writes;
    for (size_t i = 0; i < acked.size(); ++i) {
      const AckedWrite& w = acked[i];
      const TimeNs* t = trace.applied_at(name, w.collection, w.origin, w.shard, w.sequence);
      writes.emplace_back(w.acked_at, t ? *t : std::numeric_limits<TimeNs>::max(), i);
    }
    std::sort(writes.begin(), writes.end());
    std::vector<const RequestSample*> reads;
    for (const RequestSample& s : trace.requests()) {
      if (s.kind == RequestKind::kSearch && s.ok && !s.stale && !s.cost_modelled &&
          s.served_region == name) {
        reads.push_back(&s);
      }
    }
    std::stable_sort(
        reads.begin(), reads.end(),
        [](const RequestSample* a, const RequestSample* b) { return a->sent_at < b->sent_at; });
    size_t next = 0;
    TimeNs latest_apply = std::numeric_limits<TimeNs>::min();
    size_t latest_index = 0;
    for (const RequestSample* read : reads) {
      ++checked;
      // Writes acknowledged more than `bound` before the read was sent must be visible to it.
      while (next < writes.size() && std::get<0>(writes[next]) + bound < read->sent_at) {
        if (std::get<1>(writes[next]) > latest_apply) {
          latest_apply = std::get<1>(writes[next]);
          latest_index = std::get<2>(writes[next]);
        }
        ++next;
      }
      const TimeNs answered = read->sent_at + read->latency;
      if (latest_apply <= answered) continue;
      if (violations++ == 0) {
        const AckedWrite& w = acked[latest_index];
        first = "read sent " + at(run, read->sent_at) + " to " + name + " by a client in " +
                read->client_region + " answered " + at(run, answered) + " unflagged without " +
                describe(run, w) +
                (latest_apply == std::numeric_limits<TimeNs>::max()
                     ? std::string(", never applied there")
                     : ", applied there " + at(run, latest_apply));
      }
    }
  }
  out.passed = violations == 0;
  out.detail = format("%llu of %llu unflagged real eventual reads staler than %s", ull(violations),
                      ull(checked), ms(to_ms(bound)).c_str());
  if (!first.empty()) out.detail += "; first: " + first;
  return out;
}

CheckOutcome check_hot_shard(const CheckedRun& run, const RunMetrics& m, bool expected) {
  const bool detected = !m.hot_shards.empty();
  CheckOutcome out{"hot_shard_detected", detected == expected, ""};
  std::vector<std::string> parts;
  for (const HotShard& h : m.hot_shards) {
    parts.push_back(format("%s %s shard %u: %.1f %% of %llu writes",
                           run.region_name(h.region).c_str(), h.collection.c_str(), h.shard,
                           100 * h.share, ull(h.region_writes)));
  }
  if (detected) {
    out.detail = "hot: " + join(parts);
  } else {
    // Say how close the busiest shard came.
    double best = 0;
    std::string where = "no writes";
    for (RegionIndex r = 0; r < run.region_count(); ++r) {
      if (!run.running(r)) continue;
      for (const CollectionSpec& c : run.scenario().collections) {
        const std::vector<uint64_t> counts = run.shard_write_counts(r, c.config.name);
        uint64_t total = 0;
        for (uint64_t n : counts) total += n;
        for (size_t s = 0; s < counts.size() && total > 0; ++s) {
          if (double(counts[s]) / double(total) <= best) continue;
          best = double(counts[s]) / double(total);
          where = format("%s %s shard %zu: %.1f %% of %llu writes", run.region_name(r).c_str(),
                         c.config.name.c_str(), s, 100 * best, ull(total));
        }
      }
    }
    out.detail = "no hot shard; busiest: " + where;
  }
  out.detail = std::string(expected ? "expected" : "expected no") + " hot shard; " + out.detail;
  return out;
}

}  // namespace

std::vector<CheckOutcome> check(const CheckedRun& run, const RunMetrics& m) {
  const Expectations& e = run.scenario().expect;
  std::vector<CheckOutcome> out;
  if (e.converge) out.push_back(check_converge(run));
  if (e.no_lost_acknowledged_writes) out.push_back(check_no_lost_writes(run));
  if (e.read_your_writes) out.push_back(check_read_your_writes(run, m.sessions));
  if (e.max_error_rate) {
    const RegionMetrics* w = nullptr;
    for (const RegionMetrics& r : m.regions) w = (!w || r.error_rate > w->error_rate) ? &r : w;
    const std::string worst =
        w == nullptr ? std::string()
                     : format("; worst client region %s %.4f (%llu of %llu)", w->region.c_str(),
                              w->error_rate, ull(w->errors), ull(w->requests));
    const bool ok = m.error_rate <= *e.max_error_rate;
    out.push_back({"max_error_rate", ok,
                   format("error rate %.4f (%llu of %llu requests) %s %.4f", m.error_rate,
                          ull(m.errors), ull(m.requests), ok ? "<=" : ">", *e.max_error_rate) +
                       worst});
  }
  for (RegionIndex r = 0; r < e.search_p99_max_ns.size() && r < m.regions.size(); ++r) {
    if (!e.search_p99_max_ns[r]) continue;
    const RegionMetrics& rm = m.regions[r];
    const double bound = to_ms(*e.search_p99_max_ns[r]);
    const bool ok = rm.search_p99_ms <= bound;
    out.push_back({"search_p99_ms[" + rm.region + "]", ok,
                   format("p99 %s %s %s (p50 %s, %llu answered searches)",
                          ms(rm.search_p99_ms).c_str(), ok ? "<=" : ">", ms(bound).c_str(),
                          ms(rm.search_p50_ms).c_str(), ull(rm.searches))});
  }
  for (const LagBound& b : e.replication_lag_p99) {
    const std::string name =
        "replication_lag_p99[" + run.region_name(b.from) + "->" + run.region_name(b.to) + "]";
    const LagMetrics* l = m.find_lag(b.from, b.to);
    if (!run.records_apply_times()) {
      out.push_back({name, false, kNoApplyTimes});
      continue;
    }
    if (l == nullptr) {
      out.push_back({name, false, "no such region pair"});
      continue;
    }
    const double bound = to_ms(b.p99_max_ns);
    const bool ok = l->p99_ms <= bound;
    out.push_back({name, ok,
                   format("p99 %s %s %s (p50 %s, %llu writes, %llu never applied)",
                          ms(l->p99_ms).c_str(), ok ? "<=" : ">", ms(bound).c_str(),
                          ms(l->p50_ms).c_str(), ull(l->writes), ull(l->never_applied))});
  }
  if (e.max_staleness_ns) out.push_back(check_staleness(run, *e.max_staleness_ns));
  if (e.hot_shard_detected) out.push_back(check_hot_shard(run, m, *e.hot_shard_detected));
  if (!e.coverage.empty() && !run.coverage_count(e.coverage.front())) {
    out.push_back({"coverage", false,
                   "not measurable: this environment does not count coverage marks (a real "
                   "node counts them in its own process)"});
  } else if (!e.coverage.empty()) {
    std::vector<std::string> missing, hit;
    for (const std::string& name : e.coverage) {
      const uint64_t count = run.coverage_count(name).value_or(0);
      if (count == 0) missing.push_back(name);
      if (count > 0) hit.push_back(format("%s x%llu", name.c_str(), ull(count)));
    }
    out.push_back(
        {"coverage", missing.empty(),
         missing.empty() ? "all fired: " + join(hit, 64) : "never fired: " + join(missing, 64)});
  }
  return out;
}

}  // namespace meridian::sim
