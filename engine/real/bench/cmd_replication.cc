// meridian-bench replication: how long an acknowledged write in one region takes to become
// visible through a node of another region, at several write rates.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/real/bench/bench_support.h"
#include "engine/real/bench/commands.h"

namespace meridian::realbench {
namespace {

using namespace std::chrono_literals;

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
    std::this_thread::sleep_until(scheduled_time(t0, i, rate));
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

}  // namespace

int cmd_replication(const Common& c, const ReplicationFlags& f) {
  Tls tls(c.certs);
  auto w = make_stubs(f.write, tls, 2);
  auto rd = make_stubs(f.read, tls, 1);
  // Ids of their own (other subcommands write below 10^9), and each probe also checks the
  // write's timestamp, so a vector left by an earlier run never counts as visible.
  uint64_t first = 1'000'000'000;
  if (f.warmup > 0 && !f.rates.empty()) {
    // Brokers and MirrorMaker 2 just started are still JIT-compiling their hot paths; a
    // deployment's have long finished. Unrecorded, at the highest rate to be measured.
    ReplicationFlags warm = f;
    warm.duration = f.warmup;
    const double rate = *std::max_element(f.rates.begin(), f.rates.end());
    ReplicationRun run = replicate_at(c, warm, *w[0], *rd[0], rate, first);
    first += 1'000'000;
    std::printf("warm-up: %.0f s at %.0f/s, achieved %.0f acked/s, commit->visible p99 %.2f ms\n",
                f.warmup, rate, run.achieved, run.lag.p99);
    std::fflush(stdout);
  }
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

}  // namespace meridian::realbench
