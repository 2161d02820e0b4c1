// What the second-writer check (engine/node/own_writer_check.h) adds to each write: the node
// keeps the record's checksum when it issues the sequence and compares it when the record is
// read back from its own partition. Steady state with the default window (max_pending_writes +
// max_in_flight = 20,064 sequences): each iteration issues one sequence and reads back the one
// issued `lag` writes earlier (the own consumer's lag), so the deque holds window + lag entries.
//
//   build/bench/own_writer_check_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
#include <benchmark/benchmark.h>

#include <cstdint>

#include "engine/node/own_writer_check.h"

namespace meridian::node {
namespace {

constexpr uint64_t kWindow = 20000 + 64;

void BM_OwnWriterCheckPerRecord(benchmark::State& state) {
  const uint64_t lag = uint64_t(state.range(0));
  OwnWriterCheck check(kWindow);
  check.start(0);
  uint64_t issued = 0, read = 0;
  auto crc_of = [](uint64_t seq) { return uint32_t(seq * 2654435761u); };
  for (uint64_t i = 0; i < kWindow + lag; ++i) {
    ++issued;
    check.issued(issued, crc_of(issued));
  }
  while (read + lag < issued) {
    ++read;
    if (!check.check(read - 1, read, crc_of(read)).empty()) state.SkipWithError("conflict");
  }
  for (auto _ : state) {
    ++issued;
    check.issued(issued, crc_of(issued));
    ++read;
    benchmark::DoNotOptimize(check.check(read - 1, read, crc_of(read)).empty());
  }
  state.counters["kept"] = double(check.kept());
}
BENCHMARK(BM_OwnWriterCheckPerRecord)->Arg(0)->Arg(1000)->Arg(100000);

}  // namespace
}  // namespace meridian::node
