#include "engine/real/api/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace meridian::real::api {

namespace {

double seconds(env::TimeNs ns) { return double(ns) / double(env::kSecond); }

}  // namespace

std::string render_prometheus_metrics(const NodeStatus& status) {
  prometheus::Registry registry;
  const prometheus::Labels region{{"region", status.self.name}};
  auto gauge = [&](const std::string& name, const std::string& help) -> auto& {
    return prometheus::BuildGauge().Name("meridian_" + name).Help(help).Register(registry);
  };

  // Every engine counter (node_counters.h), as meridian_<name>_total.
  for (const node::NodeCounterField& c : node::kNodeCounterFields) {
    prometheus::BuildCounter()
        .Name(std::string("meridian_") + c.name + "_total")
        .Help(c.help)
        .Register(registry)
        .Add(region)
        .Increment(double(status.counters.*c.member));
  }
  gauge("recovered", "1 once the node has read its own log after a start (writes accepted)")
      .Add(region)
      .Set(status.recovered ? 1 : 0);
  gauge("writes_stopped",
        "1 once the node yielded to another live node of its region (writes refused until restart)")
      .Add(region)
      .Set(status.writes_stopped.empty() ? 0 : 1);
  gauge("writer_epoch", "This incarnation's writer epoch (the newer of two live nodes writes)")
      .Add(region)
      .Set(double(status.writer_epoch));
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
