// Acknowledged appends per second through KafkaLog against a real broker (scripts/bench-kafka
// starts one and runs this; docs/kafka.md has the figures). Not a ctest.
//
//   kafka_produce_bench --bootstrap 127.0.0.1:9092 [--records 200000] [--runs 5]
//       [--partitions 8] [--outstanding 20000] [--linger-ms 1] [--dimension 128]
//
// Each record is a real upsert encoded by encode_mutation (128-d embedding, an id, two tags,
// ~600 bytes), keyed by its vector id, sent round-robin over the partitions with at most
// `outstanding` produces unacknowledged (the node's admission bound is 20,000). A run's rate is
// records / (last ack - first produce); after an unrecorded warm-up run of a tenth of the
// records, prints each run, then the median and its ack latency.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/record_codec.h"
#include "engine/real/event_loop.h"
#include "engine/real/kafka/kafka_admin.h"
#include "engine/real/kafka/kafka_log.h"

namespace meridian::real {
namespace {

struct Flags {
  std::string bootstrap;
  std::string topic = "wal.bench";
  int records = 200'000;
  int runs = 5;
  int partitions = 8;
  int outstanding = 20'000;
  int linger_ms = 1;
  int dimension = 128;
  uint64_t writer = 0;  // KafkaLog::set_writer (a record header); 0: none
};

// Fills `flags` from the command line; --help, a bad value or a missing --bootstrap ends the
// process (exit 0 for --help, 2 otherwise).
void parse(int argc, char** argv, Flags* flags) {
  CLI::App app{
      "kafka_produce_bench: acknowledged appends per second through KafkaLog against a "
      "real broker (scripts/bench-kafka starts one and runs this)."};
  app.add_option("--bootstrap", flags->bootstrap, "broker address HOST:PORT")->required();
  app.add_option("--topic", flags->topic, "topic (created if missing)")->capture_default_str();
  app.add_option("--records", flags->records, "records per run")
      ->check(CLI::Range(1, std::numeric_limits<int>::max()))
      ->capture_default_str();
  app.add_option("--runs", flags->runs, "recorded runs")
      ->check(CLI::Range(1, std::numeric_limits<int>::max()))
      ->capture_default_str();
  app.add_option("--partitions", flags->partitions, "partitions of the topic")
      ->check(CLI::Range(1, std::numeric_limits<int>::max()))
      ->capture_default_str();
  app.add_option("--outstanding", flags->outstanding, "produces unacknowledged at most")
      ->check(CLI::Range(1, std::numeric_limits<int>::max()))
      ->capture_default_str();
  app.add_option("--linger-ms", flags->linger_ms, "producer linger.ms")
      ->check(CLI::Range(0, std::numeric_limits<int>::max()))
      ->capture_default_str();
  app.add_option("--dimension", flags->dimension, "embedding dimension of the records")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--writer", flags->writer,
                 "writer id stamped on every record as a header, as a region node does "
                 "(0: no header)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e) == 0 ? 0 : 2);
  }
}

std::vector<std::string> make_records(const Flags& flags, size_t count) {
  std::vector<std::string> records(count);
  uint64_t state = 0x9E3779B97F4A7C15u;
  for (size_t i = 0; i < count; ++i) {
    Mutation m;
    m.op = Op::kUpsert;
    m.collection = "bench";
    m.vector_id = "vec-" + std::to_string(i);
    m.embedding.resize(size_t(flags.dimension));
    for (float& x : m.embedding) {
      state = state * 6364136223846793005u + 1442695040888963407u;
      x = float(state >> 40) / float(1 << 24) - 0.5f;
    }
    m.payload.tags = {"bench", "tag-" + std::to_string(i % 16)};
    m.timestamp = 1'000'000 + i;
    m.origin_region = 1;
    m.origin_sequence = i + 1;
    encode_mutation(m, &records[i]);
  }
  return records;
}

struct RunResult {
  double records_per_s = 0;
  double ack_p50_ms = 0;
  double ack_p99_ms = 0;
  uint64_t failed = 0;
};

RunResult run_once(const Flags& flags, const std::vector<std::string>& records) {
  EventLoop loop(std::chrono::microseconds(200));
  KafkaLogOptions options;
  options.bootstrap_servers = flags.bootstrap;
  options.client_id = "bench";
  options.linger_ms = flags.linger_ms;
  auto log = KafkaLog::create(loop, options);
  if (!log.is_ok()) {
    std::fprintf(stderr, "%s\n", log.status().to_string().c_str());
    std::exit(1);
  }
  KafkaLog& kafka = *log.value();
  kafka.set_writer(flags.writer);
  const int total = flags.records;
  int next = 0, done = 0;
  RunResult result;
  std::vector<double> latency_ms;
  latency_ms.reserve(size_t(total));
  const auto start = std::chrono::steady_clock::now();
  std::function<void()> send_one = [&] {
    const int i = next++;
    const std::string& record = records[size_t(i) % records.size()];
    const auto sent = std::chrono::steady_clock::now();
    kafka.produce(flags.topic, uint32_t(i % flags.partitions),
                  "vec-" + std::to_string(i % int(records.size())), record,
                  [&, sent](Status status, uint64_t) {
                    ++done;
                    if (!status.is_ok()) ++result.failed;
                    latency_ms.push_back(std::chrono::duration<double, std::milli>(
                                             std::chrono::steady_clock::now() - sent)
                                             .count());
                    if (next < total) send_one();
                  });
  };
  while (next < std::min(total, flags.outstanding)) send_one();
  loop.run_until([&] { return done == total; }, std::chrono::minutes(5));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.records_per_s = done / seconds;
  std::sort(latency_ms.begin(), latency_ms.end());
  if (!latency_ms.empty()) {
    result.ack_p50_ms = latency_ms[latency_ms.size() / 2];
    result.ack_p99_ms = latency_ms[latency_ms.size() * 99 / 100];
  }
  return result;
}

int run(int argc, char** argv) {
  Flags flags;
  parse(argc, argv, &flags);
  KafkaLogOptions admin;
  admin.bootstrap_servers = flags.bootstrap;
  admin.client_id = "bench";
  Status created = create_topics(admin, {{flags.topic, flags.partitions}});
  if (!created.is_ok()) {
    std::fprintf(stderr, "%s\n", created.to_string().c_str());
    return 1;
  }
  const std::vector<std::string> records = make_records(flags, 10'000);
  size_t bytes = 0;
  for (const std::string& r : records) bytes += r.size();
  std::printf(
      "records: %d per run, %.0f bytes each (%d-d upserts), %d partitions, "
      "%d outstanding, linger.ms %d, writer header %s\n",
      flags.records, double(bytes) / double(records.size()), flags.dimension, flags.partitions,
      flags.outstanding, flags.linger_ms, flags.writer == 0 ? "off" : "on");
  // One short unrecorded run first: the broker's JIT and page cache warm up.
  Flags warmup = flags;
  warmup.records = std::max(1, flags.records / 10);
  const RunResult warm = run_once(warmup, records);
  std::printf("warm-up (%d records, not counted): %.0f acked appends/s\n", warmup.records,
              warm.records_per_s);
  std::vector<RunResult> results;
  for (int r = 0; r < flags.runs; ++r) {
    results.push_back(run_once(flags, records));
    const RunResult& x = results.back();
    std::printf("run %d: %9.0f acked appends/s  ack p50 %6.1f ms  p99 %6.1f ms  failed %llu\n",
                r + 1, x.records_per_s, x.ack_p50_ms, x.ack_p99_ms,
                static_cast<unsigned long long>(x.failed));
    std::fflush(stdout);
  }
  std::sort(results.begin(), results.end(), [](const RunResult& a, const RunResult& b) {
    return a.records_per_s < b.records_per_s;
  });
  const RunResult& median = results[results.size() / 2];
  std::printf("median: %.0f acked appends/s (ack p50 %.1f ms, p99 %.1f ms) over %d runs\n",
              median.records_per_s, median.ack_p50_ms, median.ack_p99_ms, flags.runs);
  bool any_failed = false;
  for (const RunResult& x : results) any_failed = any_failed || x.failed > 0;
  return any_failed ? 1 : 0;
}

}  // namespace
}  // namespace meridian::real

int main(int argc, char** argv) { return meridian::real::run(argc, argv); }
