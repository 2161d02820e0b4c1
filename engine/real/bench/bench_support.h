// The pieces every meridian-bench subcommand shares: clocks and machine load, client channels
// with mutual TLS, a window of calls in flight, latency percentiles, the flags common to all
// subcommands, the data set, and the upsert loop that the write measurements and the search
// data set load both use.
//
// Data: bench/datasets.h's Gaussian mixture (128-d, 100 centroids, seed 42); base vector i is
// vector_id(i) = "vec-%012d" and is the i-th row of mixture(dim).sample(N, base_seed).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bench/datasets.h"
#include "proto/meridian.grpc.pb.h"

namespace meridian::realbench {

// ---- clocks and load ----

using Clock = std::chrono::steady_clock;

// Milliseconds from t0 to t1.
double ms_since(Clock::time_point t0, Clock::time_point t1);

// When send `i` of an open-loop load at `rate`/s that starts at t0 is due: t0 + i / rate. Every
// paced loop (searches, upserts, replication probes' writes) schedules with this, and measures
// latency from it, so a sender that falls behind charges the lateness to the system under test.
inline Clock::time_point scheduled_time(Clock::time_point t0, size_t i, double rate) {
  return t0 + std::chrono::nanoseconds(int64_t(1e9 * double(i) / rate));
}

// CPU seconds this process (the client) has used so far.
double client_cpu_s();

// The 1, 5 and 15 minute load averages of /proc/loadavg, as "a,b,c".
std::string loadavg();

// ---- channels ----

// Client channels with the cluster's client certificate (tests/gen_certs.sh layout). Exits the
// process (status 2) if a file of `dir` cannot be read.
struct Tls {
  grpc::SslCredentialsOptions options;
  explicit Tls(const std::string& dir);
};

// `n` stubs to `address`. Each channel gets its own subchannel pool, hence its own TCP
// connection. Returns once the node says it takes writes (NodeStatus.recovered). Exits the
// process (status 1) if a channel does not connect within 10 s or the node still recovers
// after 60 s.
std::vector<std::unique_ptr<v1::Meridian::Stub>> make_stubs(const std::string& address,
                                                            const Tls& tls, int n);

// The live vectors of `collection` that the node behind `stub` reports (NodeStatus); 0 if the
// call fails or the node has no such collection.
uint64_t live_vectors(v1::Meridian::Stub& stub, const std::string& collection);

// ---- calls in flight ----

// At most `max` calls in flight. Thread-safe.
class Window {
 public:
  explicit Window(int max) : max_(max) {}
  // Blocks until a slot is free, then takes it.
  void acquire();
  // Takes a slot if one is free; false (and takes nothing) otherwise.
  bool try_acquire();
  // Gives back a slot taken by acquire() or try_acquire().
  void release();
  // Blocks until no call is in flight.
  void drain();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int max_;
  int in_flight_ = 0;
};

// ---- statistics ----

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
  size_t n = 0;
};

// Percentiles of `v`: quantile q is the sorted sample at index q * size (the last one at
// most); all zero if `v` is empty.
Percentiles percentiles(std::vector<double> v);

// The upper median of `v`; 0 if `v` is empty.
double median(std::vector<double> v);

// Thread-safe latency sink.
class Latencies {
 public:
  void add(double ms);
  // Everything added so far; leaves the sink empty.
  std::vector<double> take();

 private:
  std::mutex mu_;
  std::vector<double> v_;
};

// ---- flags and data ----

// What every subcommand uses: --certs, --collection and --dim (given before the subcommand);
// the seeds are fixed, so every invocation sees the same base vectors and queries.
struct Common {
  std::string certs = "certs";
  std::string collection = "docs";
  uint32_t dim = 128;
  uint64_t base_seed = 1;
  uint64_t query_seed = 2;
  uint64_t write_seed = 3;
};

// The data set's Gaussian mixture in `dim` dimensions.
bench::GaussianMixture mixture(uint32_t dim);

// ---- upserts ----

// Sets `req` to upsert `dim` floats from `v` as `id` into `collection`.
void fill_upsert(v1::UpsertRequest* req, const std::string& collection, const std::string& id,
                 const float* v, uint32_t dim);

// One asynchronous Upsert: everything the call needs alive until its callback runs.
struct UpsertCall {
  grpc::ClientContext context;
  v1::UpsertRequest request;
  v1::WriteResponse response;
  Clock::time_point start;
};

// One asynchronous UpsertBatch, likewise.
struct UpsertBatchCall {
  grpc::ClientContext context;
  v1::UpsertBatchRequest request;
  v1::UpsertBatchResponse response;
  Clock::time_point start;
};

// What run_upserts() measured.
struct UpsertRun {
  double seconds = 0;
  size_t acked = 0;
  size_t failed = 0;
  std::vector<double> latencies;     // ms, of the acknowledged calls (a batch is one call)
  std::vector<uint64_t> failed_ids;  // the numbers whose call did not end OK
  std::string first_error;
};

// Upserts one vector per entry n of `numbers` (id vector_id(n), or prefix + n when `prefix` is
// not empty) with embedding row n % rows of `pool`, through `stubs` in turn, at most `inflight`
// calls outstanding, from `threads` issuing threads; returns when every call has answered.
// batch 1: one Upsert call per vector; batch > 1: UpsertBatch calls of `batch` consecutive
// entries (a failed call fails all of its entries).
UpsertRun run_upserts(std::vector<std::unique_ptr<v1::Meridian::Stub>>& stubs,
                      const std::string& collection, uint32_t dim, const std::vector<float>& pool,
                      const std::vector<uint64_t>& numbers, int inflight, int threads,
                      const std::string& prefix, size_t batch = 1);

}  // namespace meridian::realbench
