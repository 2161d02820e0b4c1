// What session reads waiting for their token cost the region that holds them: every record the
// region applies may cover some of them, so the apply path has to find those. The benchmark
// runs three regions on the simulator (sim/region_node_test_fixture.h, the same engine code as
// the real build) with N session reads parked in region b, waiting for a write of region c that
// never arrives (c's mirror into b is down for the whole run), while region a's writes stream
// into b. Time per record written in a and applied in a, b and c (CPU time; the simulator is
// single-threaded). Flat in N means an applied record only looks at the reads it can satisfy.
//
//   build-bench/bench/session_wait_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
#include <benchmark/benchmark.h>

#include <string>

#include "sim/region_node_test_fixture.h"

namespace meridian::sim::node_test {
namespace {

constexpr int kWritesPerIteration = 100;
constexpr TimeNs kForever = 1'000'000 * kSecond;

void BM_ApplyWithWaitingSessionReads(benchmark::State& state) {
  const int waiting = int(state.range(0));
  Nodes w(3, [](node::NodeOptions& o) {
    o.session_wait = kForever;
    o.catch_up_after = 0;  // no delta catch-up from c either: the reads stay parked
  });
  w.run_for(kSecond);
  w.mirror("c", "b", node::wal_topic(kColl)).restart(kForever);
  auto token_write = w.write(2, upsert("from-c", 1));
  w.run_for(10 * kMillisecond);
  if (!token_write->done || !token_write->r.status.is_ok()) {
    state.SkipWithError("the write in region c was not acknowledged");
    return;
  }
  std::vector<std::shared_ptr<Reply<node::SearchResponse>>> reads;
  for (int i = 0; i < waiting; ++i) {
    node::SearchRequest q = query(node::Consistency::kSession, float(i % 7));
    q.session.observe(token_write->r);
    reads.push_back(w.search(1, std::move(q)));
  }
  w.run_for(10 * kMillisecond);
  node::RegionNode& b = w.node(1);
  const uint64_t applied_before = b.counters().records_applied;
  uint64_t next_id = 0;
  for (auto _ : state) {
    for (int i = 0; i < kWritesPerIteration; ++i) {
      w.write(0, upsert("a-" + std::to_string(next_id % 10'000), float(next_id % 13)));
      ++next_id;
    }
    w.run_for(20 * kMillisecond);
  }
  w.run_for(kSecond);  // not timed: the last iteration's records reach b
  const uint64_t applied = b.counters().records_applied - applied_before;
  for (const auto& read : reads) {
    if (read->done) {
      state.SkipWithError("a session read was answered although its token was never covered");
      return;
    }
  }
  if (applied != next_id) {
    state.SkipWithError("region b did not apply region a's writes");
    return;
  }
  state.SetItemsProcessed(int64_t(next_id));
  state.counters["waiting_reads"] = double(waiting);
}
BENCHMARK(BM_ApplyWithWaitingSessionReads)
    ->Arg(0)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(10'000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace meridian::sim::node_test
