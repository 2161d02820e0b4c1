// meridian-bench's write subcommands: upsert (throughput and ack latency through one node),
// load (the search data set) and converge (wait for a replica to catch up).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "engine/real/bench/bench_support.h"
#include "engine/real/bench/commands.h"

namespace meridian::realbench {

using namespace std::chrono_literals;

int cmd_upsert(const Common& c, const UpsertFlags& f) {
  Tls tls(c.certs);
  auto stubs = make_stubs(f.target, tls, f.channels);
  const std::vector<float> pool = mixture(c.dim).sample(4096, c.write_seed);
  std::vector<double> rates;
  std::printf(
      "# upsert: %zu x %u-d per run, %zu per call (%s), %d calls in flight, %d channels, %d "
      "issuing threads -> %s\n",
      f.count, c.dim, f.batch, f.batch > 1 ? "UpsertBatch" : "Upsert", f.inflight, f.channels,
      f.threads, f.target.c_str());
  for (int r = -1; r < f.runs; ++r) {
    const size_t count = r < 0 ? f.warmup : f.count;
    if (count == 0) continue;
    std::vector<uint64_t> numbers(count);
    for (size_t i = 0; i < count; ++i) numbers[i] = i;
    const std::string prefix = "u" + std::to_string(r + 1) + "-";
    const std::string load_before = loadavg();
    const double cpu0 = client_cpu_s();
    UpsertRun run = run_upserts(stubs, c.collection, c.dim, pool, numbers, f.inflight, f.threads,
                                prefix, f.batch);
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
  std::printf("RESULT kind=upsert median_per_s=%.0f runs=%zu min=%.0f max=%.0f batch=%zu load=%s\n",
              median(rates), rates.size(), *std::min_element(rates.begin(), rates.end()),
              *std::max_element(rates.begin(), rates.end()), f.batch, loadavg().c_str());
  return 0;
}

int cmd_load(const Common& c, const LoadFlags& f) {
  Tls tls(c.certs);
  auto stubs = make_stubs(f.target, tls, 2);
  const std::vector<float> base = mixture(c.dim).sample(f.vectors, c.base_seed);
  std::vector<uint64_t> numbers(f.vectors);
  for (size_t i = 0; i < f.vectors; ++i) numbers[i] = i;
  const auto t0 = Clock::now();
  size_t acked = 0;
  for (int attempt = 0; attempt < 20 && !numbers.empty(); ++attempt) {
    UpsertRun run =
        run_upserts(stubs, c.collection, c.dim, base, numbers, f.inflight, 2, "", f.batch);
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

}  // namespace meridian::realbench
