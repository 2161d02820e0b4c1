// What happened in a simulation run, as the checker and the report need it, plus the trace
// digest that proves a replay is byte-identical.
//
// Every recording function also folds the event into the digest (FNV-1a over a canonical byte
// rendering), so two runs with equal digests saw the same events in the same order at the same
// virtual times.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "engine/core/mutation.h"
#include "engine/env/env.h"

namespace meridian::sim {

using env::TimeNs;

// An acknowledged write: the promise the checker holds the system to.
struct AckedWrite {
  std::string collection;
  std::string vector_id;
  RegionId origin = 0;
  uint32_t shard = 0;
  uint64_t sequence = 0;
  uint64_t timestamp = 0;
  TimeNs acked_at = 0;
  std::string client_region;
};

// A request as the client saw it.
enum class RequestKind : uint8_t { kUpsert, kDelete, kPatch, kSearch, kSessionSearch };
struct RequestSample {
  RequestKind kind;
  std::string client_region;  // where the client lives
  std::string served_region;  // where it was sent (differs after failover)
  TimeNs sent_at = 0;
  TimeNs latency = 0;
  bool ok = false;
  bool stale = false;
  bool cost_modelled = false;  // search answered by the cost model, not by FAISS
};

// A session read: did it see the session's own latest write?
struct SessionReadSample {
  std::string client_region;
  std::string served_region;
  std::string expected_id;         // the session's last write
  bool satisfied_claimed = false;  // the node said the token was covered
  bool found = false;              // the expected id was in the hits
  bool forwarded = false;
  TimeNs at = 0;
};

class Trace {
 public:
  void write_acked(const AckedWrite& w);
  void request(const RequestSample& r);
  void session_read(const SessionReadSample& s);
  // First application of (origin, shard, sequence) at `region` (duplicates are not recorded).
  void applied(const std::string& region, const std::string& collection, RegionId origin,
               uint32_t shard, uint64_t sequence, TimeNs at);
  void corrupt_record(const std::string& region, const std::string& what);
  // A fault started or ended, or any other notable event for the human-readable log.
  void note(TimeNs at, const std::string& text);

  // Folds arbitrary bytes into the digest (e.g. final search results).
  void fold(const std::string& bytes);
  uint64_t digest() const { return digest_; }
  std::string digest_hex() const;

  const std::vector<AckedWrite>& acked_writes() const { return acked_; }
  const std::vector<RequestSample>& requests() const { return requests_; }
  const std::vector<SessionReadSample>& session_reads() const { return session_reads_; }
  const std::vector<std::pair<TimeNs, std::string>>& notes() const { return notes_; }
  uint64_t corrupt_records() const { return corrupt_; }
  // When (origin, shard, sequence) of `collection` was first applied at `region`, if it was.
  const TimeNs* applied_at(const std::string& region, const std::string& collection,
                           RegionId origin, uint32_t shard, uint64_t sequence) const;

 private:
  using ApplyKey = std::tuple<std::string, std::string, RegionId, uint32_t, uint64_t>;
  uint64_t digest_ = 0xcbf29ce484222325ull;
  std::vector<AckedWrite> acked_;
  std::vector<RequestSample> requests_;
  std::vector<SessionReadSample> session_reads_;
  std::vector<std::pair<TimeNs, std::string>> notes_;
  std::map<ApplyKey, TimeNs> applied_;
  uint64_t corrupt_ = 0;
};

}  // namespace meridian::sim
