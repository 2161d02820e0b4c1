// A region node: the engine's state machine for one region (DESIGN.md §3).
//
// Write path: validate → stamp with the hybrid logical clock → route to a shard → number it in
// (this region, shard) → append to this region's log partition for the shard → acknowledge once
// durable. Replication path: the node consumes every region's log for every collection (its own
// topic "wal.<collection>" and the mirrored "<region>.wal.<collection>") and applies each record
// to the CRDT replicas; duplicates (at-least-once mirroring) are skipped by version vector.
// Read path: search the local replicas; session reads wait briefly for their token and are
// otherwise forwarded to the origin (read repair); bounded reads are forwarded when the local
// replica lags too much. Every response says whether it may be stale.
//
// Staleness: each node appends a heartbeat to its "heartbeat" topic every heartbeat_interval,
// carrying its wall clock and the last sequence it had issued in every shard. A region counts an
// origin's heartbeat only once it has applied everything the heartbeat vouches for (the
// heartbeat topic is mirrored separately from the data and may arrive first), and reports
// staleness as the time since the newest such heartbeat was *sent*. Heartbeats that arrive in a
// burst after a partition are old, so arrival time would be wrong; the send time is mapped to
// local time with the minimum (arrival - origin wall) offset seen, an NTP-style filter that
// absorbs any constant clock skew and only errs towards more staleness (clock steps make it more
// conservative), short of the minimum transit time, which staleness_margin covers.
//
// Restart: a node has no memory of its own beyond the log (and, with durability, its segment
// files). On start it replays every region's log; before it accepts writes it reads its own
// partitions up to their end, so that it continues each shard's sequence after the highest one
// an earlier incarnation appended (the producer is gap-free and fenced, see ShardProducer and
// env::Log) and its hybrid clock is past every stamp that incarnation issued. Until then writes
// fail with `unavailable` and no heartbeat is sent (a heartbeat vouches for sequences).
//
// The node runs on one thread; every callback comes from its Env's event loop.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "engine/core/collection.h"
#include "engine/core/hlc.h"
#include "engine/node/node_env.h"
#include "engine/node/requests.h"
#include "engine/node/shard_producer.h"

namespace meridian::node {

struct RegionInfo {
  std::string name;
  RegionId id = 0;
};

struct NodeOptions {
  RegionInfo self;
  std::vector<RegionInfo> regions;  // every region of the deployment, including self
  std::vector<CollectionConfig> collections;
  ProducerOptions producer;
  size_t max_pending_writes = 20000;  // admission bound across all shards
  env::TimeNs session_wait = 150 * env::kMillisecond;
  env::TimeNs heartbeat_interval = 100 * env::kMillisecond;
  // A response is flagged stale when some origin has not been heard from for longer than this.
  env::TimeNs stale_after = 1 * env::kSecond;
  // Added to every staleness figure: a heartbeat is timed when it arrives, not when it was
  // sent, so this covers its replication delay (cross-region one-way latency plus mirroring).
  env::TimeNs staleness_margin = 250 * env::kMillisecond;
  // True when every region starts empty together (a new deployment): an origin not heard from
  // yet is then exactly as stale as the time since start. Otherwise (a restart, or a node
  // joining late) its staleness is unknown and reported as kStalenessUnknown.
  bool fresh_deployment = false;
};

// Reported for an origin whose freshness the node cannot vouch for (never heard from since a
// restart): large enough to fail any bound a request asks for.
inline constexpr env::TimeNs kStalenessUnknown = 3600 * env::kSecond;

// Names of the log topics, shared with the environments that create them.
std::string wal_topic(const std::string& collection);
std::string mirrored_topic(const std::string& origin_region, const std::string& topic);
inline constexpr const char* kHeartbeatTopic = "heartbeat";

// Hooks for the simulator's trace and checker (and metrics in the real build).
class NodeObserver {
 public:
  virtual ~NodeObserver() = default;
  virtual void on_applied(const std::string& /*collection*/, uint32_t /*shard*/,
                          const Mutation& /*m*/, bool /*duplicate*/) {}
  virtual void on_corrupt_record(const env::LogRecord& /*record*/, const Status& /*why*/) {}
};

struct NodeCounters {
  uint64_t writes_accepted = 0;
  uint64_t writes_acknowledged = 0;
  uint64_t writes_rejected = 0;  // invalid, or admission bound reached
  uint64_t records_applied = 0;
  uint64_t records_duplicate = 0;
  uint64_t records_corrupt = 0;
  uint64_t searches = 0;
  uint64_t searches_forwarded = 0;
  uint64_t searches_stale = 0;
  uint64_t session_waits = 0;
  uint64_t writes_refused_recovering = 0;  // writes refused while replaying the own log
};

class RegionNode {
 public:
  RegionNode(NodeOptions options, NodeEnv env);
  ~RegionNode();
  RegionNode(const RegionNode&) = delete;
  RegionNode& operator=(const RegionNode&) = delete;

  // Creates the collections, subscribes to every region's log from offset 0 and starts the
  // heartbeat once recovered (see above). Fails on an invalid configuration.
  Status start();
  // False while the node is still reading its own log after a start (writes are refused).
  bool recovered() const { return recovering_partitions_ == 0; }

  void write(WriteRequest request, std::function<void(WriteResponse)> done);
  void search(SearchRequest request, std::function<void(SearchResponse)> done);

  const Collection* collection(const std::string& name) const;
  const NodeOptions& options() const { return options_; }
  const NodeCounters& counters() const { return counters_; }
  // How long since this node last heard from `origin` (0 for itself).
  env::TimeNs staleness(RegionId origin) const;
  env::TimeNs max_staleness() const;
  // Writes accepted here per shard of `collection` (the hot-shard signal).
  std::vector<uint64_t> shard_write_counts(const std::string& collection) const;
  size_t pending_writes() const;

  // Replication backlog of one (origin, shard) of a collection: records the local log already
  // holds for it that this node has not consumed yet (from the log's end offset, so it also
  // counts records of an origin that is cut off only once they have been mirrored here).
  struct ShardLag {
    std::string collection;
    RegionId origin = 0;
    uint32_t shard = 0;
    uint64_t consumed = 0;    // next offset this node will read
    uint64_t end_offset = 0;  // the local log's end offset for the partition
    uint64_t backlog() const { return end_offset > consumed ? end_offset - consumed : 0; }
  };
  // Every (collection, origin, shard), in that order.
  std::vector<ShardLag> replication_lag() const;

  void set_observer(NodeObserver* observer) { observer_ = observer; }

 private:
  struct CollectionState;
  struct SessionWaiter;

  CollectionState* find(const std::string& name);
  Status to_mutation(const WriteRequest& request, const CollectionState& state, Mutation* m) const;
  void subscribe_all();
  void on_record(const RegionInfo& origin, const std::string& collection,
                 const env::LogRecord& record);
  void on_heartbeat(RegionId origin, const std::string& value);
  std::string encode_heartbeat() const;
  // Moves fresh_as_of_wall_ms_ forward over heartbeats whose data has been applied.
  void refresh_freshness(RegionId origin) const;
  void heartbeat();
  // Own-log replay at start: counts down the partitions not read up to their end yet.
  void begin_recovery();
  void note_own_record(CollectionState& state, uint32_t shard, uint64_t offset, uint64_t sequence);

  SearchResponse search_locally(const CollectionState& state, const SearchRequest& request);
  bool covers(const CollectionState& state, const SessionToken& token,
              RegionId* missing_origin) const;
  void wait_for_session(CollectionState& state, SearchRequest request,
                        std::function<void(SearchResponse)> done);
  void forward(const RegionInfo& target, SearchRequest request,
               std::function<void(SearchResponse)> done);
  void wake_session_waiters(CollectionState& state);
  const RegionInfo* region_by_id(RegionId id) const;

  NodeOptions options_;
  NodeEnv env_;
  HybridLogicalClock clock_;
  std::map<std::string, std::unique_ptr<CollectionState>> collections_;
  struct PendingHeartbeat {
    uint64_t origin_wall_ms = 0;      // the origin's wall clock when it sent the heartbeat
    std::vector<uint64_t> sequences;  // per (collection in name order, shard)
  };
  static constexpr size_t kMaxPendingHeartbeats = 256;
  // Per origin: the send time (origin wall ms) of the newest heartbeat whose data is applied,
  // the minimum (local arrival - origin wall) offset seen, and heartbeats still waiting for their
  // data (oldest first). Updated lazily, hence mutable.
  mutable std::map<RegionId, uint64_t> fresh_as_of_wall_ms_;
  std::map<RegionId, env::TimeNs> min_offset_;
  mutable std::map<RegionId, std::deque<PendingHeartbeat>> pending_heartbeats_;
  env::TimeNs started_at_ = 0;
  size_t recovering_partitions_ = 0;
  NodeObserver* observer_ = nullptr;
  NodeCounters counters_;
  Mutation scratch_;  // decode buffer reused across records
  // Next offset to consume per (collection, origin, shard): what replication_lag() reports.
  std::map<std::tuple<std::string, RegionId, uint32_t>, uint64_t> consumed_;
};

}  // namespace meridian::node
