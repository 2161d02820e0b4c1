// What fencing a node's producer through Kafka transactions would cost its writes (docs/kafka.md,
// "Fencing"). KafkaLog today produces with an idempotent producer: a crashed node's records are
// in the log within milliseconds, but a *live* second node of the same region is not fenced. A
// transactional.id per region would fence it (the newer producer's InitProducerId bumps the
// epoch and the broker refuses the older one), at the price of a transaction around every
// group of writes: AddPartitionsToTxn before the first record of each partition, EndTxn and the
// commit markers after, and consumers reading committed records only.
//
// Both modes do the same rounds against a real broker (scripts/bench-kafka starts one):
//   plain  produce `batch` records (round-robin over the partitions), then wait for every ack
//          (idempotent producer, acks=all): what a write costs KafkaLog now;
//   txn    begin_transaction, the same produces, commit_transaction: what it would cost with a
//          transaction per group of writes.
// Per round: latency from the first produce to acked (plain) or committed (txn); per run: p50,
// p99 and records/s; runs alternate the modes. Blocking calls on one thread: a measuring tool,
// not engine code.
//
//   MERIDIAN_BENCH_BINARY=build-bench/engine/real/kafka/kafka_txn_bench scripts/bench-kafka
//       [--rounds 2000] [--batch 1] [--runs 3] [--partitions 16] [--property NAME=VALUE]...
#include <librdkafka/rdkafka.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "engine/real/kafka/kafka_admin.h"

namespace meridian::real {
namespace {

struct Flags {
  std::string bootstrap;
  std::string topic = "wal.txnbench";
  int rounds = 2'000;
  int batch = 1;
  int runs = 3;
  int partitions = 16;
  int value_bytes = 600;                                        // about one encoded 128-d upsert
  std::vector<std::pair<std::string, std::string>> properties;  // --property NAME=VALUE, both modes
};

// Fills `flags` from the command line; --help, a bad value or a missing --bootstrap ends the
// process (exit 0 for --help, 2 otherwise).
void parse(int argc, char** argv, Flags* flags) {
  CLI::App app{
      "kafka_txn_bench: what a Kafka transaction per group of writes costs against "
      "plain idempotent acks=all produces (scripts/bench-kafka runs it)."};
  app.add_option("--bootstrap", flags->bootstrap, "broker address HOST:PORT")->required();
  app.add_option("--rounds", flags->rounds, "groups of writes per run")
      ->check(CLI::Range(1, std::numeric_limits<int>::max()))
      ->capture_default_str();
  app.add_option("--batch", flags->batch, "writes per group (one transaction each)")
      ->check(CLI::Range(1, std::numeric_limits<int>::max()))
      ->capture_default_str();
  app.add_option("--runs", flags->runs, "recorded runs per mode")
      ->check(CLI::Range(1, std::numeric_limits<int>::max()))
      ->capture_default_str();
  app.add_option("--partitions", flags->partitions, "partitions of the topic")
      ->check(CLI::Range(1, std::numeric_limits<int>::max()))
      ->capture_default_str();
  std::vector<std::string> properties;
  app.add_option("--property", properties, "librdkafka NAME=VALUE for both producers (repeat)")
      ->check([](const std::string& kv) {
        return kv.find('=') == std::string::npos || kv.front() == '=' ? "expected NAME=VALUE" : "";
      });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e) == 0 ? 0 : 2);
  }
  for (const std::string& kv : properties) {
    flags->properties.emplace_back(kv.substr(0, kv.find('=')), kv.substr(kv.find('=') + 1));
  }
}

void die(const std::string& what) {
  std::fprintf(stderr, "kafka_txn_bench: %s\n", what.c_str());
  std::exit(1);
}

void check(rd_kafka_error_t* error, const char* call) {
  if (error == nullptr) return;
  const std::string text = rd_kafka_error_string(error);
  rd_kafka_error_destroy(error);
  die(std::string(call) + ": " + text);
}

int failed_deliveries = 0;  // from the delivery callback (this thread, inside poll/flush)

rd_kafka_t* new_producer(const Flags& flags, bool transactional) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  auto set = [&](const char* name, const std::string& value) {
    if (rd_kafka_conf_set(conf, name, value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
      die(std::string(name) + ": " + error);
    }
  };
  // KafkaLog's producer settings (kafka_log.cc).
  set("bootstrap.servers", flags.bootstrap);
  set("enable.idempotence", "true");
  set("acks", "all");
  set("linger.ms", "1");
  set("socket.nagle.disable", "true");
  if (transactional) set("transactional.id", "meridian.txnbench");
  for (const auto& [name, value] : flags.properties) set(name.c_str(), value);
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) ++failed_deliveries;
  });
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (producer == nullptr) die(std::string("rd_kafka_new: ") + error);
  if (transactional) check(rd_kafka_init_transactions(producer, 30'000), "init_transactions");
  return producer;
}

struct RunResult {
  double p50_ms = 0;
  double p99_ms = 0;
  double records_per_s = 0;
};

RunResult run(rd_kafka_t* producer, bool transactional, const Flags& flags,
              const std::string& value, int* next_partition) {
  using Clock = std::chrono::steady_clock;
  std::vector<double> latencies_ms;
  const Clock::time_point start = Clock::now();
  for (int round = 0; round < flags.rounds; ++round) {
    const Clock::time_point begin = Clock::now();
    if (transactional) check(rd_kafka_begin_transaction(producer), "begin_transaction");
    for (int i = 0; i < flags.batch; ++i) {
      const int32_t partition = (*next_partition)++ % flags.partitions;
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          producer, RD_KAFKA_V_TOPIC(flags.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) die(std::string("produce: ") + rd_kafka_err2str(err));
    }
    if (transactional) {
      check(rd_kafka_commit_transaction(producer, -1), "commit_transaction");
    } else if (rd_kafka_flush(producer, 30'000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      die("flush timed out");
    }
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - begin).count());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (failed_deliveries != 0) die(std::to_string(failed_deliveries) + " deliveries failed");
  std::sort(latencies_ms.begin(), latencies_ms.end());
  RunResult r;
  r.p50_ms = latencies_ms[latencies_ms.size() / 2];
  r.p99_ms = latencies_ms[std::min(latencies_ms.size() - 1, latencies_ms.size() * 99 / 100)];
  r.records_per_s = double(flags.rounds) * flags.batch / seconds;
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main_(int argc, char** argv) {
  Flags flags;
  parse(argc, argv, &flags);
  KafkaLogOptions admin;
  admin.bootstrap_servers = flags.bootstrap;
  admin.client_id = "txnbench";
  if (Status created = create_topics(admin, {{flags.topic, flags.partitions}}); !created.is_ok()) {
    die(created.to_string());
  }
  const std::string value(size_t(flags.value_bytes), 'v');
  rd_kafka_t* plain = new_producer(flags, /*transactional=*/false);
  rd_kafka_t* txn = new_producer(flags, /*transactional=*/true);
  int next_partition = 0;
  Flags warmup = flags;
  warmup.rounds = std::max(1, flags.rounds / 10);
  run(plain, false, warmup, value, &next_partition);  // connections, metadata, JIT
  run(txn, true, warmup, value, &next_partition);
  std::printf("%d rounds of %d record(s) of %d bytes over %d partitions, per run\n", flags.rounds,
              flags.batch, flags.value_bytes, flags.partitions);
  std::vector<double> p50[2], p99[2], rate[2];
  for (int r = 0; r < flags.runs; ++r) {
    for (int transactional = 0; transactional < 2; ++transactional) {
      const RunResult result =
          run(transactional ? txn : plain, transactional != 0, flags, value, &next_partition);
      std::printf("run %d %-5s p50 %.2f ms  p99 %.2f ms  %.0f records/s\n", r + 1,
                  transactional ? "txn" : "plain", result.p50_ms, result.p99_ms,
                  result.records_per_s);
      p50[transactional].push_back(result.p50_ms);
      p99[transactional].push_back(result.p99_ms);
      rate[transactional].push_back(result.records_per_s);
    }
  }
  for (int transactional = 0; transactional < 2; ++transactional) {
    std::printf(
        "RESULT mode=%s batch=%d median_p50_ms=%.2f median_p99_ms=%.2f "
        "median_records_per_s=%.0f runs=%d\n",
        transactional ? "txn" : "plain", flags.batch, median(p50[transactional]),
        median(p99[transactional]), median(rate[transactional]), flags.runs);
  }
  rd_kafka_destroy(txn);
  rd_kafka_destroy(plain);
  return 0;
}

}  // namespace
}  // namespace meridian::real

int main(int argc, char** argv) { return meridian::real::main_(argc, argv); }
