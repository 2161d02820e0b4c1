#include "engine/real/api/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace meridian::real::api {

namespace {

// Every NodeCounters field, exported as meridian_<name>_total: a counter added to the engine is
// one line here (metrics_test fails until it is: it counts the fields).
struct CounterField {
  const char* name;
  const char* help;
  uint64_t node::NodeCounters::*field;
};

using C = node::NodeCounters;
constexpr CounterField kCounters[] = {
    {"writes_accepted", "Writes accepted for the log", &C::writes_accepted},
    {"writes_acknowledged", "Writes acknowledged after the log made them durable",
     &C::writes_acknowledged},
    {"writes_rejected", "Writes refused: invalid, or the admission bound was reached",
     &C::writes_rejected},
    {"writes_refused_recovering", "Writes refused while the node replayed its own log",
     &C::writes_refused_recovering},
    {"records_applied", "Log records applied to this replica", &C::records_applied},
    {"records_duplicate", "Log records already applied (replays)", &C::records_duplicate},
    {"records_corrupt", "Log records that failed their checksum: reported, never applied",
     &C::records_corrupt},
    {"searches", "Searches served", &C::searches},
    {"searches_forwarded", "Searches forwarded to another region", &C::searches_forwarded},
    {"searches_stale", "Searches answered with the stale flag", &C::searches_stale},
    {"session_waits", "Session reads that waited for their token", &C::session_waits},
    {"checkpoints_written", "Checkpoint manifests made durable", &C::checkpoints_written},
    {"checkpoint_failures", "Checkpoints abandoned: a segment or manifest write failed",
     &C::checkpoint_failures},
    {"records_segments_written", "Applied-records segments written in checkpoints",
     &C::records_segments_written},
    {"compactions", "Sealed snapshots of shards that had one already", &C::compactions},
    {"segments_loaded", "Shard snapshots restored at start", &C::segments_loaded},
    {"segments_rejected", "Segment files that failed verification at start", &C::segments_rejected},
    {"manifests_rejected", "Manifests that failed verification at start", &C::manifests_rejected},
    {"shards_recovered_from_peer", "Shards rejected at start and caught up from a peer",
     &C::shards_recovered_from_peer},
    {"catch_ups_started", "Delta catch-ups started", &C::catch_ups_started},
    {"catch_ups_installed", "Delta catch-ups merged in", &C::catch_ups_installed},
    {"catch_up_failures", "Catch-ups that failed (peer unreachable, result did not verify)",
     &C::catch_up_failures},
    {"catch_up_bytes", "Bytes of catch-up signatures sent and deltas received", &C::catch_up_bytes},
    {"catch_up_full_bytes", "Bytes full snapshot copies would have moved instead",
     &C::catch_up_full_bytes},
    {"shard_deltas_served", "Delta catch-ups served to peers", &C::shard_deltas_served},
    {"digest_checks", "Shards compared with a peer holding the same version vector",
     &C::digest_checks},
    {"digest_mismatches", "Digest comparisons that differed: replicas diverged",
     &C::digest_mismatches},
    {"tombstones_collected", "Tombstones erased by garbage collection", &C::tombstones_collected},
};

double seconds(env::TimeNs ns) { return double(ns) / double(env::kSecond); }

}  // namespace

std::string render_prometheus_metrics(const NodeStatus& status) {
  prometheus::Registry registry;
  const prometheus::Labels region{{"region", status.self.name}};
  auto gauge = [&](const std::string& name, const std::string& help) -> auto& {
    return prometheus::BuildGauge().Name("meridian_" + name).Help(help).Register(registry);
  };

  for (const CounterField& c : kCounters) {
    prometheus::BuildCounter()
        .Name(std::string("meridian_") + c.name + "_total")
        .Help(c.help)
        .Register(registry)
        .Add(region)
        .Increment(double(status.counters.*c.field));
  }
  gauge("recovered", "1 once the node has read its own log after a start (writes accepted)")
      .Add(region)
      .Set(status.recovered ? 1 : 0);
  gauge("pending_writes", "Writes accepted and not yet acknowledged by the log")
      .Add(region)
      .Set(double(status.pending_writes));
  gauge("max_staleness_seconds", "Upper bound on how far behind any origin this replica is")
      .Add(region)
      .Set(seconds(status.max_staleness));
  auto& staleness = gauge("staleness_seconds", "Upper bound on how far behind an origin");
  for (const OriginStaleness& s : status.staleness) {
    staleness.Add({{"region", status.self.name}, {"origin", s.region}}).Set(seconds(s.staleness));
  }
  auto& live = gauge("live_vectors", "Live (not deleted) vectors per collection");
  auto& backlog = gauge("replication_backlog_records",
                        "Records in an origin's log partition not yet applied here");
  for (const CollectionStatus& c : status.collections) {
    live.Add({{"region", status.self.name}, {"collection", c.config.name}})
        .Set(double(c.live_vectors));
    for (const ShardStatus& shard : c.shards) {
      for (const OriginProgress& p : shard.origins) {
        backlog
            .Add({{"region", status.self.name},
                  {"collection", c.config.name},
                  {"origin", p.region},
                  {"shard", std::to_string(shard.shard)}})
            .Set(double(p.backlog()));
      }
    }
  }
  // Always present (0 when none), so an alert rule or panel sees 0 rather than no data.
  gauge("lag_alert_shards", "Shards that have stayed behind an origin long enough to alert")
      .Add(region)
      .Set(double(status.lag_alerts.size()));
  auto& alerts = gauge("lag_alert_seconds",
                       "How long a shard in the lag-alert state has been behind an origin");
  for (const node::RegionNode::LagAlert& a : status.lag_alerts) {
    std::string origin = std::to_string(a.origin);
    for (const OriginStaleness& s : status.staleness) {
      if (s.id == a.origin) origin = s.region;
    }
    alerts
        .Add({{"region", status.self.name},
              {"collection", a.collection},
              {"origin", origin},
              {"shard", std::to_string(a.shard)}})
        .Set(seconds(a.behind_for));
  }

  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry.Collect());
  return out.str();
}

}  // namespace meridian::real::api
