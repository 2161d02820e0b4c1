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
// Tombstone collection (region_node_gc.cc): every heartbeat also carries the HLC timestamp the
// origin stamped it with (a tick, so every write the origin issued before has a smaller
// timestamp and a sequence the heartbeat vouches for, and every later write a larger one) and
// the origin's own stable point. A region's stable point S is the minimum, over every origin
// including itself, of the stamp of the newest heartbeat whose vouched sequences it has
// applied: it has applied every mutation older than S. The stable frontier G is the minimum of
// its own S and the newest S heard from every other region (0 until all were heard from): every
// region has applied everything older than G, so tombstones older than G can go.
//
// Restart: a node has no memory of its own beyond the log (and, with durability, its segment
// files). On start it replays every region's log; before it accepts writes it reads its own
// partitions up to their end, so that it continues each shard's sequence after the highest one
// an earlier incarnation appended (the producer is gap-free and fenced, see ShardProducer and
// env::Log) and its hybrid clock is past every stamp that incarnation issued, including its last
// heartbeat's (which vouched that no older write would follow). Until then writes
// fail with `unavailable` and no heartbeat is sent (a heartbeat vouches for sequences).
//
// The node runs on one thread; every callback comes from its Env's event loop. A few const calls
// are thread-compatible (search_now, staleness, max_staleness, collection, counters): they may
// run on other threads concurrently with each other, but never concurrently with anything else
// (the real environment guarantees that with a readers-writer lock, engine/real/engine_lock.h).
// They only read: every piece of state they depend on is brought up to date eagerly on the loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "engine/core/collection.h"
#include "engine/core/hlc.h"
#include "engine/node/checkpoint_manifest.h"
#include "engine/node/node_counters.h"
#include "engine/node/node_env.h"
#include "engine/node/requests.h"
#include "engine/node/shard_producer.h"
#include "engine/node/token_bucket.h"

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
  // How often the node checkpoints changed shards to segment files (NodeEnv::files set; 0 =
  // never). A restart then loads the newest complete checkpoint and replays the logs from the
  // positions it records instead of from offset 0.
  env::TimeNs checkpoint_interval = 10 * env::kSecond;
  // I/O budget of checkpoint writes (a token bucket with one second of burst): shards are
  // encoded and written one at a time, paced to this rate, yielding to requests in between, so
  // a checkpoint stays off the query path. 0 = unlimited.
  double checkpoint_bytes_per_s = 64.0 * 1024 * 1024;
  // Anti-entropy (catch_up.cc): every anti_entropy_interval the node compares each shard's
  // version vector with the sequences the origins' heartbeats claim. A shard that has stayed
  // behind for catch_up_after with nothing left to read in the local log (e.g. the records it
  // misses were deleted by retention before they were mirrored here) is brought up to date by
  // delta catch-up from a peer. Behind for lag_alert_after: reported by lag_alerts().
  env::TimeNs anti_entropy_interval = 1 * env::kSecond;
  env::TimeNs catch_up_after = 5 * env::kSecond;  // 0 = never catch up by delta
  env::TimeNs lag_alert_after = 30 * env::kSecond;
  // Every digest_check_interval the node compares one shard (round robin) with one peer (round
  // robin): version vectors and digests. Equal vectors with different digests are a divergence:
  // reported (NodeObserver::on_durability_problem, counters) and repaired by a delta catch-up
  // from that peer. 0 = never. A digest is one pass over the shard on each side (when the
  // vectors are equal: digest_check.cc): off the loop where the environment has an env.offload
  // (on the loop it held every write and search for 150-330 ms at 25 k vectors a shard), but
  // still CPU on the same cores, so the default is rare: with 16 shards and one peer, each shard
  // is compared every 8 minutes (docs/benchmarks.md, section 3).
  env::TimeNs digest_check_interval = 30 * env::kSecond;
  // A shard whose segment was rejected at start (checksum, torn, wrong shard) is replayed from
  // what the logs still hold and, at once, recovered from a peer by delta catch-up: the logs
  // may have lost records to retention, and the node's own records are never caught up by
  // heartbeat lag. A failed attempt is retried after this long with the next peer.
  env::TimeNs peer_recovery_retry = 1 * env::kSecond;
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
  // A shard snapshot from a peer was merged in (delta catch-up): its version vector went from
  // `before` to `after`; the (origin, sequence) pairs new in `after` are applied from now on.
  virtual void on_caught_up(const std::string& /*collection*/, uint32_t /*shard*/,
                            const VersionVector& /*before*/, const VersionVector& /*after*/) {}
  // A checkpoint file rejected at recovery (bad checksum, torn, wrong shard) or a failed write.
  virtual void on_durability_problem(const std::string& /*what*/) {}
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
  // False while the node is still reading its own log after a start, or its own partitions'
  // subscriptions are not reading yet (env::Log::when_reading): writes are refused.
  bool recovered() const { return recovering_partitions_ == 0; }
  // Why this node refuses every write for good: its own log holds a record or heartbeat of a
  // newer live writer of this region, or a record of one it cannot place (own_writer_check.h; a
  // restart clears it). Empty while it accepts writes.
  const std::string& writes_stopped() const { return writer_conflict_; }
  // The writer id stamped on everything this incarnation appends (own_writer_check.h): its epoch
  // in the high 32 bits. 0 until recovered.
  uint64_t writer_id() const { return writer_id_; }

  void write(WriteRequest request, std::function<void(WriteResponse)> done);
  // Answers at once when search_now() can; otherwise waits for the session token, or forwards.
  void search(SearchRequest request, std::function<void(SearchResponse)> done);
  // The part of search() that needs nothing from the loop: answers an eventual read, a session
  // read whose token this region already covers, a bounded read within its bound (or one that
  // may not forward), and an unknown collection (not_found). Returns nullopt for everything
  // else (a session read that must wait or be forwarded, a bounded read that must be
  // forwarded): call search() on the loop for those.
  // Thread-compatible: may run concurrently with other const calls, never with a mutation.
  // Counts itself in counters() (atomically).
  std::optional<SearchResponse> search_now(const SearchRequest& request) const;

  const Collection* collection(const std::string& name) const;
  const NodeOptions& options() const { return options_; }
  // A snapshot; thread-compatible (the search counters are atomic, the rest loop-owned).
  NodeCounters counters() const;
  // How long since this node last heard from `origin` (0 for itself). Thread-compatible.
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

  // Serves a lagging peer's delta catch-up request for one shard (the environment calls this
  // when the request arrives). Errors: unknown collection or shard, a malformed signature.
  ShardDeltaResponse serve_shard_delta(const ShardDeltaRequest& request);
  // Serves a peer's digest comparison for one shard, at once on the calling (engine) thread.
  ShardDigestResponse serve_shard_digest(const ShardDigestRequest& request);
  // The same, with the digest (if one is taken) computed through env.offload when the
  // environment has one: `done` runs on the engine's thread, maybe later, maybe at once.
  void serve_shard_digest(const ShardDigestRequest& request,
                          std::function<void(ShardDigestResponse)> done);

  // Shards that have been behind an origin's heartbeat claims for at least lag_alert_after.
  struct LagAlert {
    std::string collection;
    RegionId origin = 0;
    uint32_t shard = 0;
    env::TimeNs behind_for = 0;
  };
  std::vector<LagAlert> lag_alerts() const;

  void set_observer(NodeObserver* observer) { observer_ = observer; }

  // This region's stable point S (it has applied every mutation with an older HLC timestamp)
  // and stable frontier G (every region has: tombstones older than G are collected). Both 0
  // until heard from every region; G never decreases within an incarnation.
  uint64_t stable_point() const;
  uint64_t stable_frontier() const { return stable_frontier_; }
  // Below which timestamp one shard is known complete: max(G, where it was last collected, e.g.
  // by a catch-up from a peer's collected snapshot).
  uint64_t shard_stable_frontier(const std::string& collection, uint32_t shard) const;

 private:
  struct CollectionState;
  struct SessionWaiter;
  // A session token's entry as a waiting read needs it: (shard, origin, sequence).
  using SessionNeed = std::tuple<uint32_t, RegionId, uint64_t>;
  struct PendingCheckpoint;

  CollectionState* find(const std::string& name);
  Status to_mutation(const WriteRequest& request, const CollectionState& state, Mutation* m) const;
  // Next offset per (collection, origin, shard).
  using Positions = std::map<std::tuple<std::string, RegionId, uint32_t>, uint64_t>;
  void subscribe_all(const Positions& from);
  // Durability (region_node_durability.cc): loads the newest valid checkpoint into the
  // collections and returns the positions to resume from (empty: from offset 0).
  Positions recover_from_files();
  void checkpoint();
  void checkpoint_step(uint64_t checkpoint);
  void on_segment_written(uint64_t checkpoint, Status status);
  void on_manifest_written(uint64_t checkpoint, Status status);
  void remove_unreferenced_files();
  // Active segments (region_node_active_segment.cc). Chooses shard `shard`'s segment for
  // checkpoint `p`: an applied-records segment if its active segment follows its durable
  // snapshot, a new sealed snapshot otherwise; records it in p's manifest and returns the file
  // with an encoding of the shard as it is now, made from a copy (it runs off the loop).
  struct CheckpointSegment {
    std::string file;
    env::Files::Encode encode;
  };
  CheckpointSegment prepare_checkpoint_segment(PendingCheckpoint& p, const std::string& collection,
                                               uint32_t shard);
  // Verifies the applied-records segment `file` of a shard, applies its records to `replica`
  // (the shard's verified snapshot) and returns them in `records`. On error (the message says
  // why) `replica` is unusable.
  Status load_records_segment(const CollectionConfig& config, uint32_t shard,
                              const std::string& file, ShardReplica* replica,
                              std::vector<Mutation>* records);
  void report_durability_problem(const std::string& what);
  // Anti-entropy and delta catch-up (catch_up.cc).
  void anti_entropy();
  void check_next_digest();
  void compare_digest(const std::string& collection, uint32_t shard, const RegionInfo& peer,
                      const ShardDigestResponse& response);
  void on_digests(const std::string& collection, uint32_t shard, const RegionInfo& peer,
                  const std::string& ours, const std::string& theirs);
  // `done` gets the hex digest root of `replica` as if collected at `g` (empty if the
  // environment dropped the work): at once without env.offload, else from its thread, through
  // a copy taken now (the replica goes on changing).
  void digest_at(const ShardReplica& replica, uint64_t g,
                 std::function<void(std::string root)> done);
  // A digest request's answer, complete unless `replica` is set: then its digest at
  // response.stable_frontier is still to be taken.
  struct DigestToServe {
    ShardDigestResponse response;
    const ShardReplica* replica = nullptr;
  };
  DigestToServe prepare_shard_digest(const ShardDigestRequest& request);
  void start_catch_up(const std::string& collection, uint32_t shard, RegionId behind_origin);
  // True if the peer's snapshot was verified and merged in.
  bool install_shard_delta(const std::string& collection, uint32_t shard, const std::string& basis,
                           const ShardDeltaResponse& response);
  // Peer recovery of shards whose segment was rejected (peer_recovery.cc).
  void recover_from_peer(const std::string& collection, uint32_t shard);
  void on_peer_recovery_done(const std::string& collection, uint32_t shard, bool installed,
                             const std::string& peer);
  void on_record(const RegionInfo& origin, const std::string& collection,
                 const env::LogRecord& record);
  void on_heartbeat(RegionId origin, const std::string& value);
  std::string encode_heartbeat(uint64_t hlc, uint64_t stable_point) const;
  // Garbage collection (region_node_gc.cc).
  void on_own_heartbeat(const env::LogRecord& record);
  void update_stable_frontier();
  // Collects one shard at its stable frontier if that moved since the last collection.
  void collect_shard(CollectionState& state, uint32_t shard);
  void finish_recovering_partition();
  // Recovery is over: takes this incarnation's writer id, then starts heartbeating.
  // Counts topic/partition as recovering until the log says its subscription reads.
  void await_reading(const std::string& topic, uint32_t partition);
  void on_recovered();
  // Before this node writes: remembers the newest epoch among the writer ids it has read.
  void note_writer(uint64_t writer);
  // Another writer's record or heartbeat in the own log: stops writes if that writer is newer
  // than this incarnation, or cannot be placed (no writer id).
  void stop_writes_if_not_newest(uint64_t other_writer, const std::string& where,
                                 const std::string& what);
  // Moves fresh_as_of_wall_ms_ (and stable_hlc_) forward over heartbeats whose data has been
  // applied. Called whenever an origin's frontier may have advanced (a record applied, a
  // heartbeat arrived or became durable, a shard merged), so that staleness() only reads.
  void refresh_freshness(RegionId origin);
  void refresh_all_freshness();
  void heartbeat();
  // Own-log replay at start: counts down the partitions not read up to their end yet.
  void begin_recovery(const Positions& from);
  void note_own_record(CollectionState& state, uint32_t shard, uint64_t offset, uint64_t sequence);
  void finish_own_recovery(CollectionState& state, uint32_t shard);
  // The own partition `shard` of `collection` holds a record this incarnation did not write,
  // appended by `writer`.
  void on_writer_conflict(const std::string& topic, uint32_t shard, uint64_t writer,
                          const std::string& why);

  const CollectionState* find(const std::string& name) const;
  SearchResponse search_locally(const CollectionState& state, const SearchRequest& request) const;
  bool covers(const CollectionState& state, const SessionToken& token,
              RegionId* missing_origin) const;
  // The first entry of `token` (shard, origin, sequence) this region has not applied, if any.
  std::optional<SessionNeed> first_uncovered(const CollectionState& state,
                                             const SessionToken& token) const;
  void wait_for_session(CollectionState& state, SearchRequest request,
                        std::function<void(SearchResponse)> done);
  void forward(const RegionInfo& target, SearchRequest request,
               std::function<void(SearchResponse)> done);
  // After the record `applied` (shard, origin, sequence): answers the session reads it covered.
  void wake_session_waiters(CollectionState& state, const SessionNeed& applied);
  // After a merge, which can cover any entry (delta catch-up): looks at every waiting read.
  void wake_all_session_waiters(CollectionState& state);
  // Answers those of `candidates` whose token is covered now (in order of arrival) and files
  // the others under the entry they still need.
  void answer_or_refile(CollectionState& state,
                        std::vector<std::shared_ptr<SessionWaiter>> candidates);
  const RegionInfo* region_by_id(RegionId id) const;

  NodeOptions options_;
  NodeEnv env_;
  HybridLogicalClock clock_;
  std::map<std::string, std::unique_ptr<CollectionState>> collections_;
  struct PendingHeartbeat {
    uint64_t origin_wall_ms = 0;      // the origin's wall clock when it sent the heartbeat
    std::vector<uint64_t> sequences;  // per (collection in name order, shard)
    uint64_t hlc = 0;                 // its HLC stamp (0 from a node without collection)
  };
  static constexpr size_t kMaxPendingHeartbeats = 256;
  // Per origin: the send time (origin wall ms) of the newest heartbeat whose data is applied,
  // the minimum (local arrival - origin wall) offset seen, and heartbeats still waiting for their
  // data (oldest first). Updated eagerly on the loop (refresh_freshness).
  std::map<RegionId, uint64_t> fresh_as_of_wall_ms_;
  std::map<RegionId, env::TimeNs> min_offset_;
  std::map<RegionId, std::deque<PendingHeartbeat>> pending_heartbeats_;
  // Garbage collection. Per origin (self included: its own heartbeats are queued once durable):
  // the HLC stamp of the newest heartbeat whose data is applied. Per other region: the newest
  // stable point it reported. The stable frontier G; the own heartbeat offset to read up to
  // during recovery (0: done); which shard anti-entropy collects next.
  std::map<RegionId, uint64_t> stable_hlc_;
  std::map<RegionId, uint64_t> peer_stable_point_;
  uint64_t stable_frontier_ = 0;
  uint64_t own_heartbeat_until_ = 0;
  uint64_t gc_round_ = 0;
  env::TimeNs started_at_ = 0;
  size_t recovering_partitions_ = 0;
  NodeObserver* observer_ = nullptr;
  NodeCounters counters_;  // except the two search counters below
  // Counted by search_now(), which may run on several threads at once.
  mutable std::atomic<uint64_t> searches_{0};
  mutable std::atomic<uint64_t> searches_stale_{0};
  Mutation scratch_;  // decode buffer reused across records
  // Next offset to consume per (collection, origin, shard): what replication_lag() reports and
  // what a checkpoint records.
  Positions consumed_;
  // Checkpoints: the newest durable one, the one being written (at most one), the version
  // vector each shard had when its segment in either was taken, and the next number to use.
  CheckpointManifest durable_checkpoint_;
  struct PendingCheckpoint {
    CheckpointManifest manifest;
    uint64_t records_segments = 0;  // counted once the manifest is durable
    uint64_t compactions = 0;
    std::map<std::pair<std::string, uint32_t>, VersionVector> taken_at;  // new segments only
    std::vector<std::pair<std::string, uint32_t>> to_write;              // changed shards
    size_t next = 0;                                                     // into to_write
    size_t writes_left = 0;
    bool failed = false;
  };
  std::unique_ptr<PendingCheckpoint> pending_checkpoint_;
  std::map<std::pair<std::string, uint32_t>, VersionVector> checkpointed_vv_;
  uint64_t next_checkpoint_ = 1;
  TokenBucket checkpoint_budget_;
  // Per origin: the highest sequence its heartbeats claimed, per (collection in name order,
  // shard); since when each (collection, origin, shard) has been behind it; shards with a
  // catch-up in flight; catch-up attempts per shard (rotates through the peers).
  std::map<RegionId, std::vector<uint64_t>> claimed_;
  struct Behind {
    env::TimeNs since = 0;  // when the claim below was first seen uncovered
    uint64_t target = 0;    // the claimed sequence that is not applied yet
  };
  std::map<std::tuple<std::string, RegionId, uint32_t>, Behind> behind_;
  std::set<std::pair<std::string, uint32_t>> catching_up_;
  std::map<std::pair<std::string, uint32_t>, uint64_t> catch_up_attempts_;
  // Shards whose segment was rejected at start and that no peer's snapshot has reached yet. Of
  // those, the ones whose own log partition has nothing left to replay (start offset == end):
  // only the peer's snapshot can tell which sequences this region already issued there, so the
  // node stays recovering (no writes, no heartbeat) until it is installed.
  std::set<std::pair<std::string, uint32_t>> needs_peer_recovery_;
  std::set<std::pair<std::string, uint32_t>> own_log_gone_;
  // Set when this incarnation yields to another live node of this region (own_writer_check.h):
  // why, and from then on every write is refused.
  std::string writer_conflict_;
  // This incarnation's writer id (0 until recovered), the nonce drawn at start for it, the newest
  // epoch read before it was taken, and whether an older live writer was reported.
  uint64_t writer_id_ = 0;
  uint32_t writer_nonce_ = 0;
  uint32_t newest_epoch_seen_ = 0;
  bool older_writer_reported_ = false;
  uint64_t digest_round_ = 0;  // which (shard, peer) the next digest check compares
};

}  // namespace meridian::node
