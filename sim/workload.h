// The scenario's clients: its workload, offered to a deployment through sim/client_env.h (the
// simulator's World in virtual time, or a real deployment in wall-clock time).
//
// Per region and per operation with a rate > 0, one client stream issues Poisson arrivals
// (exponential gaps) of that operation: upserts (random embedding, uniform in [-1, 1) per
// dimension, plus one tag of red/green/blue), deletes, patches (add one tag) and searches
// (random query; a real FAISS search with probability exact_search_fraction, else answered by
// the cost model; eventual consistency). Ids are "k<n>", n in [0, keys), drawn uniformly or by
// Zipf rank (sim/zipf.h); with hot_shard the hottest ranks are ids that route to that shard.
//
// Per region, sessions_per_region session clients loop: wait an exponential gap (mean
// 1 / session_reads_per_s), upsert a session-private id "s<region>-<i>-<n>", and once it is
// acknowledged read it back with the session token (kSession, the write's embedding as query,
// a real search). Every request outcome goes to Trace::request, every acknowledged write to
// Trace::write_acked, every answered session read to Trace::session_read (a session read that
// errors or times out is only a failed RequestSample: it claims nothing).
//
// With `failover`, a client whose region is not serving sends to the serving region with the
// lowest scenario link latency from it (ties: lowest region index); with none serving, or
// without failover, it sends to its own region anyway and times out.
//
// Determinism: every random number comes from a named stream of the run seed,
// "workload/<region>/<op>" and "workload/<region>/session-<i>", so adding a region or an
// operation never shifts another stream's draws.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/node/requests.h"
#include "sim/client_env.h"
#include "sim/rng.h"
#include "sim/scenario.h"
#include "sim/zipf.h"

namespace meridian::sim {

// "k<n>": the id of key n.
std::string key_id(uint64_t n);

// The key n behind each Zipf rank (index rank - 1) when `hot_shard` takes the hottest ranks:
// first every n in [0, keys) whose id routes to hot_shard, ascending, then all the others,
// ascending. REQUIRES: hot_shard < num_shards.
std::vector<uint64_t> hot_shard_rank_order(uint64_t keys, uint32_t hot_shard, uint32_t num_shards,
                                           uint32_t routing_seed);

// The upserts that load collection `c`'s initial_vectors before the scenario starts: ids
// "k<n>" for n in [0, initial_vectors), embeddings uniform in [-1, 1) per dimension drawn in
// that order from `vectors` (the run's stream "initial/<collection name>"), no payload.
std::vector<node::WriteRequest> initial_vector_writes(const CollectionSpec& c, Rng vectors);

// Draws key ids as the workload spec says.
class KeyChooser {
 public:
  KeyChooser(const WorkloadSpec& spec, const CollectionConfig& collection);
  uint64_t draw_key(Rng& rng) const;  // n in [0, keys)
  std::string draw_id(Rng& rng) const { return key_id(draw_key(rng)); }

 private:
  uint64_t keys_;
  std::unique_ptr<ZipfSampler> zipf_;  // null: uniform
  std::vector<uint64_t> rank_order_;   // empty: rank r is key r - 1
};

class Workload {
 public:
  // The deployment must be set up. The workload must outlive every event it schedules (keep it
  // until the run's scheduler has finished, or a real run's requests have all completed).
  explicit Workload(ClientEnv& env);
  ~Workload();
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;

  // Schedules every client from the scheduler's now(); no request is issued at or after
  // `stop_at` (absolute virtual time). Requests in flight then still complete and are recorded.
  void start(TimeNs stop_at);

 private:
  struct Stream;
  struct Session;

  void schedule_arrival(Stream* s);
  void issue(Stream& s);
  void schedule_session(Session* s);
  void session_cycle(Session* s);
  // Where a client of region r sends its request now (failover rule above).
  // Where a client of region r sends its next request: r itself, or, with failover, the
  // nearest region its clients trust. Clients learn a region is down only the way real ones
  // do: a request to it failed (timed out or was refused). A circuit breaker then avoids it for
  // kSuspectNs, after which one probe request at a time goes to it (half-open) until one
  // succeeds.
  RegionIndex route(RegionIndex r);
  static constexpr TimeNs kSuspectNs = 5 * env::kSecond;
  std::vector<float> random_vector(Rng& rng) const;
  void send_write(RegionIndex client, node::WriteRequest request, RequestKind kind,
                  std::function<void(const node::WriteResponse&)> then);
  void record(RequestKind kind, RegionIndex client, RegionIndex target, TimeNs sent, bool ok,
              bool stale, bool cost_modelled);

  size_t region_count() const { return env_.scenario().regions.size(); }
  const std::string& region_name(RegionIndex r) const { return env_.scenario().regions[r].name; }

  ClientEnv& env_;
  const WorkloadSpec& spec_;
  const CollectionConfig& collection_;
  KeyChooser keys_;
  // suspect_until_[client region][target region]: virtual time until which clients of the
  // first avoid the second.
  std::vector<std::vector<TimeNs>> suspect_until_;  // 0: trusted
  std::vector<std::vector<bool>> probing_;          // a half-open probe is in flight
  TimeNs stop_at_ = 0;
  std::vector<std::unique_ptr<Stream>> streams_;  // stable addresses for scheduled events
  std::vector<std::unique_ptr<Session>> sessions_;
};

}  // namespace meridian::sim
