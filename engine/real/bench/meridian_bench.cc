// meridian-bench: the real-mode latency-table harness (DESIGN.md §6, issue 4). It drives running
// meridian-node processes over gRPC with mutual TLS; scripts/bench-real starts the brokers,
// MirrorMaker 2 and the nodes, runs the subcommands below and prints the table
// (docs/benchmarks.md, "Real mode"). Never run by ctest.
//
//   meridian-bench upsert      --target A [--count N --runs R --inflight W --channels C]
//   meridian-bench load        --target A --vectors N [--wait ADDR...]   # the search data set
//   meridian-bench search      --target A --vectors N [--rate Q --duration S --runs R]
//                              [--upsert-target B --upsert-rate U]        # writes meanwhile
//                              [--first-upsert-id I]                      # fresh ids per call
//   meridian-bench converge    --target A --like B   # wait: A holds as many vectors as B
//   meridian-bench replication --write A --read B [--rates 500,5000 --duration S]
//   meridian-bench ivf-sweep   --vectors N [--nlist 256,1024 --nprobe 4,8,16]  # offline, FAISS
//
// Data: bench/datasets.h's Gaussian mixture (128-d, 100 centroids, seed 42); base vector i is
// vector_id(i) = "vec-%012d" and is the i-th row of mixture.sample(N, base_seed). Every result
// line that a script parses starts with "RESULT " and is key=value pairs.
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>
#include <omp.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "bench/datasets.h"
#include "proto/meridian.grpc.pb.h"

namespace meridian::realbench {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double ms_since(Clock::time_point t0, Clock::time_point t1) {
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "meridian-bench: cannot read " << path << "\n";
    std::exit(2);
  }
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// CPU seconds this process (the client) has used so far.
double client_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + "," + b + "," + c;
}

// Client channels with the cluster's client certificate (tests/gen_certs.sh layout). Each
// channel gets its own subchannel pool, hence its own TCP connection.
struct Tls {
  grpc::SslCredentialsOptions options;
  explicit Tls(const std::string& dir) {
    options.pem_root_certs = read_all(dir + "/ca.pem");
    options.pem_cert_chain = read_all(dir + "/client.pem");
    options.pem_private_key = read_all(dir + "/client.key");
  }
};

std::vector<std::unique_ptr<v1::Meridian::Stub>> make_stubs(const std::string& address,
                                                            const Tls& tls, int n) {
  std::vector<std::unique_ptr<v1::Meridian::Stub>> out;
  for (int i = 0; i < n; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("meridian.bench.channel", i);
    auto channel = grpc::CreateCustomChannel(address, grpc::SslCredentials(tls.options), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + 10s)) {
      std::cerr << "meridian-bench: cannot connect to " << address << "\n";
      std::exit(1);
    }
    out.push_back(v1::Meridian::NewStub(channel));
  }
  return out;
}

// At most `max` calls in flight.
class Window {
 public:
  explicit Window(int max) : max_(max) {}
  void acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ < max_; });
    ++in_flight_;
  }
  bool try_acquire() {
    std::lock_guard<std::mutex> lock(mu_);
    if (in_flight_ >= max_) return false;
    ++in_flight_;
    return true;
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      --in_flight_;
    }
    cv_.notify_all();
  }
  void drain() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int max_;
  int in_flight_ = 0;
};

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
  size_t n = 0;
};

Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, size_t(q * double(v.size())))]; };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.p999 = at(0.999);
  p.max = v.back();
  return p;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Thread-safe latency sink.
class Latencies {
 public:
  void add(double ms) {
    std::lock_guard<std::mutex> lock(mu_);
    v_.push_back(ms);
  }
  std::vector<double> take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(v_);
  }

 private:
  std::mutex mu_;
  std::vector<double> v_;
};

struct Common {
  std::string certs = "certs";
  std::string collection = "docs";
  uint32_t dim = 128;
  uint64_t base_seed = 1;
  uint64_t query_seed = 2;
  uint64_t write_seed = 3;
};

bench::GaussianMixture mixture(uint32_t dim) {
  bench::MixtureSpec spec;
  spec.dim = dim;
  return bench::GaussianMixture(spec);
}

void fill_upsert(v1::UpsertRequest* req, const std::string& collection, const std::string& id,
                 const float* v, uint32_t dim) {
  req->set_collection(collection);
  req->set_id(id);
  req->mutable_embedding()->Assign(v, v + dim);
}

struct UpsertCall {
  grpc::ClientContext context;
  v1::UpsertRequest request;
  v1::WriteResponse response;
  Clock::time_point start;
};

// Upserts ids [first, first + count) with embeddings from `pool` (cycled) through `stubs`, at
// most `inflight` outstanding, from `threads` issuing threads. Returns the acknowledged count;
// latencies (ms) into `lat`; failures (status != OK) counted in *failed, their indexes into
// `failed_ids` when given.
struct UpsertRun {
  double seconds = 0;
  size_t acked = 0;
  size_t failed = 0;
  std::vector<double> latencies;
  std::vector<uint64_t> failed_ids;
  std::string first_error;
};

UpsertRun run_upserts(std::vector<std::unique_ptr<v1::Meridian::Stub>>& stubs,
                      const std::string& collection, uint32_t dim, const std::vector<float>& pool,
                      const std::vector<uint64_t>& numbers, int inflight, int threads,
                      const std::string& prefix) {
  UpsertRun run;
  Window window(inflight);
  Latencies lat;
  std::mutex failed_mu;
  std::atomic<size_t> acked{0};
  const size_t pool_n = pool.size() / dim;
  std::atomic<size_t> next{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> issuers;
  for (int t = 0; t < threads; ++t) {
    issuers.emplace_back([&, t] {
      size_t call_no = 0;
      for (;;) {
        const size_t i = next.fetch_add(1);
        if (i >= numbers.size()) break;
        window.acquire();
        auto* call = new UpsertCall;
        const uint64_t n = numbers[i];
        const std::string id = prefix.empty() ? bench::vector_id(n) : prefix + std::to_string(n);
        fill_upsert(&call->request, collection, id, &pool[(n % pool_n) * dim], dim);
        call->context.set_deadline(std::chrono::system_clock::now() + 30s);
        call->start = Clock::now();
        auto& stub = stubs[(size_t(t) + call_no++ * size_t(threads)) % stubs.size()];
        stub->async()->Upsert(
            &call->context, &call->request, &call->response, [&, call, n](grpc::Status status) {
              const auto end = Clock::now();
              if (status.ok()) {
                lat.add(ms_since(call->start, end));
                acked.fetch_add(1);
              } else {
                std::lock_guard<std::mutex> lock(failed_mu);
                run.failed_ids.push_back(n);
                if (run.first_error.empty()) {
                  run.first_error =
                      std::to_string(int(status.error_code())) + " " + status.error_message();
                }
              }
              delete call;
              window.release();
            });
      }
    });
  }
  for (auto& t : issuers) t.join();
  window.drain();
  run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  run.acked = acked.load();
  run.failed = run.failed_ids.size();
  run.latencies = lat.take();
  return run;
}

// ---- upsert ----

struct UpsertFlags {
  std::string target;
  size_t count = 200'000;
  size_t warmup = 20'000;
  int runs = 5;
  int inflight = 512;
  int channels = 4;
  int threads = 2;
};

int cmd_upsert(const Common& c, const UpsertFlags& f) {
  Tls tls(c.certs);
  auto stubs = make_stubs(f.target, tls, f.channels);
  const std::vector<float> pool = mixture(c.dim).sample(4096, c.write_seed);
  std::vector<double> rates;
  std::printf("# upsert: %zu x %u-d per run, %d in flight, %d channels, %d issuing threads -> %s\n",
              f.count, c.dim, f.inflight, f.channels, f.threads, f.target.c_str());
  for (int r = -1; r < f.runs; ++r) {
    const size_t count = r < 0 ? f.warmup : f.count;
    if (count == 0) continue;
    std::vector<uint64_t> numbers(count);
    for (size_t i = 0; i < count; ++i) numbers[i] = i;
    const std::string prefix = "u" + std::to_string(r + 1) + "-";
    const std::string load_before = loadavg();
    const double cpu0 = client_cpu_s();
    UpsertRun run =
        run_upserts(stubs, c.collection, c.dim, pool, numbers, f.inflight, f.threads, prefix);
    const Percentiles p = percentiles(run.latencies);
    const double rate = double(run.acked) / run.seconds;
    std::printf(
        "%s %d: %zu acked, %zu failed in %.2f s = %.0f acked/s; ack latency p50 %.2f p99 %.2f "
        "max %.1f ms; client CPU %.2f cores; load %s -> %s%s%s\n",
        r < 0 ? "warm-up" : "run", r + 1, run.acked, run.failed, run.seconds, rate, p.p50, p.p99,
        p.max, (client_cpu_s() - cpu0) / run.seconds, load_before.c_str(), loadavg().c_str(),
        run.failed ? "; first error: " : "", run.first_error.c_str());
    std::fflush(stdout);
    if (r >= 0) rates.push_back(rate);
  }
  std::printf("RESULT kind=upsert median_per_s=%.0f runs=%zu min=%.0f max=%.0f load=%s\n",
              median(rates), rates.size(), *std::min_element(rates.begin(), rates.end()),
              *std::max_element(rates.begin(), rates.end()), loadavg().c_str());
  return 0;
}

// ---- load + wait ----

uint64_t live_vectors(v1::Meridian::Stub& stub, const std::string& collection) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  v1::NodeStatusResponse status;
  if (!stub.NodeStatus(&context, {}, &status).ok()) return 0;
  for (const auto& col : status.collections()) {
    if (col.name() == collection) return col.live_vectors();
  }
  return 0;
}

struct LoadFlags {
  std::string target;
  size_t vectors = 100'000;
  int inflight = 512;
  std::vector<std::string> wait;
  int wait_s = 600;
};

int cmd_load(const Common& c, const LoadFlags& f) {
  Tls tls(c.certs);
  auto stubs = make_stubs(f.target, tls, 2);
  const std::vector<float> base = mixture(c.dim).sample(f.vectors, c.base_seed);
  std::vector<uint64_t> numbers(f.vectors);
  for (size_t i = 0; i < f.vectors; ++i) numbers[i] = i;
  const auto t0 = Clock::now();
  size_t acked = 0;
  for (int attempt = 0; attempt < 20 && !numbers.empty(); ++attempt) {
    UpsertRun run = run_upserts(stubs, c.collection, c.dim, base, numbers, f.inflight, 2, "");
    acked += run.acked;
    std::printf("# load: %zu acked, %zu failed (%s) in %.1f s\n", run.acked, run.failed,
                run.first_error.c_str(), run.seconds);
    numbers = run.failed_ids;
    if (!numbers.empty()) std::this_thread::sleep_for(1s);
  }
  if (!numbers.empty()) {
    std::fprintf(stderr, "meridian-bench: %zu upserts never acknowledged\n", numbers.size());
    return 1;
  }
  std::vector<std::string> wait = f.wait;
  if (wait.empty()) wait.push_back(f.target);
  for (const std::string& address : wait) {
    auto stub = make_stubs(address, tls, 1);
    const auto deadline = Clock::now() + std::chrono::seconds(f.wait_s);
    uint64_t live = 0;
    while ((live = live_vectors(*stub[0], c.collection)) < f.vectors && Clock::now() < deadline) {
      std::this_thread::sleep_for(200ms);
    }
    std::printf("# load: %s has %llu live vectors after %.1f s\n", address.c_str(),
                (unsigned long long)live, ms_since(t0, Clock::now()) / 1000);
    if (live < f.vectors) return 1;
  }
  std::printf("RESULT kind=load vectors=%zu seconds=%.1f load=%s\n", f.vectors,
              ms_since(t0, Clock::now()) / 1000, loadavg().c_str());
  return 0;
}

// Waits until `target` holds as many live vectors as `like` (a node that is not being written:
// e.g. a restarted replica catching up by replaying the log).
struct ConvergeFlags {
  std::string target;
  std::string like;
  int timeout_s = 600;
};

int cmd_converge(const Common& c, const ConvergeFlags& f) {
  Tls tls(c.certs);
  auto target = make_stubs(f.target, tls, 1);
  auto like = make_stubs(f.like, tls, 1);
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::seconds(f.timeout_s);
  uint64_t have = 0, want = 0;
  while (Clock::now() < deadline) {
    want = live_vectors(*like[0], c.collection);
    have = live_vectors(*target[0], c.collection);
    if (want > 0 && have == want) break;
    std::this_thread::sleep_for(200ms);
  }
  std::printf("# converge: %s has %llu live vectors, %s %llu, after %.1f s\n", f.target.c_str(),
              (unsigned long long)have, f.like.c_str(), (unsigned long long)want,
              ms_since(t0, Clock::now()) / 1000);
  return want > 0 && have == want ? 0 : 1;
}

// ---- exact ground truth ----

std::vector<std::vector<uint64_t>> exact_top_k(const std::vector<float>& base,
                                               const std::vector<float>& queries, uint32_t dim,
                                               int k) {
  faiss::IndexFlatL2 flat{int(dim)};
  flat.add(faiss::Index::idx_t(base.size() / dim), base.data());
  const size_t nq = queries.size() / dim;
  std::vector<float> d(nq * size_t(k));
  std::vector<faiss::Index::idx_t> l(nq * size_t(k));
  flat.search(faiss::Index::idx_t(nq), queries.data(), k, d.data(), l.data());
  std::vector<std::vector<uint64_t>> out(nq);
  for (size_t q = 0; q < nq; ++q) {
    for (int j = 0; j < k; ++j) out[q].push_back(uint64_t(l[q * size_t(k) + size_t(j)]));
  }
  return out;
}

double recall_of(const std::vector<uint64_t>& got, const std::vector<uint64_t>& truth) {
  std::unordered_set<uint64_t> t(truth.begin(), truth.end());
  size_t hit = 0;
  for (uint64_t g : got) hit += t.count(g);
  return double(hit) / double(truth.size());
}

// ---- search ----

struct SearchCall {
  grpc::ClientContext context;
  v1::SearchRequest request;
  v1::SearchResponse response;
  Clock::time_point scheduled;
};

// Open-loop writes at `rate`/s into `stub` until `stop`; ids from `first`.
class BackgroundWriter {
 public:
  BackgroundWriter(v1::Meridian::Stub* stub, const Common& c, double rate, uint64_t first)
      : stub_(stub), window_(2000) {
    if (stub == nullptr || rate <= 0) return;
    pool_ = mixture(c.dim).sample(4096, c.write_seed + first);
    thread_ = std::thread([this, c, rate, first] {
      const auto t0 = Clock::now();
      for (uint64_t i = 0; !stop_.load(); ++i) {
        std::this_thread::sleep_until(t0 +
                                      std::chrono::nanoseconds(int64_t(1e9 * double(i) / rate)));
        if (!window_.try_acquire()) {
          ++dropped_;
          continue;
        }
        auto* call = new UpsertCall;
        fill_upsert(&call->request, c.collection, bench::vector_id(first + i),
                    &pool_[(i % 4096) * c.dim], c.dim);
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
  std::string upsert_target;
  double upsert_rate = 0;
  // Background upsert ids start here (one million per run): repeated invocations against the
  // same deployment pass different bases so that every run inserts fresh ids.
  uint64_t first_upsert_id = 10'000'000;
};

int cmd_search(const Common& c, const SearchFlags& f) {
  Tls tls(c.certs);
  auto stubs = make_stubs(f.target, tls, f.channels);
  const auto mix = mixture(c.dim);
  const std::vector<float> queries = mix.sample(f.queries, c.query_seed);
  const size_t nq = f.queries;

  // Recall@k of the node's answers against an exact flat search over the same base vectors
  // (regenerated here from the same seed), before any concurrent write.
  if (f.recall_queries > 0) {
    const size_t rq = std::min(f.recall_queries, nq);
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
      if (!stubs[0]->Search(&context, req, &resp).ok()) {
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

  std::unique_ptr<v1::Meridian::Stub> writer_stub;
  if (!f.upsert_target.empty() && f.upsert_rate > 0) {
    writer_stub = std::move(make_stubs(f.upsert_target, tls, 1)[0]);
  }
  uint64_t first_write_id = f.first_upsert_id;  // fresh ids per run, far above the base ids
  for (const double rate : f.rates) {
    std::vector<double> qps_runs, p50_runs, p99_runs;
    for (int r = 0; r < f.runs; ++r) {
      BackgroundWriter writer(writer_stub.get(), c, f.upsert_rate, first_write_id);
      first_write_id += 1'000'000;
      if (writer_stub) std::this_thread::sleep_for(1s);  // writes flowing before searching
      Window window(f.max_inflight);
      Latencies lat;
      std::atomic<size_t> ok{0}, failed{0}, overflow{0};
      const std::string load_before = loadavg();
      const size_t total = size_t(rate * f.duration);
      const double cpu0 = client_cpu_s();
      const auto t0 = Clock::now();
      for (size_t i = 0; i < total; ++i) {
        const auto scheduled = t0 + std::chrono::nanoseconds(int64_t(1e9 * double(i) / rate));
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
        stubs[i % stubs.size()]->async()->Search(
            &call->context, &call->request, &call->response, [&, call](grpc::Status s) {
              // Latency from the scheduled send time: a late send counts against the node.
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
      const double seconds = ms_since(t0, Clock::now()) / 1000;
      writer.stop();
      const Percentiles p = percentiles(lat.take());
      const double qps = double(ok.load()) / seconds;
      std::printf(
          "run %d: offered %.0f/s for %.0f s: %zu ok (%.0f/s), %zu failed, %zu over %d in flight; "
          "latency p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.1f ms; background upserts %zu acked "
          "%zu failed %zu dropped (%.0f/s); client CPU %.2f cores; load %s -> %s\n",
          r + 1, rate, f.duration, ok.load(), qps, failed.load(), overflow.load(), f.max_inflight,
          p.p50, p.p90, p.p99, p.p999, p.max, writer.acked(), writer.failed(), writer.dropped(),
          double(writer.acked()) / (seconds + (writer_stub ? 1 : 0)),
          (client_cpu_s() - cpu0) / seconds, load_before.c_str(), loadavg().c_str());
      std::fflush(stdout);
      qps_runs.push_back(qps);
      p50_runs.push_back(p.p50);
      p99_runs.push_back(p.p99);
    }
    std::printf(
        "RESULT kind=search offered=%.0f median_qps=%.0f median_p50_ms=%.2f median_p99_ms=%.2f "
        "upsert_rate=%.0f runs=%d load=%s\n",
        rate, median(qps_runs), median(p50_runs), median(p99_runs), f.upsert_rate, f.runs,
        loadavg().c_str());
    std::fflush(stdout);
  }
  return 0;
}

// ---- replication ----

struct ReplicationFlags {
  std::string write;
  std::string read;
  std::vector<double> rates = {500};
  double duration = 20;
  int runs = 1;
  double poll_us = 500;
};

// One rate: open-loop upserts into `write`; a prober picks the newest acknowledged write, polls
// Get on `read` every poll_us until the vector is there and records ack -> visible (the time
// the successful Get's answer arrived: an upper bound, late by at most one poll interval plus
// one Get round trip). Probes run one after another, so they sample writes at random.
struct ReplicationRun {
  double offered = 0, achieved = 0;
  size_t failed = 0, dropped = 0;
  Percentiles lag, lag_late;
  size_t unseen = 0;
};

ReplicationRun replicate_at(const Common& c, const ReplicationFlags& f, v1::Meridian::Stub& w,
                            v1::Meridian::Stub& rd, double rate, uint64_t first) {
  ReplicationRun out;
  out.offered = rate;
  const std::vector<float> pool = mixture(c.dim).sample(4096, c.write_seed + first);
  struct Acked {
    uint64_t n = 0;
    uint64_t timestamp = 0;  // the write's HLC timestamp: Get must return this very write
    Clock::time_point at;
    bool valid = false;
  };
  std::mutex acked_mu;
  Acked newest;
  std::atomic<size_t> acked{0}, failed{0}, dropped{0};
  std::atomic<bool> stop{false};
  Window window(4000);
  const auto t0 = Clock::now();
  const size_t total = size_t(rate * f.duration);
  std::vector<std::pair<double, double>> probes;  // (seconds since start, lag ms)
  size_t unseen = 0;
  std::thread prober([&] {
    uint64_t last = UINT64_MAX;
    while (!stop.load()) {
      Acked a;
      {
        std::lock_guard<std::mutex> lock(acked_mu);
        a = newest;
      }
      if (!a.valid || a.n == last) {
        std::this_thread::sleep_for(100us);
        continue;
      }
      last = a.n;
      v1::GetRequest req;
      req.set_collection(c.collection);
      req.set_id(bench::vector_id(a.n));
      bool seen = false;
      const auto give_up = a.at + 5s;
      while (!seen && Clock::now() < give_up) {
        const auto sent = Clock::now();
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + 5s);
        v1::GetResponse resp;
        grpc::Status s = rd.Get(&context, req, &resp);
        if (s.ok() && resp.timestamp() == a.timestamp) {
          seen = true;
          probes.emplace_back(ms_since(t0, a.at) / 1000, ms_since(a.at, Clock::now()));
        } else {
          std::this_thread::sleep_until(sent + std::chrono::nanoseconds(int64_t(f.poll_us * 1000)));
        }
      }
      if (!seen) ++unseen;
    }
  });
  for (size_t i = 0; i < total; ++i) {
    std::this_thread::sleep_until(t0 + std::chrono::nanoseconds(int64_t(1e9 * double(i) / rate)));
    if (!window.try_acquire()) {
      ++dropped;
      continue;
    }
    auto* call = new UpsertCall;
    const uint64_t n = first + i;
    fill_upsert(&call->request, c.collection, bench::vector_id(n), &pool[(i % 4096) * c.dim],
                c.dim);
    call->context.set_deadline(std::chrono::system_clock::now() + 30s);
    w.async()->Upsert(&call->context, &call->request, &call->response,
                      [&, call, n](grpc::Status s) {
                        const auto now = Clock::now();
                        if (s.ok()) {
                          acked.fetch_add(1);
                          std::lock_guard<std::mutex> lock(acked_mu);
                          if (!newest.valid || n > newest.n) {
                            newest = Acked{n, call->response.timestamp(), now, true};
                          }
                        } else {
                          failed.fetch_add(1);
                        }
                        delete call;
                        window.release();
                      });
  }
  window.drain();
  const double seconds = ms_since(t0, Clock::now()) / 1000;
  std::this_thread::sleep_for(300ms);  // let the last probe finish
  stop = true;
  prober.join();
  out.achieved = double(acked.load()) / seconds;
  out.failed = failed.load();
  out.dropped = dropped.load();
  std::vector<double> all, late;
  for (auto [t, lag] : probes) {
    all.push_back(lag);
    if (t >= f.duration / 2) late.push_back(lag);
  }
  out.lag = percentiles(all);
  out.lag_late = percentiles(late);
  out.unseen = unseen;
  return out;
}

int cmd_replication(const Common& c, const ReplicationFlags& f) {
  Tls tls(c.certs);
  auto w = make_stubs(f.write, tls, 2);
  auto rd = make_stubs(f.read, tls, 1);
  // Ids of their own (other subcommands write below 10^9), and each probe also checks the
  // write's timestamp, so a vector left by an earlier run never counts as visible.
  uint64_t first = 1'000'000'000;
  for (double rate : f.rates) {
    std::vector<double> p50s, p99s, achieved;
    for (int r = 0; r < f.runs; ++r) {
      const std::string load_before = loadavg();
      ReplicationRun run = replicate_at(c, f, *w[size_t(r) % 2], *rd[0], rate, first);
      first += 1'000'000;
      std::printf(
          "rate %.0f/s run %d: achieved %.0f acked/s (%zu failed, %zu dropped); commit->visible "
          "over %zu probes: p50 %.2f p90 %.2f p99 %.2f max %.1f ms (second half: p50 %.2f p99 "
          "%.2f); %zu probes unseen after 5 s; load %s -> %s\n",
          rate, r + 1, run.achieved, run.failed, run.dropped, run.lag.n, run.lag.p50, run.lag.p90,
          run.lag.p99, run.lag.max, run.lag_late.p50, run.lag_late.p99, run.unseen,
          load_before.c_str(), loadavg().c_str());
      std::fflush(stdout);
      p50s.push_back(run.lag.p50);
      p99s.push_back(run.lag.p99);
      achieved.push_back(run.achieved);
    }
    std::printf(
        "RESULT kind=replication rate=%.0f median_achieved=%.0f median_p50_ms=%.2f "
        "median_p99_ms=%.2f runs=%d load=%s\n",
        rate, median(achieved), median(p50s), median(p99s), f.runs, loadavg().c_str());
    std::fflush(stdout);
  }
  return 0;
}

// ---- ivf-sweep (offline: which nlist/nprobe meets recall@10 >= 0.95, and at what cost) ----

struct SweepFlags {
  size_t vectors = 100'000;
  size_t queries = 1000;
  std::vector<int> nlist = {256, 1024};
  std::vector<int> nprobe = {4, 8, 16};
};

int cmd_ivf_sweep(const Common& c, const SweepFlags& f) {
  omp_set_num_threads(1);
  const auto mix = mixture(c.dim);
  const std::vector<float> base = mix.sample(f.vectors, c.base_seed);
  const std::vector<float> queries = mix.sample(f.queries, c.query_seed);
  const auto truth = exact_top_k(base, queries, c.dim, 10);
  for (int nlist : f.nlist) {
    faiss::IndexFlatL2 quantizer{int(c.dim)};
    faiss::IndexIVFFlat ivf(&quantizer, c.dim, size_t(nlist));
    const size_t train = std::min(f.vectors, size_t(39 * nlist));  // the engine's default
    const auto t0 = Clock::now();
    ivf.train(faiss::Index::idx_t(train), base.data());
    const double train_s = ms_since(t0, Clock::now()) / 1000;
    ivf.add(faiss::Index::idx_t(f.vectors), base.data());
    for (int nprobe : f.nprobe) {
      ivf.nprobe = size_t(nprobe);
      double sum = 0;
      std::vector<double> lat;
      for (size_t q = 0; q < f.queries; ++q) {
        float d[10];
        faiss::Index::idx_t l[10];
        const auto s = Clock::now();
        ivf.search(1, &queries[q * c.dim], 10, d, l);
        lat.push_back(ms_since(s, Clock::now()));
        std::vector<uint64_t> got(l, l + 10);
        sum += recall_of(got, truth[q]);
      }
      const Percentiles p = percentiles(lat);
      std::printf(
          "RESULT kind=ivf nlist=%d nprobe=%d recall_at_10=%.4f query_p50_ms=%.3f "
          "query_p99_ms=%.3f qps_1thread=%.0f train_s=%.1f load=%s\n",
          nlist, nprobe, sum / double(f.queries), p.p50, p.p99,
          1000.0 / (std::accumulate(lat.begin(), lat.end(), 0.0) / double(lat.size())), train_s,
          loadavg().c_str());
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace
}  // namespace meridian::realbench

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

  LoadFlags lf;
  auto* load = app.add_subcommand("load", "upsert the base vectors, wait until nodes hold them");
  load->add_option("--target", lf.target, "node gRPC address")->required();
  load->add_option("--vectors", lf.vectors, "base vectors");
  load->add_option("--inflight", lf.inflight, "maximum outstanding calls");
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
  repl->add_option("--read", rf.read, "node gRPC address polled with Get")->required();
  repl->add_option("--rates", rf.rates, "upserts per second, one measurement each")->delimiter(',');
  repl->add_option("--duration", rf.duration, "seconds per rate");
  repl->add_option("--runs", rf.runs, "runs per rate");
  repl->add_option("--poll-us", rf.poll_us, "Get polling interval (µs)");

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
