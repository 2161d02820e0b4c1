// The meridian-bench subcommands (meridian_bench_main.cc wires them to the command line): each
// takes the common flags and its own, prints "# ..." progress lines and per-run lines, then
// one or more "RESULT kind=... key=value ..." lines that scripts/bench-real parses, and returns
// the process exit status. Defaults here are the command line's defaults.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/real/bench/bench_support.h"

namespace meridian::realbench {

// ---- cmd_write.cc ----

// upsert: acknowledged upserts/s through one node. An unrecorded warm-up run, then `runs`
// recorded runs, each of fresh ids (prefix "u<run>-"). batch > 1: UpsertBatch calls of that
// many vectors (inflight then counts calls, not vectors).
struct UpsertFlags {
  std::string target;
  size_t count = 200'000;
  size_t warmup = 20'000;
  int runs = 5;
  int inflight = 512;
  int channels = 4;
  int threads = 2;
  size_t batch = 1;
};
int cmd_upsert(const Common& c, const UpsertFlags& f);

// load: upserts the base vectors 0..vectors-1 through `target` (retrying the failed ones), then
// waits until every node of `wait` (default: target) holds them. Exit status 1 if not.
struct LoadFlags {
  std::string target;
  size_t vectors = 100'000;
  int inflight = 512;
  size_t batch = 1;  // > 1: UpsertBatch calls of that many vectors
  std::vector<std::string> wait;
  int wait_s = 600;
};
int cmd_load(const Common& c, const LoadFlags& f);

// converge: waits until `target` holds as many live vectors as `like` (a node that is not being
// written: e.g. a restarted replica catching up by replaying the log). Exit status 1 on timeout.
struct ConvergeFlags {
  std::string target;
  std::string like;
  int timeout_s = 600;
};
int cmd_converge(const Common& c, const ConvergeFlags& f);

// ---- cmd_search.cc ----

// search: recall@k against an exact search over the base vectors, then open-loop searches at
// each rate, optionally with background upserts into `upsert_target` meanwhile.
struct SearchFlags {
  std::string target;
  size_t vectors = 100'000;
  size_t queries = 2000;
  size_t recall_queries = 1000;
  std::vector<double> rates = {5000};
  double duration = 20;
  int runs = 3;
  int channels = 4;
  int max_inflight = 2000;
  int k = 10;
  // host:port of the node's HTTP gateway: the timed searches go there instead of gRPC (recall
  // is still measured through gRPC at `target`), over this many keep-alive connections.
  std::string http;
  size_t http_connections = 8;
  std::string upsert_target;
  double upsert_rate = 0;
  // Background upsert ids start here (one million per run): repeated invocations against the
  // same deployment pass different bases so that every run inserts fresh ids. Below `vectors`
  // the runs overwrite base vectors instead (ids wrap at `vectors`): the collection keeps its
  // size, so later runs search as many vectors as the first.
  uint64_t first_upsert_id = 10'000'000;
};
int cmd_search(const Common& c, const SearchFlags& f);

// ---- cmd_replication.cc ----

// replication: at each rate, open-loop upserts into `write` and the time until `read` serves
// the acknowledged write (commit -> visible in another region): `probe` "session" (a session
// search that `read` answers once it covers the write: commit -> searchable) or "get" (Get
// polled every poll_us until it returns the write).
struct ReplicationFlags {
  std::string write;
  std::string read;
  std::vector<double> rates = {500};
  double duration = 20;
  int runs = 1;
  std::string probe = "session";  // replication_probes.h
  double probes_per_s = 20;  // probe "session": the sample's rate (one call in rate/batch/this)
  double poll_us = 500;      // probe "get"
  std::string lags_out;      // if set: every probe as "rate run seconds_since_start lag_ms
                             // unix_seconds" (the ack's wall-clock time, for GC and other logs)
  double warmup = 0;         // seconds of unrecorded writes at the highest rate first
  size_t batch = 1;          // writes per call: 1 = Upsert, more = UpsertBatch of consecutive ids
};
int cmd_replication(const Common& c, const ReplicationFlags& f);

// ---- cmd_ivf_sweep.cc ----

// ivf-sweep (offline, FAISS in process, one thread): which nlist/nprobe meets recall@10 >= 0.95,
// and at what query time.
struct SweepFlags {
  size_t vectors = 100'000;
  size_t queries = 1000;
  std::vector<int> nlist = {256, 1024};
  std::vector<int> nprobe = {4, 8, 16};
};
int cmd_ivf_sweep(const Common& c, const SweepFlags& f);

}  // namespace meridian::realbench
