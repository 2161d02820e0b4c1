// meridian-bench: the real-mode latency-table harness (DESIGN.md §6, issue 4). It drives running
// meridian-node processes over gRPC with mutual TLS; scripts/bench-real starts the brokers,
// MirrorMaker 2 and the nodes, runs the subcommands below and prints the table
// (docs/benchmarks.md, "Real mode"). Never run by ctest.
//
//   meridian-bench upsert      --target A [--count N --runs R --inflight W --channels C --batch B]
//   meridian-bench load        --target A --vectors N [--wait ADDR...]   # the search data set
//   meridian-bench search      --target A --vectors N [--rate Q --duration S --runs R]
//                              [--upsert-target B --upsert-rate U]        # writes meanwhile
//                              [--first-upsert-id I]   # writes ids I, I+1, ... (0: overwrite base)
//   meridian-bench converge    --target A --like B   # wait: A holds as many vectors as B
//   meridian-bench replication --write A --read B [--rates 500,5000 --duration S]
//   meridian-bench ivf-sweep   --vectors N [--nlist 256,1024 --nprobe 4,8,16]  # offline, FAISS
//
// Data: bench/datasets.h's Gaussian mixture (128-d, 100 centroids, seed 42); base vector i is
// vector_id(i) = "vec-%012d" and is the i-th row of mixture.sample(N, base_seed). Every result
// line that a script parses starts with "RESULT " and is key=value pairs.
//
// This file is the command line only: bench_support.h has what the subcommands share,
// commands.h the subcommands and their defaults (cmd_write.cc: upsert, load, converge;
// cmd_search.cc; cmd_replication.cc; cmd_ivf_sweep.cc), ground_truth.h the exact search.
#include <CLI/CLI.hpp>

#include "engine/real/bench/bench_support.h"
#include "engine/real/bench/commands.h"

int main(int argc, char** argv) {
  using namespace meridian::realbench;
  CLI::App app{
      "meridian-bench: real-mode benchmarks against running meridian-node processes over gRPC "
      "with mutual TLS (scripts/bench-real drives it; docs/benchmarks.md)."};
  app.require_subcommand(1);
  Common c;
  app.add_option("--certs", c.certs, "directory of tests/gen_certs.sh (ca.pem, client.pem/.key)");
  app.add_option("--collection", c.collection, "collection name");
  app.add_option("--dim", c.dim, "dimension");

  UpsertFlags uf;
  auto* up = app.add_subcommand("upsert", "acknowledged upserts/s through one node");
  up->add_option("--target", uf.target, "node gRPC address")->required();
  up->add_option("--count", uf.count, "upserts per run");
  up->add_option("--warmup", uf.warmup, "upserts of the unrecorded warm-up run");
  up->add_option("--runs", uf.runs, "recorded runs");
  up->add_option("--inflight", uf.inflight, "maximum outstanding calls");
  up->add_option("--channels", uf.channels, "gRPC channels (TCP connections)");
  up->add_option("--threads", uf.threads, "issuing threads");
  up->add_option("--batch", uf.batch, "vectors per call (> 1: UpsertBatch)")
      ->check(CLI::Range(1, 4096));

  LoadFlags lf;
  auto* load = app.add_subcommand("load", "upsert the base vectors, wait until nodes hold them");
  load->add_option("--target", lf.target, "node gRPC address")->required();
  load->add_option("--vectors", lf.vectors, "base vectors");
  load->add_option("--inflight", lf.inflight, "maximum outstanding calls");
  load->add_option("--batch", lf.batch, "vectors per call (> 1: UpsertBatch)")
      ->check(CLI::Range(1, 4096));
  load->add_option("--wait", lf.wait, "nodes that must hold every vector (default: target)");

  SearchFlags sf;
  auto* search = app.add_subcommand("search", "recall@10, then open-loop searches at a rate");
  search->add_option("--target", sf.target, "node gRPC address")->required();
  search->add_option("--vectors", sf.vectors, "base vectors loaded (for the ground truth)");
  search->add_option("--queries", sf.queries, "distinct queries (cycled)");
  search->add_option("--recall-queries", sf.recall_queries, "queries for recall (0: skip)");
  search->add_option("--rate,--rates", sf.rates, "searches per second offered (list)")
      ->delimiter(',');
  search->add_option("--duration", sf.duration, "seconds per run");
  search->add_option("--runs", sf.runs, "runs");
  search->add_option("--channels", sf.channels, "gRPC channels");
  search->add_option("--max-inflight", sf.max_inflight, "outstanding searches before dropping");
  search->add_option("--http", sf.http, "time searches through this HTTP gateway (host:port)");
  search->add_option("--http-connections", sf.http_connections, "HTTP keep-alive connections");
  search->add_option("--upsert-target", sf.upsert_target, "node receiving background upserts");
  search->add_option("--upsert-rate", sf.upsert_rate, "background upserts per second");
  search->add_option("--first-upsert-id", sf.first_upsert_id, "first background upsert id");

  ConvergeFlags cf;
  auto* converge =
      app.add_subcommand("converge", "wait until a node holds as many vectors as another");
  converge->add_option("--target", cf.target, "node gRPC address that catches up")->required();
  converge->add_option("--like", cf.like, "node gRPC address it must match")->required();
  converge->add_option("--timeout", cf.timeout_s, "seconds");

  ReplicationFlags rf;
  auto* repl = app.add_subcommand("replication", "commit -> visible in another region");
  repl->add_option("--write", rf.write, "node gRPC address written to")->required();
  repl->add_option("--read", rf.read, "node gRPC address probed for the writes")->required();
  repl->add_option("--rates", rf.rates, "upserts per second, one measurement each")->delimiter(',');
  repl->add_option("--duration", rf.duration, "seconds per rate");
  repl->add_option("--runs", rf.runs, "runs per rate");
  repl->add_option("--probe", rf.probe,
                   "session: a fixed sample of the writes, each probed by one session search "
                   "that --read answers once it covers the write (commit -> searchable); get: "
                   "the newest write at a time, Get polled every --poll-us")
      ->check(CLI::IsMember({"session", "get"}));
  repl->add_option("--probes-per-s", rf.probes_per_s, "session probes per second (the sample)")
      ->check(CLI::Range(1.0, 100000.0));
  repl->add_option(
      "--lags-out", rf.lags_out,
      "write every probe to this file: rate, run, seconds since the run began, lag ms");
  repl->add_option("--poll-us", rf.poll_us, "Get polling interval (µs), --probe get")
      ->check(CLI::Range(50.0, 1e6));
  repl->add_option("--batch", rf.batch,
                   "writes per call (> 1: UpsertBatch, sent every batch/rate s)")
      ->check(CLI::Range(1, 4096));
  repl->add_option("--warmup", rf.warmup, "seconds of unrecorded writes at the highest rate first")
      ->check(CLI::Range(0.0, 600.0));

  SweepFlags wf;
  auto* sweep = app.add_subcommand("ivf-sweep", "offline: IVF recall@10 and query time (FAISS)");
  sweep->add_option("--vectors", wf.vectors, "base vectors");
  sweep->add_option("--queries", wf.queries, "queries");
  sweep->add_option("--nlist", wf.nlist, "lists")->delimiter(',');
  sweep->add_option("--nprobe", wf.nprobe, "lists probed")->delimiter(',');

  CLI11_PARSE(app, argc, argv);
  if (*up) return cmd_upsert(c, uf);
  if (*load) return cmd_load(c, lf);
  if (*search) return cmd_search(c, sf);
  if (*converge) return cmd_converge(c, cf);
  if (*repl) return cmd_replication(c, rf);
  if (*sweep) return cmd_ivf_sweep(c, wf);
  return 2;
}
