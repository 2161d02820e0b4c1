#include "engine/real/api/metrics.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace meridian::real::api {
namespace {

NodeStatus example_status() {
  NodeStatus s;
  s.self = {"us-east", 1};
  s.recovered = true;
  s.max_staleness = 1500 * env::kMillisecond;
  s.staleness = {{"us-east", 1, 0}, {"eu-west", 2, 1500 * env::kMillisecond}};
  s.pending_writes = 3;
  s.writes_stopped = "heartbeat/0: a heartbeat at offset 9 (by a newer node, writer epoch 3, ...)";
  s.writer_epoch = 2;
  s.counters.writes_acknowledged = 42;
  s.counters.digest_mismatches = 2;
  s.counters.tombstones_collected = 7;
  CollectionStatus c;
  c.config.name = "docs";
  c.live_vectors = 40;
  ShardStatus shard;
  shard.shard = 3;
  shard.origins = {{2, "eu-west", 10, 10, /*consumed=*/90, /*end=*/100}};
  c.shards = {shard};
  s.collections = {c};
  s.lag_alerts = {{"docs", 2, 3, 31 * env::kSecond}};
  return s;
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(Metrics, EveryValueOfTheStatusIsASeriesLabelledWithTheRegion) {
  const std::string text = render_prometheus_metrics(example_status());
  for (const char* line : {
           "meridian_writes_acknowledged_total{region=\"us-east\"} 42",
           "meridian_digest_mismatches_total{region=\"us-east\"} 2",
           "meridian_tombstones_collected_total{region=\"us-east\"} 7",
           "meridian_records_corrupt_total{region=\"us-east\"} 0",
           "meridian_recovered{region=\"us-east\"} 1",
           "meridian_pending_writes{region=\"us-east\"} 3",
           "meridian_writes_stopped{region=\"us-east\"} 1",
           "meridian_writer_epoch{region=\"us-east\"} 2",
           "meridian_max_staleness_seconds{region=\"us-east\"} 1.5",
           "meridian_staleness_seconds{origin=\"eu-west\",region=\"us-east\"} 1.5",
           "meridian_staleness_seconds{origin=\"us-east\",region=\"us-east\"} 0",
           "meridian_live_vectors{collection=\"docs\",region=\"us-east\"} 40",
           "meridian_replication_backlog_records{collection=\"docs\",origin=\"eu-west\","
           "region=\"us-east\",shard=\"3\"} 10",
           "meridian_lag_alert_seconds{collection=\"docs\",origin=\"eu-west\",region=\"us-east\","
           "shard=\"3\"} 31",
           "meridian_lag_alert_shards{region=\"us-east\"} 1",
           "# TYPE meridian_writes_acknowledged_total counter",
           "# TYPE meridian_staleness_seconds gauge",
       }) {
    EXPECT_TRUE(has_line(text, line)) << line << "\nin:\n" << text;
  }
}

TEST(Metrics, EveryEngineCounterIsExported) {
  // One counter series per NodeCounters field (node_counters.h's static_assert ties the list
  // the metrics are built from to the struct).
  const std::string text = render_prometheus_metrics(NodeStatus{});
  const std::regex counter_type("# TYPE meridian_[a-z_]+_total counter");
  const auto n = std::distance(std::sregex_iterator(text.begin(), text.end(), counter_type),
                               std::sregex_iterator());
  EXPECT_EQ(size_t(n), sizeof(node::NodeCounters) / sizeof(uint64_t)) << text;
  for (const node::NodeCounterField& f : node::kNodeCounterFields) {
    EXPECT_TRUE(has_line(text, std::string("# TYPE meridian_") + f.name + "_total counter"))
        << f.name;
  }
}

TEST(Metrics, AnIdleNodeHasNoPerShardSeries) {
  NodeStatus idle;
  idle.self = {"solo", 1};
  const std::string text = render_prometheus_metrics(idle);
  EXPECT_EQ(text.find("meridian_replication_backlog_records{"), std::string::npos) << text;
  EXPECT_EQ(text.find("meridian_lag_alert_seconds{"), std::string::npos) << text;
  EXPECT_TRUE(has_line(text, "meridian_recovered{region=\"solo\"} 0")) << text;
  EXPECT_TRUE(has_line(text, "meridian_writes_stopped{region=\"solo\"} 0")) << text;
  EXPECT_TRUE(has_line(text, "meridian_lag_alert_shards{region=\"solo\"} 0")) << text;
}

}  // namespace
}  // namespace meridian::real::api
