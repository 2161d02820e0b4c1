// meridian-bench search: recall@k of the node's answers, then open-loop searches at fixed
// rates (latency measured from the scheduled send time), optionally with upserts meanwhile.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/real/bench/bench_support.h"
#include "engine/real/bench/commands.h"
#include "engine/real/bench/ground_truth.h"
#include "engine/real/bench/http_search.h"

namespace meridian::realbench {
namespace {

using namespace std::chrono_literals;

struct SearchCall {
  grpc::ClientContext context;
  v1::SearchRequest request;
  v1::SearchResponse response;
  Clock::time_point scheduled;
};

// Open-loop writes at `rate`/s into `stub` until `stop`; ids from `first`, modulo `wrap` unless
// it is 0 (so that overwrites of the base vectors stay overwrites however long the run is).
class BackgroundWriter {
 public:
  BackgroundWriter(v1::Meridian::Stub* stub, const Common& c, double rate, uint64_t first,
                   uint64_t wrap)
      : stub_(stub), window_(2000) {
    if (stub == nullptr || rate <= 0) return;
    pool_ = mixture(c.dim).sample(4096, c.write_seed + first);
    thread_ = std::thread([this, c, rate, first, wrap] {
      const auto t0 = Clock::now();
      for (uint64_t i = 0; !stop_.load(); ++i) {
        std::this_thread::sleep_until(scheduled_time(t0, i, rate));
        if (!window_.try_acquire()) {
          ++dropped_;
          continue;
        }
        auto* call = new UpsertCall;
        const uint64_t id = wrap != 0 ? (first + i) % wrap : first + i;
        fill_upsert(&call->request, c.collection, bench::vector_id(id), &pool_[(i % 4096) * c.dim],
                    c.dim);
        call->context.set_deadline(std::chrono::system_clock::now() + 30s);
        call->start = Clock::now();
        stub_->async()->Upsert(&call->context, &call->request, &call->response,
                               [this, call](grpc::Status s) {
                                 (s.ok() ? acked_ : failed_).fetch_add(1);
                                 delete call;
                                 window_.release();
                               });
      }
      window_.drain();
    });
  }
  ~BackgroundWriter() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  size_t acked() const { return acked_.load(); }
  size_t failed() const { return failed_.load(); }
  size_t dropped() const { return dropped_.load(); }

 private:
  v1::Meridian::Stub* stub_;
  Window window_;
  std::vector<float> pool_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> acked_{0}, failed_{0}, dropped_{0};
};

// Recall@k of the node's answers against an exact flat search over the same base vectors
// (regenerated here from the same seed), before any concurrent write: one RESULT line.
void print_recall(const Common& c, const SearchFlags& f, const bench::GaussianMixture& mix,
                  const std::vector<float>& queries, v1::Meridian::Stub& stub) {
  const size_t rq = std::min(f.recall_queries, f.queries);
  const std::vector<float> base = mix.sample(f.vectors, c.base_seed);
  const std::vector<float> rqueries(queries.begin(), queries.begin() + ptrdiff_t(rq * c.dim));
  const auto truth = exact_top_k(base, rqueries, c.dim, f.k);
  double sum = 0;
  size_t bad = 0;
  for (size_t q = 0; q < rq; ++q) {
    v1::SearchRequest req;
    req.set_collection(c.collection);
    req.mutable_query()->Assign(&queries[q * c.dim], &queries[(q + 1) * c.dim]);
    req.set_k(uint32_t(f.k));
    v1::SearchResponse resp;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    if (!stub.Search(&context, req, &resp).ok()) {
      ++bad;
      continue;
    }
    std::vector<uint64_t> got;
    for (const auto& h : resp.hits()) {
      if (h.id().size() == 16 && h.id().rfind("vec-", 0) == 0)
        got.push_back(bench::vector_number(h.id()));
    }
    sum += recall_of(got, truth[q]);
  }
  std::printf("RESULT kind=recall recall_at_%d=%.4f queries=%zu failed=%zu\n", f.k,
              sum / double(rq - bad), rq - bad, bad);
  std::fflush(stdout);
}

struct SearchOutcome {
  size_t ok = 0, failed = 0, overflow = 0;
};

// Open-loop gRPC searches at `rate` for f.duration s, at most f.max_inflight outstanding.
SearchOutcome run_grpc_searches(const Common& c, const SearchFlags& f, double rate,
                                const std::vector<float>& queries,
                                const std::vector<std::unique_ptr<v1::Meridian::Stub>>& stubs,
                                Latencies& lat) {
  const size_t nq = queries.size() / c.dim;
  Window window(f.max_inflight);
  std::atomic<size_t> ok{0}, failed{0}, overflow{0};
  const size_t total = size_t(rate * f.duration);
  const auto t0 = Clock::now();
  for (size_t i = 0; i < total; ++i) {
    const auto scheduled = scheduled_time(t0, i, rate);
    std::this_thread::sleep_until(scheduled);
    if (!window.try_acquire()) {  // the node is not keeping up: count it, as a miss
      ++overflow;
      continue;
    }
    auto* call = new SearchCall;
    const size_t q = i % nq;
    call->request.set_collection(c.collection);
    call->request.mutable_query()->Assign(&queries[q * c.dim], &queries[(q + 1) * c.dim]);
    call->request.set_k(uint32_t(f.k));
    call->context.set_deadline(std::chrono::system_clock::now() + 10s);
    call->scheduled = scheduled;
    stubs[i % stubs.size()]->async()->Search(&call->context, &call->request, &call->response,
                                             [&, call](grpc::Status s) {
                                               // Latency from the scheduled send time: a late send
                                               // counts against the node.
                                               if (s.ok()) {
                                                 lat.add(ms_since(call->scheduled, Clock::now()));
                                                 ok.fetch_add(1);
                                               } else {
                                                 failed.fetch_add(1);
                                               }
                                               delete call;
                                               window.release();
                                             });
  }
  window.drain();
  return {ok.load(), failed.load(), overflow.load()};
}

// The same load through the HTTP gateway at f.http (http_search.h); nothing is dropped there:
// a connection that falls behind sends late, and the lateness is in the latency.
SearchOutcome run_http(const Common& c, const SearchFlags& f, double rate,
                       const std::vector<float>& queries, Latencies& lat) {
  HttpSearchLoad load{f.http, c.collection, f.k, rate, f.duration, f.http_connections};
  HttpSearchOutcome out = run_http_searches(load, queries, c.dim, lat);
  if (!out.first_error.empty()) std::fprintf(stderr, "http: %s\n", out.first_error.c_str());
  return {out.ok, out.failed, 0};
}

}  // namespace

int cmd_search(const Common& c, const SearchFlags& f) {
  std::string http_host;
  int http_port = 0;
  if (!f.http.empty() && !split_address(f.http, &http_host, &http_port)) {
    std::fprintf(stderr, "meridian-bench search: --http: expected host:port, got '%s'\n",
                 f.http.c_str());
    return 2;
  }
  Tls tls(c.certs);
  auto stubs = make_stubs(f.target, tls, f.channels);
  const auto mix = mixture(c.dim);
  const std::vector<float> queries = mix.sample(f.queries, c.query_seed);

  if (f.recall_queries > 0) print_recall(c, f, mix, queries, *stubs[0]);

  std::unique_ptr<v1::Meridian::Stub> writer_stub;
  if (!f.upsert_target.empty() && f.upsert_rate > 0) {
    writer_stub = std::move(make_stubs(f.upsert_target, tls, 1)[0]);
  }
  // By default fresh ids per run, far above the base ids; below `vectors`, overwrites of base
  // vectors that continue where the previous run stopped, so the collection keeps its size.
  const bool overwrite = f.first_upsert_id < f.vectors;
  uint64_t first_write_id = f.first_upsert_id;
  for (const double rate : f.rates) {
    std::vector<double> qps_runs, p50_runs, p99_runs;
    for (int r = 0; r < f.runs; ++r) {
      BackgroundWriter writer(writer_stub.get(), c, f.upsert_rate, first_write_id,
                              overwrite ? f.vectors : 0);
      if (writer_stub) std::this_thread::sleep_for(1s);  // writes flowing before searching
      Latencies lat;
      const std::string load_before = loadavg();
      const double cpu0 = client_cpu_s();
      const auto t0 = Clock::now();
      const SearchOutcome out = f.http.empty() ? run_grpc_searches(c, f, rate, queries, stubs, lat)
                                               : run_http(c, f, rate, queries, lat);
      const double seconds = ms_since(t0, Clock::now()) / 1000;
      writer.stop();
      const uint64_t ids_used = writer.acked() + writer.failed() + writer.dropped();
      first_write_id =
          overwrite ? (first_write_id + ids_used) % f.vectors : first_write_id + 1'000'000;
      const Percentiles p = percentiles(lat.take());
      const double qps = double(out.ok) / seconds;
      std::printf(
          "run %d: offered %.0f/s for %.0f s: %zu ok (%.0f/s), %zu failed, %zu over %d in flight; "
          "latency p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.1f ms; background upserts %zu acked "
          "%zu failed %zu dropped (%.0f/s); client CPU %.2f cores; load %s -> %s\n",
          r + 1, rate, f.duration, out.ok, qps, out.failed, out.overflow, f.max_inflight, p.p50,
          p.p90, p.p99, p.p999, p.max, writer.acked(), writer.failed(), writer.dropped(),
          double(writer.acked()) / (seconds + (writer_stub ? 1 : 0)),
          (client_cpu_s() - cpu0) / seconds, load_before.c_str(), loadavg().c_str());
      std::fflush(stdout);
      qps_runs.push_back(qps);
      p50_runs.push_back(p.p50);
      p99_runs.push_back(p.p99);
    }
    std::printf(
        "RESULT kind=search offered=%.0f median_qps=%.0f median_p50_ms=%.2f median_p99_ms=%.2f "
        "upsert_rate=%.0f runs=%d transport=%s load=%s\n",
        rate, median(qps_runs), median(p50_runs), median(p99_runs), f.upsert_rate, f.runs,
        f.http.empty() ? "grpc" : "http", loadavg().c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace meridian::realbench
