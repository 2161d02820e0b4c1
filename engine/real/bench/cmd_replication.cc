// meridian-bench replication: how long an acknowledged write in one region takes to become
// visible through a node of another region, at several write rates.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/real/bench/bench_support.h"
#include "engine/real/bench/commands.h"
#include "engine/real/bench/replication_probes.h"

namespace meridian::realbench {
namespace {

using namespace std::chrono_literals;

// One rate: open-loop upserts into `write` (one per call, or `batch` per UpsertBatch of
// consecutive ids), each call's last write handed to a prober on `read` when acknowledged
// (replication_probes.h says how each prober samples and what it measures).
struct ReplicationRun {
  double offered = 0, achieved = 0;
  size_t failed = 0, dropped = 0;
  Percentiles lag, lag_late;
  ProbeResults probes;
  double client_cores = 0;  // CPU of this process (writer and prober) per second of the run
  double began_unix_s = 0;  // wall clock at the run's start, to line probes up with other logs
};

std::unique_ptr<Prober> make_prober(const Common& c, const ReplicationFlags& f,
                                    v1::Meridian::Stub& rd, double rate) {
  if (f.probe == "get") return make_get_poller(rd, c.collection, f.poll_us);
  const double calls_per_s = rate / double(std::max<size_t>(1, f.batch));
  return make_session_search_prober(rd, c.collection,
                                    uint64_t(std::max(1.0, calls_per_s / f.probes_per_s)));
}

// A session token covering every write an UpsertBatch acknowledged.
v1::SessionToken token_of_all(const v1::UpsertBatchResponse& r) {
  std::map<uint32_t, uint64_t> highest;  // shard -> sequence
  for (const v1::UpsertBatchResponse::Ack& ack : r.acks()) {
    uint64_t& sequence = highest[ack.shard()];
    sequence = std::max(sequence, ack.sequence());
  }
  v1::SessionToken token;
  for (const auto& [shard, sequence] : highest) {
    token.MergeFrom(token_of(r.origin(), shard, sequence));
  }
  return token;
}

ReplicationRun replicate_at(const Common& c, const ReplicationFlags& f, v1::Meridian::Stub& w,
                            v1::Meridian::Stub& rd, double rate, uint64_t first_id) {
  ReplicationRun out;
  out.offered = rate;
  const std::vector<float> pool = mixture(c.dim).sample(4096, c.write_seed + first_id);
  std::atomic<size_t> acked{0}, failed{0}, dropped{0};
  Window window(4000);
  std::unique_ptr<Prober> prober = make_prober(c, f, rd, rate);
  const auto t0 = Clock::now();
  out.began_unix_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double cpu0 = client_cpu_s();
  const size_t total = size_t(rate * f.duration);
  auto on_answer = [&](const grpc::Status& s, AckedWrite& write, size_t writes) {
    write.acked_at = Clock::now();
    if (!s.ok()) {
      failed.fetch_add(writes);
      return;
    }
    acked.fetch_add(writes);
    prober->acknowledged(write);
  };
  // Each call goes out at the scheduled time of its last write, so the offered rate is the same
  // whatever the batch.
  const size_t batch = std::max<size_t>(1, f.batch);
  uint64_t call_index = 0;
  for (size_t first = 0; first < total; first += batch, ++call_index) {
    const size_t last = std::min(total, first + batch);  // writes [first, last)
    std::this_thread::sleep_until(scheduled_time(t0, last - 1, rate));
    if (!window.try_acquire()) {
      dropped.fetch_add(last - first);
      continue;
    }
    AckedWrite probed;  // the call's last write; the answer fills in the rest
    probed.call = call_index;
    probed.id = bench::vector_id(first_id + last - 1);
    probed.embedding = &pool[((last - 1) % 4096) * c.dim];
    probed.dim = c.dim;
    const auto deadline = std::chrono::system_clock::now() + 30s;
    if (batch == 1) {
      auto* call = new UpsertCall;
      fill_upsert(&call->request, c.collection, probed.id, probed.embedding, c.dim);
      call->context.set_deadline(deadline);
      w.async()->Upsert(&call->context, &call->request, &call->response,
                        [&, call, probed](grpc::Status s) mutable {
                          const v1::WriteResponse& r = call->response;
                          probed.timestamp = r.timestamp();
                          probed.session = token_of(r.origin(), r.shard(), r.sequence());
                          on_answer(s, probed, 1);
                          delete call;
                          window.release();
                        });
      continue;
    }
    auto* call = new UpsertBatchCall;
    call->request.set_collection(c.collection);
    for (size_t i = first; i < last; ++i) {
      v1::UpsertBatchRequest::Item* item = call->request.add_items();
      item->set_id(bench::vector_id(first_id + i));
      const float* v = &pool[(i % 4096) * c.dim];
      item->mutable_embedding()->Assign(v, v + c.dim);
    }
    call->context.set_deadline(deadline);
    w.async()->UpsertBatch(&call->context, &call->request, &call->response,
                           [&, call, probed, writes = last - first](grpc::Status s) mutable {
                             const v1::UpsertBatchResponse& r = call->response;
                             if (s.ok() && size_t(r.acks_size()) == writes) {
                               const v1::UpsertBatchResponse::Ack& ack = r.acks(r.acks_size() - 1);
                               probed.timestamp = ack.timestamp();
                               // A session probe waits for every write of the call: the
                               // slowest of them sets the lag.
                               probed.session = token_of_all(r);
                             } else if (s.ok()) {
                               s = grpc::Status(grpc::StatusCode::INTERNAL,
                                                "UpsertBatch: one ack per item expected");
                             }
                             on_answer(s, probed, writes);
                             delete call;
                             window.release();
                           });
  }
  window.drain();
  const double seconds = ms_since(t0, Clock::now()) / 1000;
  out.probes = prober->finish(t0);
  out.client_cores = (client_cpu_s() - cpu0) / seconds;
  out.achieved = double(acked.load()) / seconds;
  out.failed = failed.load();
  out.dropped = dropped.load();
  std::vector<double> all, late;
  for (auto [t, lag] : out.probes.lags) {
    all.push_back(lag);
    if (t >= f.duration / 2) late.push_back(lag);
  }
  out.lag = percentiles(all);
  out.lag_late = percentiles(late);
  return out;
}

// Waits until `rd` holds as many live vectors as `w` (at most 120 s), so that a run starts
// without the backlog of the one before; says how long that took.
void drain(const Common& c, v1::Meridian::Stub& w, v1::Meridian::Stub& rd) {
  const auto t0 = Clock::now();
  uint64_t want = 0, have = 0;
  while (Clock::now() < t0 + 120s) {
    want = live_vectors(w, c.collection);
    have = live_vectors(rd, c.collection);
    if (have == want) break;
    std::this_thread::sleep_for(100ms);
  }
  std::printf("# drained: the read node holds %llu of %llu live vectors after %.1f s\n",
              (unsigned long long)have, (unsigned long long)want,
              ms_since(t0, Clock::now()) / 1000);
  std::fflush(stdout);
}

}  // namespace

int cmd_replication(const Common& c, const ReplicationFlags& f) {
  Tls tls(c.certs);
  auto w = make_stubs(f.write, tls, 2);
  auto rd = make_stubs(f.read, tls, 1);
  // Ids of their own (other subcommands write below 10^9), and each probe also checks the
  // write's timestamp, so a vector left by an earlier run never counts as visible.
  uint64_t first = 1'000'000'000;
  std::FILE* lags_out = nullptr;
  if (!f.lags_out.empty()) {
    lags_out = std::fopen(f.lags_out.c_str(), "w");
    if (lags_out == nullptr) {
      std::fprintf(stderr, "meridian-bench: cannot write %s\n", f.lags_out.c_str());
      return 2;
    }
  }
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
    drain(c, *w[0], *rd[0]);
  }
  for (double rate : f.rates) {
    std::vector<double> p50s, p99s, achieved;
    for (int r = 0; r < f.runs; ++r) {
      const std::string load_before = loadavg();
      ReplicationRun run = replicate_at(c, f, *w[size_t(r) % 2], *rd[0], rate, first);
      first += 1'000'000;
      const std::string load_after = loadavg();
      if (lags_out != nullptr) {
        for (auto [t, lag] : run.probes.lags) {
          std::fprintf(lags_out, "%.0f %d %.4f %.3f %.4f\n", rate, r + 1, t, lag,
                       run.began_unix_s + t);
        }
        std::fflush(lags_out);
      }
      std::printf(
          "rate %.0f/s run %d: achieved %.0f acked/s (%zu failed, %zu dropped); commit->visible "
          "over %zu probes: p50 %.2f p90 %.2f p99 %.2f max %.1f ms (second half: p50 %.2f p99 "
          "%.2f); %zu probes unseen after 5 s, %zu skipped; %zu %s calls; client %.2f cores; "
          "load %s -> %s\n",
          rate, r + 1, run.achieved, run.failed, run.dropped, run.lag.n, run.lag.p50, run.lag.p90,
          run.lag.p99, run.lag.max, run.lag_late.p50, run.lag_late.p99, run.probes.unseen,
          run.probes.skipped, run.probes.calls, f.probe.c_str(), run.client_cores,
          load_before.c_str(), load_after.c_str());
      std::fflush(stdout);
      drain(c, *w[0], *rd[0]);
      p50s.push_back(run.lag.p50);
      p99s.push_back(run.lag.p99);
      achieved.push_back(run.achieved);
    }
    std::printf(
        "RESULT kind=replication rate=%.0f median_achieved=%.0f median_p50_ms=%.2f "
        "median_p99_ms=%.2f runs=%d batch=%zu probe=%s load=%s\n",
        rate, median(achieved), median(p50s), median(p99s), f.runs, f.batch, f.probe.c_str(),
        loadavg().c_str());
    std::fflush(stdout);
  }
  if (lags_out != nullptr) std::fclose(lags_out);
  return 0;
}

}  // namespace meridian::realbench
