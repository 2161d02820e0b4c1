// What clients send a region node and what it answers (the data plane's vocabulary; the gRPC and
// HTTP front ends of the real build translate to and from these).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/collection.h"
#include "engine/core/mutation.h"
#include "engine/core/status.h"
#include "engine/env/env.h"

namespace meridian::node {

struct WriteRequest {
  Op op = Op::kUpsert;
  std::string collection;
  std::string vector_id;
  std::vector<float> embedding;        // upsert only
  Payload payload;                     // upsert: whole payload; patch: fields to set, tags to add
  std::set<std::string> unset_fields;  // patch only
  std::set<std::string> removed_tags;  // patch only
};

// A write is acknowledged (status ok) only once its record is durable in the region's log
// (acks=all). On error the write may or may not be applied later; it was not acknowledged.
struct WriteResponse {
  Status status;
  RegionId origin = 0;
  uint32_t shard = 0;
  uint64_t sequence = 0;   // origin sequence within (origin, shard)
  uint64_t timestamp = 0;  // HLC stamp of the write
};

// Read-your-writes token of one client session in one collection: for each (shard, origin) the
// highest sequence the session wrote. A region can serve a session read once its version vectors
// cover the token.
class SessionToken {
 public:
  void observe(const WriteResponse& w) {
    uint64_t& seq = min_sequence_[{w.shard, w.origin}];
    if (w.sequence > seq) seq = w.sequence;
  }
  bool empty() const { return min_sequence_.empty(); }
  // (shard, origin) -> sequence, in ascending key order.
  const std::map<std::pair<uint32_t, RegionId>, uint64_t>& entries() const { return min_sequence_; }

 private:
  std::map<std::pair<uint32_t, RegionId>, uint64_t> min_sequence_;
};

enum class Consistency : uint8_t {
  kEventual,  // local replica, response says how stale it may be
  kSession,   // read-your-writes for the token: wait briefly, else forward to the origin
  kBounded,   // forward when the local replica lags more than max_staleness
};
const char* consistency_name(Consistency c);

struct SearchRequest {
  std::string collection;
  std::vector<float> query;
  uint32_t k = 10;
  std::optional<std::string> tag;
  Consistency consistency = Consistency::kEventual;
  SessionToken session;           // kSession
  env::TimeNs max_staleness = 0;  // kBounded
  // False on a request another region forwarded here: it is answered here (waiting for a
  // session token if need be) and never forwarded again.
  bool may_forward = true;
};

struct SearchResponse {
  Status status;
  std::vector<SearchHit> hits;
  std::string served_by;          // region that ran the search
  bool forwarded = false;         // served by another region (session / bounded fallback)
  bool stale = false;             // may miss recent writes from some origin
  bool session_satisfied = true;  // kSession: every token entry was covered where it ran
  env::TimeNs staleness = 0;      // upper bound on how far behind the replica may be
};

// Delta catch-up (DESIGN.md §4): a lagging region sends the librsync signature of its own
// snapshot of one shard; the peer answers with the delta from that to its snapshot, plus the
// digest the patched result must have.
struct ShardDeltaRequest {
  std::string collection;
  uint32_t shard = 0;
  std::string signature;  // rsync_signature(the requester's snapshot segment of the shard)
};

struct ShardDeltaResponse {
  Status status;
  std::string delta;            // rsync_delta(signature, the peer's snapshot segment)
  std::string digest_root;      // to_hex(digest_shard(peer's replica).root)
  uint64_t snapshot_bytes = 0;  // size of the peer's snapshot (what a full copy would cost)
  std::string served_by;
  // HLC timestamp below which the peer's snapshot is complete (it applied every mutation older)
  // and garbage-collected; 0 = unknown. The merge must not keep what the snapshot lacks below
  // it (ShardReplica::merge).
  uint64_t stable_frontier = 0;
};

// Anti-entropy digest exchange: a region asks a peer for one shard's version vector and digest.
// Equal version vectors with different digests mean the replicas diverged although they applied
// the same mutations (a bug, or state damaged in memory): that must be reported, never ignored.
//
// Replicas garbage-collect tombstones at different moments, so two with equal version vectors
// may differ in what they still keep. Both sides therefore digest their state normalised at an
// agreed frontier: the requester says below which HLC timestamp its shard is complete, the peer
// digests a copy collected at the larger of that and its own, and says which one it used.
//
// A digest is a full pass over the shard (tens of milliseconds of CPU for a shard of 40 k
// vectors; off the loop where the environment has an env::Offload, a stall for every write and
// read behind it where it has not), and it is only worth anything when both version vectors
// are equal. So the requester sends its version vector and
// the peer digests only when its own equals it; otherwise it answers with its version vector
// alone (no digest_root), which tells the requester that one side is behind.
struct ShardDigestRequest {
  std::string collection;
  uint32_t shard = 0;
  uint64_t stable_frontier = 0;  // the requester's shard is complete below this (0 = unknown)
  // The requester's version vector of the shard (encode_version_vector); empty = unknown: the
  // peer then digests whatever its version vector (what requesters before this field did).
  std::string version_vector;
};

struct ShardDigestResponse {
  Status status;
  std::string version_vector;  // encode_version_vector (engine/core/shard_snapshot.h)
  // to_hex(digest_shard(replica collected at stable_frontier).root); empty when the request's
  // version vector differs from version_vector (nothing to compare, so nothing was digested).
  std::string digest_root;
  std::string served_by;
  uint64_t stable_frontier = 0;  // where the digest was normalised: max(request's, the peer's)
};

}  // namespace meridian::node
