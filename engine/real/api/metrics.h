// Prometheus metrics of a node: its status (NodeService::status) in the text exposition format
// 0.0.4, served by the HTTP gateway at GET /metrics and charted by dashboards/meridian.json.
//
// Every series carries the label region="<this node's region>". What is exported:
//
//   meridian_<counter>_total            every NodeCounters field (counter), e.g.
//                                       meridian_writes_acknowledged_total,
//                                       meridian_records_applied_total,
//                                       meridian_digest_mismatches_total
//   meridian_recovered                  1 once the node has read its own log after a start
//   meridian_writes_stopped             1 once the node yielded to another live node of its
//                                       region (every write refused until a restart)
//   meridian_writer_epoch               this incarnation's writer epoch (own_writer_check.h)
//   meridian_pending_writes             writes accepted, not yet acknowledged by the log
//   meridian_max_staleness_seconds      upper bound on how far behind any origin this replica is
//   meridian_staleness_seconds          the same per origin (label origin)
//   meridian_live_vectors               per collection (label collection)
//   meridian_replication_backlog_records  records in the log not yet applied, per collection,
//                                       origin and shard (end offset - consumed offset)
//   meridian_lag_alert_shards           shards in the lag-alert state (RegionNode::lag_alerts)
//   meridian_lag_alert_seconds          how long each of them has been behind an origin (labels
//                                       collection, origin, shard; no series when none is)
//
// A scrape is a snapshot: the values are built into a fresh registry each time (prometheus-cpp,
// its text serializer), so nothing here holds state between scrapes.
#pragma once

#include <string>

#include "engine/real/api/node_service.h"

namespace meridian::real::api {

// The exposition text for `status`. The HTTP content type is kPrometheusContentType.
std::string render_prometheus_metrics(const NodeStatus& status);

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace meridian::real::api
