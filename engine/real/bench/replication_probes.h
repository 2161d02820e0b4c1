// How meridian-bench replication sees an acknowledged write arrive in another region.
//
// A prober is told of writes as their acknowledgements arrive (from gRPC callback threads) and
// measures, for the writes it probes, ack -> the moment the reading node served the write: an
// upper bound of commit -> visible, late by at most one answer's trip from the reading node.
//
// Two ways, because the way of asking changes what is measured:
//
//   SessionSearchProber (default): a fixed sample of the writes, chosen by write index before
//     anything is known of their lag (one call in every `calls_per_probe`), each probed by one
//     asynchronous Search on the reading node with the write's session token, consistency
//     SESSION and no_forward. The node parks the search until its replica covers the token (the
//     apply wakes it) or engine.session_wait_ms runs out (the prober then asks again), so a
//     probe costs one call and the sample does not depend on the lags it finds:
//     commit -> searchable. With --batch (UpsertBatch) the token covers every write of the
//     sampled call, so the call's slowest write sets the lag.
//   GetPoller: one write at a time, the newest acknowledged, polled with Get every poll_us until
//     Get returns that very write (its HLC timestamp). Cheap to reason about but biased: while one
//     write is stuck, the poller is busy with it and samples no other, so stalls are
//     under-counted relative to their share of writes; and it sends up to 1e6/poll_us Gets per
//     second to a machine whose cores the replication pipeline shares. Kept to compare with the
//     figures measured with it before (docs/benchmarks.md).
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/real/bench/bench_support.h"

namespace meridian::realbench {

// What a probe needs of an acknowledged write.
struct AckedWrite {
  uint64_t call = 0;                 // index of the write call in its run (0, 1, ...)
  std::string id;                    // the vector id
  uint64_t timestamp = 0;            // its HLC timestamp: a Get must return this very write
  v1::SessionToken session;          // a session search must cover it: this write (and, for
                                     // UpsertBatch, every other write of its call)
  const float* embedding = nullptr;  // the write's vector: the session search's query
  uint32_t dim = 0;
  Clock::time_point acked_at;  // when the acknowledgement arrived
};

// A session token that names one write: (origin, shard) -> sequence.
v1::SessionToken token_of(uint32_t origin, uint32_t shard, uint64_t sequence);

// What a prober measured.
struct ProbeResults {
  std::vector<std::pair<double, double>> lags;  // (ack, seconds since t0; ack -> served, ms)
  size_t unseen = 0;   // probes that gave up 5 s after the ack, or got an error
  size_t skipped = 0;  // sampled writes not probed: too many probes in flight
  size_t calls = 0;    // calls made on the reading node
};

class Prober {
 public:
  virtual ~Prober() = default;
  // `w` was acknowledged. Thread-safe; returns at once.
  virtual void acknowledged(const AckedWrite& w) = 0;
  // Waits for the probes still running (each gives up 5 s after its ack) and returns the
  // results, lags relative to `t0`. Call once, after the last acknowledged().
  virtual ProbeResults finish(Clock::time_point t0) = 0;
};

// `collection` on the node behind `read` (which must outlive the prober).
std::unique_ptr<Prober> make_session_search_prober(v1::Meridian::Stub& read, std::string collection,
                                                   uint64_t calls_per_probe);
std::unique_ptr<Prober> make_get_poller(v1::Meridian::Stub& read, std::string collection,
                                        double poll_us);

}  // namespace meridian::realbench
