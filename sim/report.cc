#include "sim/report.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace meridian::sim {

namespace {

std::string fixed(double v, int digits = 1) {
  if (std::isinf(v)) return "inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string secs(TimeNs t) { return fixed(double(t) / env::kSecond) + " s"; }

std::string pad(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

double json_number(double v) { return std::isfinite(v) ? v : -1; }

}  // namespace

std::string format_summary(const RunResult& r, const std::string& revision,
                           const std::string& replay_command) {
  std::ostringstream out;
  out << "scenario " << r.scenario << " (" << r.source << ")  seed " << r.seed << "  revision "
      << revision << "\n";
  if (!r.status.is_ok()) {
    out << "could not run: " << r.status.to_string() << "\nresult: FAIL\nreplay: " << replay_command
        << "\n";
    return out.str();
  }
  out << "setup " << secs(r.setup_ns) << " simulated; faulty phase " << secs(r.faulty_ns)
      << "; liveness: "
      << (r.converged_after_ns >= 0 ? "converged after " + secs(r.converged_after_ns)
                                    : std::string("did NOT converge"))
      << "\n";
  out << "searches: " << r.exact_searches << " through FAISS, " << r.cost_modelled_searches
      << " cost-modelled only\n";
  out << "faults:" << (r.faults.empty() ? " none" : "") << "\n";
  for (const std::string& f : r.faults) out << "  " << f << "\n";

  out << "\n"
      << pad("region", 16) << pad("requests", 10) << pad("errors", 8) << pad("search p50", 12)
      << pad("search p99", 12) << pad("served ops/s", 14) << "stale-flagged searches\n";
  for (size_t i = 0; i < r.metrics.regions.size(); ++i) {
    const RegionMetrics& m = r.metrics.regions[i];
    out << pad(m.region, 16) << pad(std::to_string(m.requests), 10)
        << pad(fixed(100 * m.error_rate, 2) + "%", 8) << pad(fixed(m.search_p50_ms, 2) + " ms", 12)
        << pad(fixed(m.search_p99_ms, 2) + " ms", 12) << pad(fixed(m.ops_per_s, 0), 14)
        << (i < r.stale_searches.size() ? r.stale_searches[i] : 0) << "\n";
  }
  out << "\nreplication lag (acknowledged in origin -> applied in destination)\n"
      << pad("from -> to", 32) << pad("writes", 9) << pad("p50", 12) << pad("p99", 12)
      << pad("never applied", 15) << "max backlog (records)\n";
  for (const LagMetrics& l : r.metrics.lag) {
    const std::string pair =
        r.metrics.regions[l.from].region + " -> " + r.metrics.regions[l.to].region;
    const uint64_t backlog = l.to < r.max_backlog.size() ? r.max_backlog[l.to][l.from] : 0;
    out << pad(pair, 32) << pad(std::to_string(l.writes), 9) << pad(fixed(l.p50_ms, 2) + " ms", 12)
        << pad(fixed(l.p99_ms, 2) + " ms", 12) << pad(std::to_string(l.never_applied), 15)
        << backlog << "\n";
  }
  const SessionMetrics& s = r.metrics.sessions;
  out << "\nsession reads: " << s.total << " (" << s.satisfied << " saw their write, " << s.flagged
      << " flagged, " << s.violations << " violations)\n";
  if (!r.metrics.hot_shards.empty()) {
    out << "hot shards:";
    for (const HotShard& h : r.metrics.hot_shards) {
      out << " " << h.collection << "/" << h.shard << " in " << r.metrics.regions[h.region].region
          << " (" << fixed(100 * h.share) << "% of " << h.region_writes << " writes)";
    }
    out << "\n";
  }
  bool durability_header = false;
  for (size_t i = 0; i < r.durability.size(); ++i) {
    const DurabilityStats& d = r.durability[i];
    if (!d.any()) continue;
    if (!durability_header) {
      out << "durability and catch-up:\n";
      durability_header = true;
    }
    out << "  " << pad(r.metrics.regions[i].region, 14) << " restarts " << d.restarts
        << ", checkpoints " << d.checkpoints_written << " (records segments "
        << d.records_segments_written << ", compactions " << d.compactions << ")"
        << ", segments loaded " << d.segments_loaded << " / rejected " << d.segments_rejected
        << " (recovered from a peer " << d.shards_recovered_from_peer << "), manifests rejected "
        << d.manifests_rejected << ", writes refused while recovering "
        << d.writes_refused_recovering << "; delta catch-ups " << d.catch_ups_installed
        << " (failed " << d.catch_up_failures << "), " << d.catch_up_bytes << " bytes moved vs "
        << d.catch_up_full_bytes << " for full copies\n";
  }
  if (!r.durability.empty()) {
    out << "tombstones collected:";
    for (size_t i = 0; i < r.durability.size(); ++i) {
      out << " " << r.metrics.regions[i].region << "=" << r.durability[i].tombstones_collected;
    }
    out << "\n";
  }
  out << "coverage:";
  for (const auto& [name, count] : r.coverage) out << " " << name << "=" << count;
  out << "\n\nchecks:\n";
  for (const CheckOutcome& c : r.checks) {
    out << "  " << (c.passed ? "PASS " : "FAIL ") << pad(c.name, 30) << c.detail << "\n";
  }
  out << "digest " << r.digest << "  (" << r.events << " events)\n";
  out << "result: " << (r.passed() ? "PASS" : "FAIL") << "\n";
  if (!r.passed()) out << "replay: " << replay_command << "\n";
  return out.str();
}

nlohmann::json to_json(const RunResult& r, const std::string& revision) {
  nlohmann::json j;
  j["scenario"] = r.scenario;
  j["source"] = r.source;
  j["seed"] = r.seed;
  j["revision"] = revision;
  j["passed"] = r.passed();
  j["status"] = r.status.to_string();
  j["digest"] = r.digest;
  j["events"] = r.events;
  j["setup_s"] = double(r.setup_ns) / env::kSecond;
  j["faulty_phase_s"] = double(r.faulty_ns) / env::kSecond;
  j["converged_after_s"] = r.converged_after_ns >= 0
                               ? nlohmann::json(double(r.converged_after_ns) / env::kSecond)
                               : nlohmann::json(nullptr);
  j["faults"] = r.faults;
  j["searches"] = {{"faiss", r.exact_searches}, {"cost_modelled", r.cost_modelled_searches}};
  for (size_t i = 0; i < r.metrics.regions.size(); ++i) {
    const RegionMetrics& m = r.metrics.regions[i];
    j["regions"].push_back(
        {{"region", m.region},
         {"stale_flagged_searches", i < r.stale_searches.size() ? r.stale_searches[i] : 0},
         {"requests", m.requests},
         {"errors", m.errors},
         {"error_rate", m.error_rate},
         {"search_p50_ms", m.search_p50_ms},
         {"search_p99_ms", m.search_p99_ms},
         {"served_ops_per_s", m.ops_per_s},
         {"tombstones_collected",
          i < r.durability.size() ? r.durability[i].tombstones_collected : 0}});
  }
  for (const LagMetrics& l : r.metrics.lag) {
    j["replication_lag"].push_back(
        {{"from", r.metrics.regions[l.from].region},
         {"to", r.metrics.regions[l.to].region},
         {"writes", l.writes},
         {"never_applied", l.never_applied},
         {"max_backlog_records", l.to < r.max_backlog.size() ? r.max_backlog[l.to][l.from] : 0},
         {"p50_ms", json_number(l.p50_ms)},
         {"p99_ms", json_number(l.p99_ms)}});
  }
  const SessionMetrics& s = r.metrics.sessions;
  j["sessions"] = {{"reads", s.total},
                   {"satisfied", s.satisfied},
                   {"flagged", s.flagged},
                   {"violations", s.violations}};
  j["hot_shards"] = nlohmann::json::array();
  for (const HotShard& h : r.metrics.hot_shards) {
    j["hot_shards"].push_back({{"collection", h.collection},
                               {"region", r.metrics.regions[h.region].region},
                               {"shard", h.shard},
                               {"share", h.share}});
  }
  j["coverage"] = r.coverage;
  j["durability"] = nlohmann::json::array();
  for (size_t i = 0; i < r.durability.size(); ++i) {
    const DurabilityStats& d = r.durability[i];
    j["durability"].push_back({{"region", r.metrics.regions[i].region},
                               {"restarts", d.restarts},
                               {"checkpoints_written", d.checkpoints_written},
                               {"records_segments_written", d.records_segments_written},
                               {"compactions", d.compactions},
                               {"segments_loaded", d.segments_loaded},
                               {"segments_rejected", d.segments_rejected},
                               {"shards_recovered_from_peer", d.shards_recovered_from_peer},
                               {"manifests_rejected", d.manifests_rejected},
                               {"writes_refused_recovering", d.writes_refused_recovering},
                               {"catch_ups_installed", d.catch_ups_installed},
                               {"catch_up_failures", d.catch_up_failures},
                               {"catch_up_bytes", d.catch_up_bytes},
                               {"catch_up_full_bytes", d.catch_up_full_bytes}});
  }
  for (const CheckOutcome& c : r.checks) {
    j["checks"].push_back({{"name", c.name}, {"passed", c.passed}, {"detail", c.detail}});
  }
  return j;
}

}  // namespace meridian::sim
