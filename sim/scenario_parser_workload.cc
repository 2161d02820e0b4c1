#include <algorithm>
#include <iterator>
#include <optional>
#include <utility>

#include "sim/scenario_faults.h"
#include "sim/scenario_parser.h"

namespace meridian::sim::scenario_detail {

void Parser::parse_rates(const Cursor& c, OpRates* rates) const {
  const Fields f(c, kRateKeys);
  const Bounds b = closed(0, 1e6);
  rates->upserts_per_s = f.number("upserts_per_s", b, rates->upserts_per_s);
  rates->deletes_per_s = f.number("deletes_per_s", b, rates->deletes_per_s);
  rates->patches_per_s = f.number("patches_per_s", b, rates->patches_per_s);
  rates->searches_per_s = f.number("searches_per_s", b, rates->searches_per_s);
}

void Parser::parse_workload(const Cursor& c) {
  const Fields f(c, kWorkloadKeys);
  WorkloadSpec& w = sc_.workload;
  if (auto cc = f.get("collection")) {
    w.collection = cc->text();
    std::string names;
    for (size_t i = 0; i < sc_.collections.size(); ++i) {
      names += (names.empty() ? "" : ", ") + sc_.collections[i].config.name;
      if (sc_.collections[i].config.name == w.collection) w.collection_index = i;
    }
    if (sc_.collections[w.collection_index].config.name != w.collection) {
      cc->fail("unknown collection '" + w.collection + "' (collections: " + names + ")");
    }
  } else if (sc_.collections.size() == 1) {
    w.collection = sc_.collections[0].config.name;
  } else {
    f.at("collection").fail("required when there is more than one collection");
  }
  const CollectionConfig& cfg = sc_.collections[w.collection_index].config;

  w.keys = uint64_t(f.need("keys").integer(1, 1'000'000'000'000));
  if (auto d = f.get("key_distribution")) {
    const std::string s = d->text();
    if (s == "uniform") {
      w.key_distribution = KeyDistribution::kUniform;
    } else if (s == "zipf") {
      w.key_distribution = KeyDistribution::kZipf;
    } else {
      d->fail("must be uniform or zipf (got '" + s + "')");
    }
  }
  for (std::string_view key : {"zipf_exponent", "hot_shard"}) {
    if (f.has(key) && w.key_distribution != KeyDistribution::kZipf) {
      f.at(key).fail("only applies to key_distribution: zipf");
    }
  }
  w.zipf_exponent = f.number("zipf_exponent", open_closed(0, 10), w.zipf_exponent);
  if (auto h = f.get("hot_shard")) w.hot_shard = uint32_t(h->integer(0, cfg.num_shards - 1));

  OpRates base;
  if (auto p = f.get("per_region")) parse_rates(*p, &base);
  w.rates.assign(sc_.regions.size(), base);
  if (auto r = f.get("regions")) {
    const Fields by_region(*r, {});
    for (size_t i = 0; i < by_region.size(); ++i) {
      const RegionIndex region = region_ref(by_region.key_cursor(i));
      parse_rates(*by_region.get(by_region.key_at(i)), &w.rates[region]);
    }
  }
  w.sessions_per_region = uint32_t(f.integer("sessions_per_region", 0, 100'000, 0));
  w.session_reads_per_s =
      f.number("session_reads_per_s", open_closed(0, 10'000), w.session_reads_per_s);
  w.k = uint32_t(f.integer("k", 1, int64_t(kMaxSearchK), w.k));
  w.exact_search_fraction = f.number("exact_search_fraction", closed(0, 1), 1.0);
  w.failover = f.boolean("failover", false);
  w.request_timeout_ns = f.duration("request_timeout_ms", env::kMillisecond, open_closed(0, 3.6e6),
                                    w.request_timeout_ns);
}

FaultSpec Parser::parse_fault(const Cursor& c) const {
  const Fields f(c, kFaultKeys);
  FaultSpec x;
  x.source_line = c.line();
  const Cursor kind = f.need("kind");
  const std::string kind_name = kind.text();
  std::vector<std::string_view> all_kinds;
  for (FaultKind k : kAllFaultKinds) all_kinds.push_back(fault_kind_name(k));
  const auto it = std::find(all_kinds.begin(), all_kinds.end(), kind_name);
  if (it == all_kinds.end())
    kind.fail("unknown fault kind '" + kind_name + "' (kinds: " + join(all_kinds) + ")");
  x.kind = kAllFaultKinds[it - all_kinds.begin()];

  const std::vector<std::string_view> takes = fault_kind_keys(x.kind);
  for (size_t i = 0; i < f.size(); ++i) {
    const std::string& key = f.key_at(i);
    if (std::find(std::begin(kFaultCommonKeys), std::end(kFaultCommonKeys), key) ==
            std::end(kFaultCommonKeys) &&
        std::find(takes.begin(), takes.end(), key) == takes.end()) {
      f.key_cursor(i).fail("not a field of kind " + kind_name + " (it takes: " + join(takes) + ")");
    }
  }

  const double run_s = double(sc_.duration_ns) / double(env::kSecond);
  x.at_ns = f.need("at_s").duration(env::kSecond, closed_open(0, run_s));
  const Cursor duration = f.need("duration_s");
  x.duration_ns = duration.duration(env::kSecond, open_closed(0, 7 * 86400));
  if (x.at_ns + x.duration_ns > sc_.duration_ns) {
    duration.fail("the fault would end at " + fmt(double(x.at_ns + x.duration_ns) / 1e9) +
                  " s, after the faulty phase (duration_s: " + fmt(run_s) +
                  "); the liveness phase heals every fault");
  }

  const TimeNs ms = env::kMillisecond;
  if (std::find(takes.begin(), takes.end(), "region") != takes.end()) {
    x.region = region_ref(f.need("region"));
  }
  switch (x.kind) {
    case FaultKind::kPartition: x.regions = region_list(f.need("regions"), 2, 2); break;
    case FaultKind::kSwizzleClog:
      x.regions = region_list(f.need("regions"), 2, kMaxScenarioRegions);
      x.step_ns = f.need("step_ms").duration(ms, open_closed(0, 3.6e6));
      break;
    case FaultKind::kOneWayPartition:
    case FaultKind::kSlowLink:
    case FaultKind::kFlappingLink: {
      const Endpoints e = endpoints(f);
      x.from = e.from;
      x.to = e.to;
      x.both_directions = e.both_directions;
      break;
    }
    default: break;
  }
  switch (x.kind) {
    case FaultKind::kSlowLink:
    case FaultKind::kCompactionStall: x.factor = f.need("factor").number(closed(1, 1000)); break;
    case FaultKind::kFlappingLink:
      x.period_ns = f.need("period_ms").duration(ms, open_closed(0, 3.6e6));
      x.up_fraction = f.number("up_fraction", Bounds{0, 1, true, true}, x.up_fraction);
      break;
    case FaultKind::kClockSkew: {
      const Cursor skew = f.need("skew_ms");
      x.skew_ns = skew.duration(ms, closed(-86'400'000, 86'400'000));
      if (x.skew_ns == 0) skew.fail("must not be 0 (a skew fault steps the clock)");
      break;
    }
    case FaultKind::kClockDrift: {
      const Cursor ppm = f.need("ppm");
      x.drift_ppm = ppm.number(closed(-100'000, 100'000));
      if (x.drift_ppm == 0) ppm.fail("must not be 0");
      break;
    }
    case FaultKind::kCrashRestart: x.lose_unsynced = f.boolean("lose_unsynced", true); break;
    default: break;
  }
  return x;
}

void Parser::parse_faults(const Cursor& c) {
  c.expect_sequence();
  const size_t n = sc_.regions.size();
  for (size_t j = 0; j < c.node().size(); ++j) {
    const Cursor item = c.item(j);
    FaultSpec x = parse_fault(item);
    for (size_t i = 0; i < sc_.faults.size(); ++i) {
      const FaultSpec& y = sc_.faults[i];
      if (y.at_ns >= x.at_ns + x.duration_ns || x.at_ns >= y.at_ns + y.duration_ns) continue;
      if (std::string why = fault_conflict(y, x, n); !why.empty()) {
        item.fail("overlaps faults[" + std::to_string(i) + "] (line " +
                  std::to_string(y.source_line) + "): " + why);
      }
    }
    sc_.faults.push_back(std::move(x));
  }
}

void Parser::parse_swarm(const Cursor& c) {
  const Fields f(c, kSwarmKeys);
  SwarmSpec& s = sc_.swarm;
  s.enabled = f.boolean("enabled", false);
  for (FaultKind kind : kAllFaultKinds) {
    if (auto r = f.get(std::string(fault_kind_name(kind)) + "_per_minute")) {
      s.faults_per_minute[kind] = range(*r, closed(0, 600));
    }
  }
  s.max_fault_duration_ns = f.duration("max_fault_duration_s", env::kSecond, open_closed(0, 86400),
                                       s.max_fault_duration_ns);
  if (auto r = f.get("link_loss")) s.link_loss = range(*r, closed_open(0, 1));
  if (auto r = f.get("slow_link_factor")) s.slow_link_factor = range(*r, closed(1, 1000));
  s.max_clock_skew_ns = f.duration("max_clock_skew_ms", env::kMillisecond, closed(0, 86'400'000),
                                   s.max_clock_skew_ns);
}

void Parser::parse_sweep(const Cursor& c) {
  const Fields f(c, kSweepKeys);
  SweepSpec s;
  s.duration_ns =
      f.duration("duration_s", env::kSecond,
                 open_closed(0, double(sc_.duration_ns) / double(env::kSecond)), sc_.duration_ns);
  s.rates_scale = f.number("rates_scale", open_closed(0, 1), 1.0);
  sc_.sweep = s;
}

void Parser::parse_search_p99(const Cursor& c) {
  const Bounds b = open_closed(0, 3.6e6);
  std::vector<std::optional<TimeNs>>& out = sc_.expect.search_p99_max_ns;
  if (!c.node().IsMap()) {
    const TimeNs bound = c.duration(env::kMillisecond, b);
    std::fill(out.begin(), out.end(), bound);
    return;
  }
  const Fields by_region(c, {});
  for (size_t i = 0; i < by_region.size(); ++i) {
    const RegionIndex region = region_ref(by_region.key_cursor(i));
    out[region] = by_region.get(by_region.key_at(i))->duration(env::kMillisecond, b);
  }
}

void Parser::parse_lag_bounds(const Cursor& c) {
  c.expect_sequence();
  for (size_t i = 0; i < c.node().size(); ++i) {
    const Fields f(c.item(i), kLagKeys);
    LagBound lag;
    lag.from = region_ref(f.need("from"));
    const Cursor to = f.need("to");
    lag.to = region_ref(to);
    if (lag.from == lag.to) to.fail("from and to are the same region");
    for (const LagBound& prev : sc_.expect.replication_lag_p99) {
      if (prev.from == lag.from && prev.to == lag.to) {
        to.fail("a bound for " + sc_.regions[lag.from].name + " -> " + sc_.regions[lag.to].name +
                " is already given");
      }
    }
    const Cursor max = f.need("max_ms");
    lag.p99_max_ns = max.duration(env::kMillisecond, open_closed(0, 86'400'000));
    const TimeNs floor = sc_.link(lag.from, lag.to).latency_ns;
    if (lag.p99_max_ns <= floor) {
      max.fail(fmt(double(lag.p99_max_ns) / 1e6) + " ms is not above the one-way latency " +
               sc_.regions[lag.from].name + " -> " + sc_.regions[lag.to].name + " (" +
               fmt(double(floor) / 1e6) + " ms): no replication is that fast");
    }
    sc_.expect.replication_lag_p99.push_back(lag);
  }
}

void Parser::parse_expect(const Cursor& c) {
  const Fields f(c, kExpectKeys);
  Expectations& e = sc_.expect;
  e.converge = f.boolean("converge", e.converge);
  e.no_lost_acknowledged_writes =
      f.boolean("no_lost_acknowledged_writes", e.no_lost_acknowledged_writes);
  e.read_your_writes = f.boolean("read_your_writes", e.read_your_writes);
  if (auto m = f.get("max_error_rate")) e.max_error_rate = m->number(closed(0, 1));
  if (auto p = f.get("search_p99_ms")) parse_search_p99(*p);
  if (auto l = f.get("replication_lag_p99_ms")) parse_lag_bounds(*l);
  if (auto s = f.get("max_staleness_ms")) {
    e.max_staleness_ns = s->duration(env::kMillisecond, open_closed(0, 86'400'000));
  }
  if (auto h = f.get("hot_shard_detected")) e.hot_shard_detected = h->boolean();
  if (auto cov = f.get("coverage")) {
    cov->expect_sequence();
    for (size_t i = 0; i < cov->node().size(); ++i) {
      const Cursor item = cov->item(i);
      const std::string mark = item.text();
      const bool ok = !mark.empty() && std::all_of(mark.begin(), mark.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
      });
      if (!ok) item.fail("'" + mark + "' is not a coverage mark name ([a-z0-9_]+)");
      if (std::find(e.coverage.begin(), e.coverage.end(), mark) != e.coverage.end()) {
        item.fail("coverage mark '" + mark + "' is listed twice");
      }
      e.coverage.push_back(mark);
    }
  }
}

}  // namespace meridian::sim::scenario_detail
