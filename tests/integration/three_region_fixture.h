// The three-region deployment shared by the cases of the three_region_itest executable
// (three_region_itest.cc: cases 1-5, segment_recovery_itest.cc: case 6; one gtest suite, so
// the deployment starts once for all of them; docs/integration-tests.md).
//
// Three single-broker KRaft clusters "a", "b", "c" and one MirrorMaker 2 process with all six
// flows (scripts/kafka, through engine/real/kafka/kafka_test_cluster.h), and three
// `meridian-node` processes (the real binary, log kind kafka, mTLS certificates from
// tests/gen_certs.sh, checkpoints in a data_dir). Node c reads region a's records directly
// from a's cluster (regions[i].kafka), the five other flows come through MirrorMaker 2. `g` is the
// deployment; the helpers below call its nodes with the cluster client's certificate. Every
// acknowledged write a case makes through tracked_upsert() is recorded and checked by
// check_writes() / expect_everything_converges().
//
// Environment: MERIDIAN_KEEP_KAFKA_DIRS=1 keeps the work directory (node configs, stdout/stderr
// logs, data dirs, certificates) and the brokers' and MirrorMaker's directories; MERIDIAN_NODE
// overrides the meridian-node binary; MERIDIAN_ITEST_NO_DATA_DIR=1 runs the nodes without
// checkpoints (restarts replay the logs from offset 0).
// The summary is also written to three_region_itest-figures.txt in the working directory
// (MERIDIAN_ITEST_FIGURES=FILE names another): ctest hides a passing test's output.
#pragma once

#include <fcntl.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/real/api/grpc_client.h"
#include "engine/real/api/tls.h"
#include "engine/real/kafka/kafka_test_cluster.h"

namespace meridian::itest {

using namespace std::chrono_literals;
using real::api::TlsPem;
using real::testing::TestBroker;
using real::testing::TestMirror;
using Clock = std::chrono::steady_clock;

constexpr int kRegions = 3;
const char* const kNames[kRegions] = {"a", "b", "c"};
constexpr int kDimension = 4;
constexpr int kShards = 4;

double seconds_since(Clock::time_point start);
// "[itest] ..." lines: the figures CI logs show.
void report(const char* format, ...) __attribute__((format(printf, 1, 2)));
bool keep_dirs();
std::string read_text(const std::string& path);

// ---- a meridian-node child process ----

class NodeProcess {
 public:
  NodeProcess(std::string binary, std::string config, std::string out, std::string err)
      : binary_(std::move(binary)),
        config_(std::move(config)),
        out_(std::move(out)),
        err_(std::move(err)) {}
  ~NodeProcess() { kill_now(); }

  bool running() const { return pid_ > 0; }
  const std::string& err_path() const { return err_; }

  // Starts the binary; it dies with this process (PR_SET_PDEATHSIG), so a crashed or timed-out
  // test leaves no node behind.
  void start() {
    out_offset_ = std::filesystem::exists(out_) ? std::filesystem::file_size(out_) : 0;
    const std::string banner = "== start " + config_ + "\n";
    { std::ofstream(err_, std::ios::app) << banner; }
    const pid_t parent = getpid();
    std::vector<char*> argv = {binary_.data(), const_cast<char*>("--config"), config_.data(),
                               nullptr};
    const pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      const int out = open(out_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      const int err = open(err_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (out < 0 || err < 0) _exit(127);
      dup2(out, 1);
      dup2(err, 2);
      execv(argv[0], argv.data());
      _exit(127);
    }
    ASSERT_GT(pid, 0) << "fork failed";
    pid_ = pid;
  }

  // Waits for the "ready" line; returns the line, or "" if the node exited or timed out.
  std::string wait_ready(std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      std::string text = read_text(out_);
      if (text.size() > out_offset_) {
        const size_t at = text.find("meridian-node: ready", out_offset_);
        if (at != std::string::npos) return text.substr(at, text.find('\n', at) - at);
      }
      if (reap(false)) return "";
      std::this_thread::sleep_for(50ms);
    }
    return "";
  }

  // SIGTERM and wait (at most `timeout`, then SIGKILL); the exit status (-signal if killed).
  int terminate(std::chrono::seconds timeout) {
    if (pid_ <= 0) return exit_status_;
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (reap(false)) return exit_status_;
      std::this_thread::sleep_for(20ms);
    }
    kill_now();
    return exit_status_;
  }

  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    reap(true);
  }

  int exit_status() const { return exit_status_; }

 private:
  bool reap(bool block) {
    if (pid_ <= 0) return true;
    int status = 0;
    const pid_t r = waitpid(pid_, &status, block ? 0 : WNOHANG);
    if (r != pid_) return false;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    pid_ = -1;
    return true;
  }

  std::string binary_, config_, out_, err_;
  pid_t pid_ = -1;
  int exit_status_ = 0;
  uintmax_t out_offset_ = 0;
};

// ---- the deployment ----

struct Region {
  std::string name;
  int id = 0;
  std::unique_ptr<TestBroker> broker;
  bool broker_up = false;
  int grpc_port = 0, http_port = 0;
  std::string grpc_address;
  std::string dir;  // config, logs, data_dir
  std::unique_ptr<NodeProcess> node;
  std::unique_ptr<v1::Meridian::Stub> stub;
};

// A write this suite saw acknowledged (status OK): it must be in every region in the end.
struct Acked {
  std::string id;
  std::vector<float> embedding;
  std::string value;  // payload field "w"
  uint64_t timestamp = 0;
  uint32_t origin = 0;
};

class Deployment {
 public:
  std::string work;  // our directory: certs, node configs and logs, data dirs
  TlsPem client_pem;
  std::string node_binary;
  Region regions[kRegions];
  std::unique_ptr<TestMirror> mirror;
  double setup_seconds = 0;
  std::vector<std::string> figures;  // summary lines printed at the end

  std::mutex acked_mu;
  std::map<std::string, Acked> acked;  // id -> the acknowledged write (unique ids)
  std::set<std::string> unacked;       // writes that failed: may or may not be visible
  std::set<std::string> conflict_ids;  // ids written concurrently (LWW checked separately)

  void record_acked(Acked a) {
    std::lock_guard lock(acked_mu);
    acked[a.id] = std::move(a);
  }
  void record_unacked(const std::string& id) {
    std::lock_guard lock(acked_mu);
    unacked.insert(id);
  }

  std::string config_path(int r) const { return regions[r].dir + "/node.yaml"; }
  // Node c reads region a's log straight from a's cluster (regions[i].kafka), every other flow
  // goes through MirrorMaker 2: every case runs over both ways of replicating.
  static bool reads_directly(int r, const Region& origin) {
    return kNames[r] == std::string("c") && origin.name == "a";
  }

  void write_config(int r, bool fresh) {
    Region& region = regions[r];
    std::ofstream y(config_path(r));
    y << "region: {name: " << region.name << ", id: " << region.id << "}\n";
    y << "regions:\n";
    for (const Region& other : regions) {
      y << "  - {name: " << other.name << ", id: " << other.id << ", grpc: " << other.grpc_address;
      if (reads_directly(r, other)) y << ", kafka: \"" << other.broker->bootstrap() << "\"";
      y << "}\n";
    }
    y << "log: {kind: kafka, bootstrap_servers: \"" << region.broker->bootstrap() << "\"}\n";
    y << "tls: {ca: " << work << "/certs/ca.pem, cert: " << work << "/certs/node.pem, key: " << work
      << "/certs/node.key}\n";
    y << "listen: {grpc: " << region.grpc_address << ", http: 127.0.0.1:" << region.http_port
      << "}\n";
    y << "collections:\n";
    y << "  - {name: docs, dimension: " << kDimension
      << ", metric: l2, index: flat, shards: " << kShards << "}\n";
    const char* no_data = std::getenv("MERIDIAN_ITEST_NO_DATA_DIR");
    if (no_data == nullptr || std::string(no_data) != "1")
      y << "data_dir: " << region.dir << "/data\n";
    y << "engine: {fresh_deployment: " << (fresh ? "true" : "false") << "}\n";
  }

  // Starts region r's node and waits until it prints "ready".
  ::testing::AssertionResult start_node(int r, bool fresh) {
    Region& region = regions[r];
    write_config(r, fresh);
    if (!region.node) {
      region.node = std::make_unique<NodeProcess>(
          node_binary, config_path(r), region.dir + "/node.out", region.dir + "/node.err");
    }
    for (int attempt = 1;; ++attempt) {
      const uintmax_t err_offset = std::filesystem::exists(region.node->err_path())
                                       ? std::filesystem::file_size(region.node->err_path())
                                       : 0;
      region.node->start();
      std::string ready = region.node->wait_ready(90s);
      if (!ready.empty()) return ::testing::AssertionSuccess() << ready;
      const int status = region.node->exit_status();
      region.node->kill_now();
      const std::string err = read_text(region.node->err_path()).substr(err_offset);
      // KNOWN ISSUE (reported, not hidden): meridian-node exits 1 at start when the broker
      // answers the end-offset query of a topic it has just created with NOT_LEADER
      // (KafkaLog::load_end_offsets gives up on that retriable error at once). Retried here,
      // and every retry is listed in the summary.
      if (status == 1 && err.find("Not leader for partition") != std::string::npos &&
          attempt < 10) {
        std::string line = "KNOWN ISSUE: node " + region.name + " start attempt " +
                           std::to_string(attempt) + " failed (exit 1), retrying: " +
                           err.substr(std::min(err.find("meridian-node: log:"), err.size()));
        while (!line.empty() && line.back() == '\n') line.pop_back();
        report("%s", line.c_str());
        figures.push_back(line);
        std::this_thread::sleep_for(500ms);  // retry backoff
        continue;
      }
      return ::testing::AssertionFailure()
             << "node " << region.name << " not ready (exit " << status << "); stderr:\n"
             << err;
    }
  }

  std::shared_ptr<grpc::Channel> channel(int r) const {
    grpc::ChannelArguments args;
    // Reconnect quickly after a node comes back (gRPC's default backoff grows to 120 s).
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    return grpc::CreateCustomChannel(regions[r].grpc_address,
                                     real::api::channel_credentials(client_pem), args);
  }
};

extern Deployment* g;  // set up once for every case (ThreeRegions::SetUpTestSuite)

// ---- RPC helpers (deadlines are per call) ----

void set_deadline(grpc::ClientContext* context, std::chrono::milliseconds timeout);
// Distinct points so that an exact query finds its own vector first.
std::vector<float> embedding_for(uint64_t n);
v1::UpsertRequest upsert_request(const std::string& id, const std::vector<float>& embedding,
                                 const std::string& value);
grpc::Status upsert(int r, const v1::UpsertRequest& up, v1::WriteResponse* out,
                    std::chrono::milliseconds timeout = 20s);
// An upsert of a fresh id with a tracked outcome.
grpc::Status tracked_upsert(int r, const std::string& id, uint64_t n,
                            std::chrono::milliseconds timeout = 20s,
                            v1::WriteResponse* response = nullptr);
grpc::Status get(int r, const std::string& id, v1::GetResponse* out,
                 std::chrono::milliseconds timeout = 10s);
grpc::Status search(int r, const std::vector<float>& query, uint32_t k, v1::SearchResponse* out,
                    v1::Consistency consistency = v1::CONSISTENCY_EVENTUAL,
                    const v1::SessionToken* session = nullptr,
                    std::chrono::milliseconds timeout = 10s);
grpc::Status node_status(int r, v1::NodeStatusResponse* out,
                         std::chrono::milliseconds timeout = 5s);
bool has_hit(const v1::SearchResponse& response, const std::string& id);
// The state Get shows, as one comparable string.
std::string describe(const v1::GetResponse& got);
bool matches(const v1::GetResponse& got, const Acked& want);

// Per (shard, origin): frontier and max_sequence as region r sees them.
struct Progress {
  std::map<std::pair<uint32_t, uint32_t>, std::pair<uint64_t, uint64_t>> seq;
  uint64_t backlog = 0;
  uint64_t live = 0;
  bool recovered = false;
  uint64_t max_staleness_ms = 0;
};

std::optional<Progress> progress(int r);
// Every region has applied the same sequences of every origin, without gaps or backlog.
bool converged(std::string* why);
// Polls until converged; the seconds it took, or -1 (and `why`) after `timeout`.
double wait_converged(std::chrono::seconds timeout, std::string* why);
// Every acknowledged write is in every region with its content; every unacknowledged one is
// either absent everywhere or identical everywhere. Returns the problems (empty: all good).
std::vector<std::string> check_writes(size_t* checked, size_t* unacked_visible);
std::string join(const std::vector<std::string>& lines, size_t max = 20);

// Joins threads when a case returns early (a failed ASSERT), before they are destroyed.
struct JoinAll {
  std::vector<std::thread>& threads;
  std::function<void()> before = [] {};
  ~JoinAll() {
    before();
    for (std::thread& t : threads) {
      if (t.joinable()) t.join();
    }
  }
};

// A new unique id ("<prefix>-<n>"); g_next_id is the next n (cases also use it for embeddings).
extern std::atomic<uint64_t> g_next_id;
std::string fresh_id(const std::string& prefix);

// ---- the suite ----

class ThreeRegions : public ::testing::Test {
 public:
  // Starts the deployment (brokers, MirrorMaker 2, nodes) and waits until every region hears
  // every other's heartbeats; tears it all down at the end (nodes SIGTERM, must exit 0).
  static void SetUpTestSuite();
  static void TearDownTestSuite();

 protected:
  // Every case starts on a healthy deployment: whatever an earlier (failed) case left down is
  // restarted, and the regions have converged.
  void SetUp() override;
  // Prints and records the case's duration.
  void TearDown() override;
  // Polls until every region has converged and every tracked write checks out.
  void expect_everything_converges(const char* what);

  Clock::time_point case_start_;
};

}  // namespace meridian::itest
