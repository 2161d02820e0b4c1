// What a region node counts (RegionNode::counters()), and the one list of those counters that
// every report of them is built from: the JSON status (/v1/status), the gRPC NodeStatus and the
// Prometheus metrics all iterate kNodeCounterFields, so a counter added here is reported by all
// three or the build fails (the static_assert below; the gRPC message's fields are checked by
// name in engine/real/api/proto_mapping_test.cc).
#pragma once

#include <cstdint>
#include <iterator>

namespace meridian::node {

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
  uint64_t checkpoints_written = 0;        // manifests made durable
  // In durable checkpoints: applied-records segments (a lightly changed shard's records since
  // its snapshot), and sealed snapshots of shards that had one already (active_segment.h).
  uint64_t records_segments_written = 0;
  uint64_t compactions = 0;
  uint64_t checkpoint_failures = 0;  // a segment or manifest write failed
  uint64_t segments_loaded = 0;      // shard snapshots restored at start
  uint64_t segments_rejected = 0;    // snapshots or records failed verification at start
  uint64_t manifests_rejected = 0;   // failed verification at start: older one used
  // Shards whose segment was rejected, then caught up from a peer's snapshot (peer_recovery.cc).
  uint64_t shards_recovered_from_peer = 0;
  uint64_t catch_ups_started = 0;
  uint64_t catch_ups_installed = 0;
  uint64_t catch_up_failures = 0;    // peer unreachable, or the patched result did not verify
  uint64_t catch_up_bytes = 0;       // signatures sent + deltas received
  uint64_t catch_up_full_bytes = 0;  // what full snapshot copies would have transferred
  uint64_t shard_deltas_served = 0;
  uint64_t digest_checks = 0;         // comparisons where both sides had equal version vectors
  uint64_t digest_mismatches = 0;     // ... and different digests: divergence
  uint64_t tombstones_collected = 0;  // ids erased by garbage collection
  // Records in the own log that this node did not write: another live node of this region
  // (own_writer_check.h). Any is an alarm; the older of the two nodes refuses writes.
  uint64_t writer_conflicts = 0;
  // Of those, sequences this node issued that another writer's record took as well: every region
  // keeps the first copy and drops the other, so each is one write lost (if both were
  // acknowledged). Counted by the node whose sequence it was (OwnWriterCheck::collisions()).
  uint64_t writer_collisions = 0;
};

// One counter: its name in reports (JSON key, proto field, metric meridian_<name>_total), a
// one-line help text for the metric, and where it lives in NodeCounters.
struct NodeCounterField {
  const char* name;
  const char* help;
  uint64_t NodeCounters::*member;
};

// In the order reports list them.
inline constexpr NodeCounterField kNodeCounterFields[] = {
    {"writes_accepted", "Writes accepted for the log", &NodeCounters::writes_accepted},
    {"writes_acknowledged", "Writes acknowledged after the log made them durable",
     &NodeCounters::writes_acknowledged},
    {"writes_rejected", "Writes refused: invalid, or the admission bound was reached",
     &NodeCounters::writes_rejected},
    {"writes_refused_recovering", "Writes refused while the node replayed its own log",
     &NodeCounters::writes_refused_recovering},
    {"records_applied", "Log records applied to this replica", &NodeCounters::records_applied},
    {"records_duplicate", "Log records already applied (replays)",
     &NodeCounters::records_duplicate},
    {"records_corrupt", "Log records that failed their checksum: reported, never applied",
     &NodeCounters::records_corrupt},
    {"searches", "Searches served", &NodeCounters::searches},
    {"searches_forwarded", "Searches forwarded to another region",
     &NodeCounters::searches_forwarded},
    {"searches_stale", "Searches answered with the stale flag", &NodeCounters::searches_stale},
    {"session_waits", "Session reads that waited for their token", &NodeCounters::session_waits},
    {"checkpoints_written", "Checkpoint manifests made durable",
     &NodeCounters::checkpoints_written},
    {"checkpoint_failures", "Checkpoints abandoned: a segment or manifest write failed",
     &NodeCounters::checkpoint_failures},
    {"records_segments_written", "Applied-records segments written in checkpoints",
     &NodeCounters::records_segments_written},
    {"compactions", "Sealed snapshots of shards that had one already", &NodeCounters::compactions},
    {"segments_loaded", "Shard snapshots restored at start", &NodeCounters::segments_loaded},
    {"segments_rejected", "Segment files that failed verification at start",
     &NodeCounters::segments_rejected},
    {"manifests_rejected", "Manifests that failed verification at start",
     &NodeCounters::manifests_rejected},
    {"shards_recovered_from_peer", "Shards rejected at start and caught up from a peer",
     &NodeCounters::shards_recovered_from_peer},
    {"catch_ups_started", "Delta catch-ups started", &NodeCounters::catch_ups_started},
    {"catch_ups_installed", "Delta catch-ups merged in", &NodeCounters::catch_ups_installed},
    {"catch_up_failures", "Catch-ups that failed (peer unreachable, result did not verify)",
     &NodeCounters::catch_up_failures},
    {"catch_up_bytes", "Bytes of catch-up signatures sent and deltas received",
     &NodeCounters::catch_up_bytes},
    {"catch_up_full_bytes", "Bytes full snapshot copies would have moved instead",
     &NodeCounters::catch_up_full_bytes},
    {"shard_deltas_served", "Delta catch-ups served to peers", &NodeCounters::shard_deltas_served},
    {"digest_checks", "Shards compared with a peer holding the same version vector",
     &NodeCounters::digest_checks},
    {"digest_mismatches", "Digest comparisons that differed: replicas diverged",
     &NodeCounters::digest_mismatches},
    {"tombstones_collected", "Tombstones erased by garbage collection",
     &NodeCounters::tombstones_collected},
    {"writer_conflicts",
     "Records in the own log this node did not write: another live node of this region",
     &NodeCounters::writer_conflicts},
    {"writer_collisions",
     "Sequences both this node and another live node of its region wrote: one write lost each",
     &NodeCounters::writer_collisions},
};

// NodeCounters holds uint64_t fields only, so its size counts them: a field without a row
// above fails here. (A row listed twice instead of a missing one is caught by
// node_counters_test.cc, which checks the members are distinct.)
static_assert(sizeof(NodeCounters) == std::size(kNodeCounterFields) * sizeof(uint64_t),
              "every NodeCounters field needs a row in kNodeCounterFields");

}  // namespace meridian::node
