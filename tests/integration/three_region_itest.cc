// Three regions on real Kafka (ctest three_region_itest, label `integration`;
// docs/integration-tests.md).
//
// The deployment starts once for every case: three single-broker KRaft clusters "a", "b", "c"
// and one MirrorMaker 2 process with all six flows (scripts/kafka, through
// engine/real/kafka/kafka_test_cluster.h), and three `meridian-node` processes (the real binary,
// log kind kafka, mTLS certificates from tests/gen_certs.sh, checkpoints in a data_dir). Cases,
// in order (each one can also run alone with --gtest_filter='*Case3*'):
//   1. an upsert in one region is found by eventual searches in the other two; concurrent
//      updates of the same ids in the three regions converge to the same (LWW) winner everywhere;
//   2. read-your-writes: a session search right after an upsert in the same region sees it;
//   3. broker of region c killed: a and b keep serving reads and writes, c's reads report stale
//      with growing staleness, c's writes fail UNAVAILABLE (never acknowledged); after the broker
//      restarts everything converges and no acknowledged write is missing anywhere;
//   4. disaster-recovery drill: region b (broker + node) killed under a failover client load in
//      every region; error rate < 5 %; b restarted on the same data catches up and converges;
//   5. a client without a certificate (or with another CA's) is refused by a node.
// Every acknowledged write of every case is tracked and checked with Get in every region.
// Figures (setup time, durations, DR error rate, catch-up time) are printed as "[itest] ..." lines.
//
// Environment: MERIDIAN_KEEP_KAFKA_DIRS=1 keeps the work directory (node configs, stdout/stderr
// logs, data dirs, certificates) and the brokers' and MirrorMaker's directories; MERIDIAN_NODE
// overrides the meridian-node binary; MERIDIAN_ITEST_NO_DATA_DIR=1 runs the nodes without
// checkpoints (restarts replay the logs from offset 0).
// The summary is also written to three_region_itest-figures.txt in the working directory
// (MERIDIAN_ITEST_FIGURES=FILE names another): ctest hides a passing test's output.
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
namespace {

using namespace std::chrono_literals;
using real::api::TlsPem;
using real::testing::TestBroker;
using real::testing::TestMirror;
using Clock = std::chrono::steady_clock;

constexpr int kRegions = 3;
const char* const kNames[kRegions] = {"a", "b", "c"};
constexpr int kDimension = 4;
constexpr int kShards = 4;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// "[itest] ..." lines: the figures CI logs show.
void report(const char* format, ...) __attribute__((format(printf, 1, 2)));
void report(const char* format, ...) {
  std::printf("[itest] ");
  va_list args;
  va_start(args, format);
  std::vprintf(format, args);
  va_end(args);
  std::printf("\n");
  std::fflush(stdout);
}

bool keep_dirs() {
  const char* keep = std::getenv("MERIDIAN_KEEP_KAFKA_DIRS");
  return keep != nullptr && std::string(keep) == "1";
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

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

  void write_config(int r, bool fresh) {
    Region& region = regions[r];
    std::ofstream y(config_path(r));
    y << "region: {name: " << region.name << ", id: " << region.id << "}\n";
    y << "regions:\n";
    for (const Region& other : regions) {
      y << "  - {name: " << other.name << ", id: " << other.id << ", grpc: " << other.grpc_address
        << "}\n";
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

Deployment* g = nullptr;  // set up once for every case (Suite::SetUpTestSuite)

// ---- RPC helpers ----

void set_deadline(grpc::ClientContext* context, std::chrono::milliseconds timeout) {
  context->set_deadline(std::chrono::system_clock::now() + timeout);
}

std::vector<float> embedding_for(uint64_t n) {
  // Distinct points so that an exact query finds its own vector first.
  return {float(n % 1000) + 0.5f, float((n / 1000) % 1000), float(n % 7), 1.0f};
}

v1::UpsertRequest upsert_request(const std::string& id, const std::vector<float>& embedding,
                                 const std::string& value) {
  v1::UpsertRequest up;
  up.set_collection("docs");
  up.set_id(id);
  for (float x : embedding) up.add_embedding(x);
  (*up.mutable_payload()->mutable_fields())["w"] = value;
  up.mutable_payload()->add_tags("itest");
  return up;
}

grpc::Status upsert(int r, const v1::UpsertRequest& up, v1::WriteResponse* out,
                    std::chrono::milliseconds timeout = 20s) {
  grpc::ClientContext context;
  set_deadline(&context, timeout);
  return g->regions[r].stub->Upsert(&context, up, out);
}

// An upsert of a fresh id with a tracked outcome.
grpc::Status tracked_upsert(int r, const std::string& id, uint64_t n,
                            std::chrono::milliseconds timeout = 20s,
                            v1::WriteResponse* response = nullptr) {
  const std::vector<float> e = embedding_for(n);
  const std::string value = id + "@" + kNames[r];
  v1::WriteResponse written;
  grpc::Status s = upsert(r, upsert_request(id, e, value), &written, timeout);
  if (s.ok()) {
    g->record_acked({id, e, value, written.timestamp(), written.origin()});
  } else {
    g->record_unacked(id);
  }
  if (response != nullptr) *response = written;
  return s;
}

grpc::Status get(int r, const std::string& id, v1::GetResponse* out,
                 std::chrono::milliseconds timeout = 10s) {
  v1::GetRequest request;
  request.set_collection("docs");
  request.set_id(id);
  grpc::ClientContext context;
  set_deadline(&context, timeout);
  return g->regions[r].stub->Get(&context, request, out);
}

grpc::Status search(int r, const std::vector<float>& query, uint32_t k, v1::SearchResponse* out,
                    v1::Consistency consistency = v1::CONSISTENCY_EVENTUAL,
                    const v1::SessionToken* session = nullptr,
                    std::chrono::milliseconds timeout = 10s) {
  v1::SearchRequest request;
  request.set_collection("docs");
  for (float x : query) request.add_query(x);
  request.set_k(k);
  request.set_consistency(consistency);
  if (session != nullptr) *request.mutable_session() = *session;
  grpc::ClientContext context;
  set_deadline(&context, timeout);
  return g->regions[r].stub->Search(&context, request, out);
}

grpc::Status node_status(int r, v1::NodeStatusResponse* out,
                         std::chrono::milliseconds timeout = 5s) {
  grpc::ClientContext context;
  set_deadline(&context, timeout);
  return g->regions[r].stub->NodeStatus(&context, v1::NodeStatusRequest{}, out);
}

bool has_hit(const v1::SearchResponse& response, const std::string& id) {
  for (const v1::SearchHit& hit : response.hits()) {
    if (hit.id() == id) return true;
  }
  return false;
}

// The state Get shows, as one comparable string.
std::string describe(const v1::GetResponse& got) {
  std::ostringstream s;
  s << got.id() << " [";
  for (float x : got.embedding()) s << x << ",";
  s << "] {";
  std::map<std::string, std::string> fields(got.payload().fields().begin(),
                                            got.payload().fields().end());
  for (const auto& [k, v] : fields) s << k << "=" << v << ",";
  std::vector<std::string> tags(got.payload().tags().begin(), got.payload().tags().end());
  std::sort(tags.begin(), tags.end());
  s << "} tags=";
  for (const std::string& t : tags) s << t << ",";
  s << " ts=" << got.timestamp() << " origin=" << got.origin();
  return s.str();
}

bool matches(const v1::GetResponse& got, const Acked& want) {
  if (got.embedding_size() != int(want.embedding.size())) return false;
  for (int i = 0; i < got.embedding_size(); ++i) {
    if (got.embedding(i) != want.embedding[i]) return false;
  }
  auto field = got.payload().fields().find("w");
  return field != got.payload().fields().end() && field->second == want.value &&
         got.timestamp() == want.timestamp && got.origin() == want.origin;
}

// Per (shard, origin): frontier and max_sequence as region r sees them.
struct Progress {
  std::map<std::pair<uint32_t, uint32_t>, std::pair<uint64_t, uint64_t>> seq;
  uint64_t backlog = 0;
  uint64_t live = 0;
  bool recovered = false;
  uint64_t max_staleness_ms = 0;
};

std::optional<Progress> progress(int r) {
  v1::NodeStatusResponse status;
  if (!node_status(r, &status).ok() || status.collections_size() != 1) return std::nullopt;
  Progress p;
  p.recovered = status.recovered();
  p.max_staleness_ms = status.max_staleness_ms();
  p.live = status.collections(0).live_vectors();
  for (const v1::ShardStatus& shard : status.collections(0).shards()) {
    for (const v1::OriginProgress& o : shard.origins()) {
      p.seq[{shard.shard(), o.origin()}] = {o.frontier(), o.max_sequence()};
      p.backlog += o.backlog();
    }
  }
  return p;
}

// Every region has applied the same sequences of every origin, without gaps or backlog.
bool converged(std::string* why) {
  std::optional<Progress> p[kRegions];
  for (int r = 0; r < kRegions; ++r) {
    p[r] = progress(r);
    if (!p[r]) {
      *why = std::string("NodeStatus of ") + kNames[r] + " failed";
      return false;
    }
    if (!p[r]->recovered) {
      *why = std::string(kNames[r]) + " not recovered";
      return false;
    }
    if (p[r]->backlog != 0) {
      *why = std::string(kNames[r]) + " backlog " + std::to_string(p[r]->backlog);
      return false;
    }
  }
  for (int r = 1; r < kRegions; ++r) {
    if (p[r]->seq != p[0]->seq || p[r]->live != p[0]->live) {
      std::ostringstream s;
      s << "a and " << kNames[r] << " differ: live " << p[0]->live << " vs " << p[r]->live;
      for (const auto& [key, v] : p[0]->seq) {
        auto other = p[r]->seq.find(key);
        if (other == p[r]->seq.end() || other->second != v) {
          s << "; shard " << key.first << " origin " << key.second << ": " << v.first << "/"
            << v.second << " vs "
            << (other == p[r]->seq.end() ? "-" : std::to_string(other->second.first));
        }
      }
      *why = s.str();
      return false;
    }
  }
  for (const auto& [key, v] : p[0]->seq) {
    if (v.first != v.second) {
      *why = "gap: shard " + std::to_string(key.first) + " origin " + std::to_string(key.second);
      return false;
    }
  }
  return true;
}

// Polls until converged; the seconds it took, or -1 (and `why`) after `timeout`.
double wait_converged(std::chrono::seconds timeout, std::string* why) {
  const auto start = Clock::now();
  while (Clock::now() - start < timeout) {
    if (converged(why)) return seconds_since(start);
    std::this_thread::sleep_for(100ms);
  }
  return -1;
}

// Every acknowledged write is in every region with its content; every unacknowledged one is
// either absent everywhere or identical everywhere. Returns the problems (empty: all good).
std::vector<std::string> check_writes(size_t* checked, size_t* unacked_visible) {
  std::map<std::string, Acked> acked;
  std::set<std::string> unacked;
  {
    std::lock_guard lock(g->acked_mu);
    acked = g->acked;
    unacked = g->unacked;
  }
  std::vector<std::string> problems;
  for (const auto& [id, want] : acked) {
    for (int r = 0; r < kRegions; ++r) {
      v1::GetResponse got;
      grpc::Status s = get(r, id, &got);
      if (!s.ok()) {
        problems.push_back("acked " + id + " in " + kNames[r] + ": " + s.error_message());
      } else if (!matches(got, want)) {
        problems.push_back("acked " + id + " in " + kNames[r] + ": " + describe(got));
      }
    }
  }
  *checked = acked.size();
  *unacked_visible = 0;
  for (const std::string& id : unacked) {
    if (acked.count(id) != 0) continue;  // retried and acknowledged later
    std::string seen[kRegions];
    for (int r = 0; r < kRegions; ++r) {
      v1::GetResponse got;
      grpc::Status s = get(r, id, &got);
      seen[r] =
          s.ok() ? describe(got)
                 : (s.error_code() == grpc::StatusCode::NOT_FOUND ? "absent" : s.error_message());
    }
    if (seen[0] != "absent") ++*unacked_visible;
    if (seen[1] != seen[0] || seen[2] != seen[0]) {
      problems.push_back("unacked " + id + " differs: a=" + seen[0] + " b=" + seen[1] +
                         " c=" + seen[2]);
    }
  }
  return problems;
}

std::string join(const std::vector<std::string>& lines, size_t max = 20) {
  std::string out;
  for (size_t i = 0; i < lines.size() && i < max; ++i) out += lines[i] + "\n";
  if (lines.size() > max) out += "... (" + std::to_string(lines.size()) + " in all)\n";
  return out;
}

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

std::atomic<uint64_t> g_next_id{1};
std::string fresh_id(const std::string& prefix) {
  return prefix + "-" + std::to_string(g_next_id.fetch_add(1));
}

// ---- the suite ----

class ThreeRegions : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    g = new Deployment;
    const auto start = Clock::now();
    // scripts/kafka waits at most 60 s for a broker or MirrorMaker 2 to start; on the shared
    // 2-core machine under load MirrorMaker 2 alone has taken 58 s. Unless told otherwise:
    setenv("MERIDIAN_KAFKA_START_TIMEOUT", "180", /*overwrite=*/0);
    char tmpl[] = "/tmp/meridian-3r-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    g->work = tmpl;
    report("work dir %s", g->work.c_str());
    const char* binary = std::getenv("MERIDIAN_NODE");
    g->node_binary = binary != nullptr && *binary ? binary : MERIDIAN_NODE_BINARY;
    ASSERT_EQ(std::system((std::string(MERIDIAN_GEN_CERTS) + " " + g->work + "/certs").c_str()), 0);
    Result<TlsPem> pem = real::api::load_tls(
        {g->work + "/certs/ca.pem", g->work + "/certs/client.pem", g->work + "/certs/client.key"});
    ASSERT_TRUE(pem.is_ok()) << pem.status().to_string();
    g->client_pem = *pem;

    for (int r = 0; r < kRegions; ++r) {
      Region& region = g->regions[r];
      region.name = kNames[r];
      region.id = r + 1;
      region.grpc_port = real::testing::free_port();
      region.http_port = real::testing::free_port();
      region.grpc_address = "127.0.0.1:" + std::to_string(region.grpc_port);
      region.dir = g->work + "/" + region.name;
      std::filesystem::create_directories(region.dir);
    }

    // Three brokers at once (each start is ~2 s of JVM start-up).
    std::string errors[kRegions];
    {
      std::vector<std::thread> starting;
      for (int r = 0; r < kRegions; ++r) {
        starting.emplace_back([r, &errors] {
          auto broker = TestBroker::start(kNames[r]);
          if (broker.is_ok()) {
            g->regions[r].broker = std::move(broker).value();
          } else {
            errors[r] = broker.status().to_string();
          }
        });
      }
      for (std::thread& t : starting) t.join();
    }
    for (int r = 0; r < kRegions; ++r) {
      ASSERT_TRUE(errors[r].empty()) << "broker " << kNames[r] << ": " << errors[r];
      g->regions[r].broker_up = true;
      report("broker %s at %s, dir %s", kNames[r], g->regions[r].broker->bootstrap().c_str(),
             g->regions[r].broker->dir().c_str());
    }
    const double brokers_s = seconds_since(start);

    // MirrorMaker 2 (all six flows) in the background while the nodes start: it is the slow
    // part (~10-16 s to start, and the first records cross ~10 s later).
    std::string mirror_error;
    double mirror_s = 0;
    std::thread mirror_thread([&] {
      const auto t = Clock::now();
      std::vector<std::pair<std::string, std::string>> clusters;
      for (const Region& region : g->regions) {
        clusters.emplace_back(region.name, region.broker->bootstrap());
      }
      auto mirror = TestMirror::start(clusters);
      if (mirror.is_ok()) {
        g->mirror = std::move(mirror).value();
      } else {
        mirror_error = mirror.status().to_string();
      }
      mirror_s = seconds_since(t);
    });

    const auto nodes_start = Clock::now();
    bool nodes_ok = true;
    for (int r = 0; r < kRegions; ++r) {
      ::testing::AssertionResult started = g->start_node(r, /*fresh=*/true);
      EXPECT_TRUE(started);
      nodes_ok = nodes_ok && started;
      if (started) report("%s", started.message());
      g->regions[r].stub = v1::Meridian::NewStub(g->channel(r));
    }
    const double nodes_s = seconds_since(nodes_start);
    mirror_thread.join();
    ASSERT_TRUE(nodes_ok);
    ASSERT_TRUE(mirror_error.empty()) << mirror_error;
    report("MirrorMaker 2 dir %s", g->mirror->dir().c_str());

    // Ready when every region hears every other region's heartbeats through the mirror.
    const auto mirrored_start = Clock::now();
    bool heard = false;
    std::string why;
    while (!heard && Clock::now() - mirrored_start < 120s) {
      heard = true;
      for (int r = 0; r < kRegions && heard; ++r) {
        std::optional<Progress> p = progress(r);
        heard = p && p->max_staleness_ms < 2000;
        if (!heard)
          why = std::string(kNames[r]) + " max_staleness_ms " +
                (p ? std::to_string(p->max_staleness_ms) : "?");
      }
      if (!heard) std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(heard) << "regions never heard each other through MirrorMaker 2: " << why;
    g->setup_seconds = seconds_since(start);
    char line[300];
    std::snprintf(line, sizeof line,
                  "setup %.1f s (3 brokers in parallel %.1f s, MirrorMaker 2 start %.1f s, 3 "
                  "nodes %.1f s, first heartbeats mirrored everywhere %.1f s after MM2 ready)",
                  g->setup_seconds, brokers_s, mirror_s, nodes_s, seconds_since(mirrored_start));
    report("%s", line);
    g->figures.push_back(line);
  }

  static void TearDownTestSuite() {
    if (g == nullptr) return;
    for (const std::string& line : g->figures) report("summary: %s", line.c_str());
    {
      // ctest --output-on-failure hides a passing test's stdout: the figures also go to a file
      // (in ctest's working directory, build/tests/integration/, unless MERIDIAN_ITEST_FIGURES
      // names another).
      const char* path = std::getenv("MERIDIAN_ITEST_FIGURES");
      const std::string file =
          path != nullptr && *path ? path : std::string("three_region_itest-figures.txt");
      std::ofstream out(file);
      for (const std::string& line : g->figures) out << line << "\n";
      report("figures written to %s", std::filesystem::absolute(file).c_str());
    }
    const auto start = Clock::now();
    for (Region& region : g->regions) {
      if (region.node && region.node->running()) {
        const auto t = Clock::now();
        const int status = region.node->terminate(15s);
        report("node %s: SIGTERM -> exit %d in %.1f s", region.name.c_str(), status,
               seconds_since(t));
        if (status != 0) {
          ADD_FAILURE() << "node " << region.name << " exit status " << status << " on SIGTERM";
        }
      }
    }
    for (Region& region : g->regions) region.stub.reset();
    const auto kafka_stop = Clock::now();
    // Nothing of the Kafka side needs a clean shutdown now: SIGKILL (a clean stop of
    // MirrorMaker 2 and three brokers took ~20 s here).
    if (g->mirror) (void)real::testing::run_kafka_script({"mm2", "kill", g->mirror->dir()});
    g->mirror.reset();
    {
      std::vector<std::thread> stopping;
      for (Region& region : g->regions) {
        stopping.emplace_back([&region] {
          if (region.broker) (void)region.broker->kill();
          region.broker.reset();
        });
      }
      for (std::thread& t : stopping) t.join();
    }
    report("MirrorMaker 2 and brokers killed in %.1f s", seconds_since(kafka_stop));
    report("teardown %.1f s", seconds_since(start));
    if (keep_dirs()) {
      std::fprintf(stderr, "kept %s (MERIDIAN_KEEP_KAFKA_DIRS=1)\n", g->work.c_str());
    } else {
      std::error_code ignored;
      std::filesystem::remove_all(g->work, ignored);
    }
    delete g;
    g = nullptr;
  }

 protected:
  // Every case starts on a healthy deployment: whatever an earlier (failed) case left down is
  // restarted, and the regions have converged.
  void SetUp() override {
    ASSERT_NE(g, nullptr);
    ASSERT_TRUE(g->mirror) << "deployment setup failed";
    for (int r = 0; r < kRegions; ++r) {
      Region& region = g->regions[r];
      if (!region.broker_up) {
        Status s = region.broker->restart();
        ASSERT_TRUE(s.is_ok()) << s.to_string();
        region.broker_up = true;
      }
      if (!region.node || !region.node->running()) {
        ASSERT_TRUE(g->start_node(r, false));
      }
    }
    std::string why;
    ASSERT_GE(wait_converged(120s, &why), 0) << "not converged before the case: " << why;
    case_start_ = Clock::now();
  }

  void TearDown() override {
    char line[200];
    std::snprintf(line, sizeof line, "%s: %.1f s%s",
                  ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                  seconds_since(case_start_), HasFailure() ? " (FAILED)" : "");
    report("%s", line);
    g->figures.push_back(line);
  }

  // Polls until every region has converged and every tracked write checks out.
  void expect_everything_converges(const char* what) {
    std::string why;
    const double took = wait_converged(120s, &why);
    ASSERT_GE(took, 0) << what << ": not converged after 120 s: " << why;
    size_t checked = 0, visible = 0;
    std::vector<std::string> problems = check_writes(&checked, &visible);
    EXPECT_TRUE(problems.empty()) << what << ":\n" << join(problems);
    report(
        "%s: converged; %zu acknowledged writes checked with Get in all 3 regions, %zu "
        "unacknowledged writes visible (identically) everywhere",
        what, checked, visible);
  }

  Clock::time_point case_start_;
};

// 1. Replication to the other two regions; concurrent updates converge to one LWW winner.
TEST_F(ThreeRegions, Case1_ReplicationAndConcurrentUpdatesConverge) {
  // An upsert in each region, found by eventual searches in the other two.
  for (int origin = 0; origin < kRegions; ++origin) {
    const uint64_t n = 900000 + origin;  // an embedding no other case uses
    const std::string id = fresh_id(std::string("c1-") + kNames[origin]);
    grpc::Status s = tracked_upsert(origin, id, n);
    ASSERT_TRUE(s.ok()) << s.error_message();
    const auto written = Clock::now();
    for (int r = 0; r < kRegions; ++r) {
      if (r == origin) continue;
      bool found = false;
      v1::SearchResponse response;
      while (!found && Clock::now() - written < 60s) {
        response.Clear();
        grpc::Status s = search(r, embedding_for(n), 5, &response);
        ASSERT_TRUE(s.ok()) << s.error_message();
        found = has_hit(response, id);
        if (!found) std::this_thread::sleep_for(20ms);
      }
      ASSERT_TRUE(found) << id << " from " << kNames[origin] << " never found in " << kNames[r]
                         << ": " << response.DebugString();
      EXPECT_EQ(response.served_by(), kNames[r]);
      report("case 1: %s written in %s found by search in %s after %.0f ms", id.c_str(),
             kNames[origin], kNames[r], seconds_since(written) * 1000);
    }
  }

  // Concurrent updates of the same ids in all three regions (released together by a latch).
  constexpr int kIds = 8;
  struct Attempt {
    grpc::Status status;
    v1::WriteResponse response;
    std::vector<float> embedding;
    std::string value;
  };
  std::vector<std::string> ids;
  for (int i = 0; i < kIds; ++i) ids.push_back(fresh_id("c1-conflict"));
  Attempt attempts[kIds][kRegions];
  for (int i = 0; i < kIds; ++i) {
    std::latch go(kRegions);
    std::vector<std::thread> writers;
    for (int r = 0; r < kRegions; ++r) {
      writers.emplace_back([&, i, r] {
        Attempt& a = attempts[i][r];
        a.embedding = {float(r) * 10.f, float(i), 0.5f, 0.25f};
        a.value = std::string("by-") + kNames[r];
        v1::UpsertRequest up = upsert_request(ids[i], a.embedding, a.value);
        go.arrive_and_wait();
        a.status = upsert(r, up, &a.response);
      });
    }
    for (std::thread& t : writers) t.join();
  }
  std::map<std::string, Acked> winners;
  int same_ms = 0;
  for (int i = 0; i < kIds; ++i) {
    const Attempt* best = nullptr;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int r = 0; r < kRegions; ++r) {
      const Attempt& a = attempts[i][r];
      ASSERT_TRUE(a.status.ok()) << ids[i] << " in " << kNames[r] << ": "
                                 << a.status.error_message();
      lo = std::min(lo, a.response.timestamp());
      hi = std::max(hi, a.response.timestamp());
      // LWW: the higher (timestamp, origin region) wins.
      if (best == nullptr ||
          std::make_pair(a.response.timestamp(), a.response.origin()) >
              std::make_pair(best->response.timestamp(), best->response.origin())) {
        best = &a;
      }
    }
    // Hybrid timestamps: physical milliseconds in the high bits (engine/core/hlc.h).
    if ((hi >> 16) - (lo >> 16) <= 1) ++same_ms;
    winners[ids[i]] = {ids[i], best->embedding, best->value, best->response.timestamp(),
                       best->response.origin()};
  }
  const auto issued = Clock::now();
  bool agreed = false;
  std::string disagreement;
  while (!agreed && Clock::now() - issued < 60s) {
    agreed = true;
    for (const auto& [id, want] : winners) {
      std::string seen[kRegions];
      for (int r = 0; r < kRegions; ++r) {
        v1::GetResponse got;
        grpc::Status s = get(r, id, &got);
        ASSERT_TRUE(s.ok() || s.error_code() == grpc::StatusCode::NOT_FOUND) << s.error_message();
        seen[r] = s.ok() ? describe(got) : "absent";
        if (!s.ok() || !matches(got, want)) {
          agreed = false;
          disagreement = id + ": a=" + seen[0] + " b=" + seen[1] + " c=" + seen[2] +
                         " winner origin " + std::to_string(want.origin) + " ts " +
                         std::to_string(want.timestamp);
        }
      }
      if (!agreed) break;
    }
    if (!agreed) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(agreed) << "concurrent updates did not converge: " << disagreement;
  report(
      "case 1: %d ids updated concurrently in a, b and c (%d within the same ms or next): "
      "every region shows the LWW winner after %.0f ms",
      kIds, same_ms, seconds_since(issued) * 1000);
  {
    std::lock_guard lock(g->acked_mu);
    for (auto& [id, w] : winners) {
      g->acked[id] = w;  // the winner is what every region must keep showing
      g->conflict_ids.insert(id);
    }
  }
}

// 2. Read-your-writes in the same region (session consistency).
TEST_F(ThreeRegions, Case2_ReadYourWritesInTheSameRegion) {
  constexpr int kRounds = 15;
  double worst_ms = 0;
  for (int r = 0; r < kRegions; ++r) {
    v1::SessionToken session;
    for (int i = 0; i < kRounds; ++i) {
      const uint64_t n = 800000 + r * 100 + i;
      const std::string id = fresh_id(std::string("c2-") + kNames[r]);
      v1::UpsertRequest up = upsert_request(id, embedding_for(n), id + "@" + kNames[r]);
      *up.mutable_session() = session;
      v1::WriteResponse written;
      grpc::Status s = upsert(r, up, &written);
      ASSERT_TRUE(s.ok()) << s.error_message();
      g->record_acked(
          {id, embedding_for(n), id + "@" + kNames[r], written.timestamp(), written.origin()});
      session = written.session();
      const auto t = Clock::now();
      v1::SearchResponse found;
      s = search(r, embedding_for(n), 3, &found, v1::CONSISTENCY_SESSION, &session);
      worst_ms = std::max(worst_ms, seconds_since(t) * 1000);
      ASSERT_TRUE(s.ok()) << s.error_message();
      ASSERT_GE(found.hits_size(), 1);
      EXPECT_EQ(found.hits(0).id(), id) << found.DebugString();
      EXPECT_TRUE(found.session_satisfied()) << found.DebugString();
      EXPECT_EQ(found.guarantee_met(), v1::CONSISTENCY_SESSION);
      EXPECT_EQ(found.served_by(), kNames[r]);
      EXPECT_FALSE(found.forwarded());
    }
  }
  report(
      "case 2: %d upserts + immediate session searches per region, all saw their write "
      "(slowest session search %.1f ms)",
      kRounds, worst_ms);
}

// 3. Region c's broker is killed: a and b go on, c says it is stale and refuses writes
// honestly; after the restart everything converges with no acknowledged write lost.
TEST_F(ThreeRegions, Case3_BrokerKillInOneRegion) {
  constexpr int kCut = 2;  // region c
  for (int r = 0; r < kRegions; ++r) {
    for (int i = 0; i < 5; ++i) {
      grpc::Status s =
          tracked_upsert(r, fresh_id(std::string("c3-before-") + kNames[r]), g_next_id.load());
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
  }
  Region& cut = g->regions[kCut];
  const auto killed_at = Clock::now();
  Status killed = cut.broker->kill();
  cut.broker_up = false;
  ASSERT_TRUE(killed.is_ok()) << killed.to_string();
  report("case 3: broker c killed");

  // c's writes fail, each UNAVAILABLE (not durable within write_timeout), never acknowledged;
  // issued concurrently so the case does not wait 5 s per write.
  constexpr int kCutWrites = 6;
  grpc::Status cut_results[kCutWrites];
  double cut_seconds[kCutWrites];
  std::vector<std::thread> cut_writers;
  JoinAll join_cut_writers{cut_writers};
  for (int i = 0; i < kCutWrites; ++i) {
    cut_writers.emplace_back([&, i] {
      const auto t = Clock::now();
      cut_results[i] = tracked_upsert(kCut, fresh_id("c3-during-c"), g_next_id.load(), 30s);
      cut_seconds[i] = seconds_since(t);
    });
  }

  // Meanwhile a and b serve reads and writes.
  int ab_writes = 0, ab_failures = 0, ab_reads = 0;
  std::string ab_error;
  const auto ab_start = Clock::now();
  while (Clock::now() - ab_start < 6s) {
    for (int r = 0; r < 2; ++r) {
      grpc::Status s =
          tracked_upsert(r, fresh_id(std::string("c3-during-") + kNames[r]), g_next_id.load(), 5s);
      ++ab_writes;
      if (!s.ok()) {
        ++ab_failures;
        ab_error = s.error_message();
      }
      v1::SearchResponse found;
      s = search(r, embedding_for(1), 5, &found);
      ++ab_reads;
      if (!s.ok()) {
        ++ab_failures;
        ab_error = s.error_message();
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(ab_failures, 0) << "a/b failed while c's broker was down: " << ab_error;

  // c still answers reads from its replica, flagged stale, with growing staleness.
  v1::SearchResponse first, later;
  ASSERT_TRUE(search(kCut, embedding_for(1), 5, &first).ok());
  const auto stale_deadline = Clock::now() + 20s;
  while (!first.stale() && Clock::now() < stale_deadline) {
    std::this_thread::sleep_for(100ms);
    first.Clear();
    ASSERT_TRUE(search(kCut, embedding_for(1), 5, &first).ok());
  }
  EXPECT_TRUE(first.stale()) << first.DebugString();
  std::this_thread::sleep_for(1s);  // the interval over which staleness must grow
  ASSERT_TRUE(search(kCut, embedding_for(1), 5, &later).ok());
  EXPECT_TRUE(later.stale());
  EXPECT_GT(later.staleness_ms(), first.staleness_ms() + 500) << later.DebugString();
  EXPECT_EQ(later.served_by(), "c");
  report("case 3: c's eventual search stale=%d staleness %llu ms, 1 s later %llu ms",
         int(later.stale()), (unsigned long long)first.staleness_ms(),
         (unsigned long long)later.staleness_ms());

  for (std::thread& t : cut_writers) t.join();
  cut_writers.clear();
  int false_acks = 0;
  for (int i = 0; i < kCutWrites; ++i) {
    if (cut_results[i].ok()) ++false_acks;
    EXPECT_EQ(cut_results[i].error_code(), grpc::StatusCode::UNAVAILABLE)
        << "write to c with its broker down: " << cut_results[i].error_message();
  }
  EXPECT_EQ(false_acks, 0) << "c acknowledged writes while its broker was down";
  report(
      "case 3: a+b served %d writes and %d reads (%d failures) with c cut off; c refused %d/%d "
      "writes (%.1f-%.1f s each, code UNAVAILABLE expected: first '%s')",
      ab_writes, ab_reads, ab_failures, kCutWrites - false_acks, kCutWrites,
      *std::min_element(cut_seconds, cut_seconds + kCutWrites),
      *std::max_element(cut_seconds, cut_seconds + kCutWrites),
      cut_results[0].error_message().c_str());

  // The broker comes back: c accepts writes again and everything converges.
  const auto restart = Clock::now();
  Status restarted = cut.broker->restart();
  ASSERT_TRUE(restarted.is_ok()) << restarted.to_string();
  cut.broker_up = true;
  const double restart_s = seconds_since(restart);
  const auto writable = Clock::now();
  bool accepted = false;
  while (!accepted && Clock::now() - writable < 60s) {
    accepted = tracked_upsert(kCut, fresh_id("c3-after-c"), g_next_id.load(), 10s).ok();
  }
  EXPECT_TRUE(accepted) << "c never accepted a write after its broker restarted";
  const double writable_s = seconds_since(writable);
  const auto converge_start = Clock::now();
  expect_everything_converges("case 3");
  char line[300];
  std::snprintf(line, sizeof line,
                "case 3 figures: outage %.1f s; broker restart %.1f s; c writable again %.1f s "
                "after the restart; converged %.1f s after that",
                seconds_since(killed_at) - seconds_since(restart), restart_s, writable_s,
                seconds_since(converge_start));
  report("%s", line);
  g->figures.push_back(line);
}

// 4. Disaster-recovery drill: region b (broker + node) dies under load from failover clients
// in every region, comes back on the same data, catches up and converges.
TEST_F(ThreeRegions, Case4_DisasterRecoveryDrill) {
  constexpr int kDown = 1;  // region b
  struct ClientStats {
    std::atomic<uint64_t> ops{0}, errors{0}, failovers{0}, writes_acked{0};
  };
  ClientStats stats[kRegions];
  std::atomic<bool> stop{false};
  std::mutex error_mu;
  std::map<std::string, int> error_kinds;

  // Each client: its own region first, on failure or timeout the next ones; an operation is an
  // error only when every region failed it. Alternates upserts of fresh ids and searches.
  auto client = [&](int home) {
    uint64_t i = 0;
    while (!stop.load()) {
      const bool write = (i++ % 2) == 0;
      const std::string id = fresh_id(std::string("c4-") + kNames[home]);
      const uint64_t n = g_next_id.load();
      bool done = false;
      std::string last_error;
      for (int attempt = 0; attempt < kRegions && !done; ++attempt) {
        const int r = (home + attempt) % kRegions;
        grpc::Status s;
        if (write) {
          s = tracked_upsert(r, id, n, 2s);
        } else {
          v1::SearchResponse found;
          s = search(r, embedding_for(n), 5, &found, v1::CONSISTENCY_EVENTUAL, nullptr, 1s);
        }
        if (s.ok()) {
          done = true;
          if (attempt > 0) stats[home].failovers++;
          if (write) stats[home].writes_acked++;
        } else {
          last_error = std::string(kNames[r]) + ": " + std::to_string(int(s.error_code()));
        }
      }
      stats[home].ops++;
      if (!done) {
        stats[home].errors++;
        std::lock_guard lock(error_mu);
        error_kinds[last_error]++;
      }
      std::this_thread::sleep_for(20ms);
    }
  };
  const auto drill_start = Clock::now();
  std::vector<std::thread> clients;
  JoinAll join_clients{clients, [&] { stop = true; }};
  for (int r = 0; r < kRegions; ++r) clients.emplace_back(client, r);
  auto stop_clients = [&] {
    stop = true;
    for (std::thread& t : clients) t.join();
    clients.clear();
  };

  // Load on a healthy deployment first (a window of load, not a wait for a condition).
  std::this_thread::sleep_for(2s);
  Region& down = g->regions[kDown];
  const auto outage_start = Clock::now();
  down.node->kill_now();
  Status killed = down.broker->kill();
  down.broker_up = false;
  ASSERT_TRUE(killed.is_ok()) << killed.to_string();
  report("case 4: region b down (node SIGKILL, broker kill -9)");
  std::this_thread::sleep_for(8s);  // the outage window under load

  Status restarted = down.broker->restart();
  ASSERT_TRUE(restarted.is_ok()) << restarted.to_string();
  down.broker_up = true;
  const double broker_back_s = seconds_since(outage_start);

  // What a and c have applied when b's node starts: b has caught up once it has too.
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> target;
  for (int r : {0, 2}) {
    std::optional<Progress> p = progress(r);
    if (!p) continue;
    for (const auto& [key, v] : p->seq) target[key] = std::max(target[key], v.first);
  }
  const auto node_start = Clock::now();
  ::testing::AssertionResult started = g->start_node(kDown, /*fresh=*/false);
  ASSERT_TRUE(started);
  const double ready_s = seconds_since(node_start);
  double caught_up_s = -1;
  std::string behind;
  while (Clock::now() - node_start < 120s) {
    std::optional<Progress> p = progress(kDown);
    if (p && p->recovered) {
      behind.clear();
      for (const auto& [key, frontier] : target) {
        auto have = p->seq.find(key);
        if (have == p->seq.end() || have->second.first < frontier) {
          behind = "shard " + std::to_string(key.first) + " origin " + std::to_string(key.second) +
                   ": " + (have == p->seq.end() ? "-" : std::to_string(have->second.first)) +
                   " < " + std::to_string(frontier);
          break;
        }
      }
      if (behind.empty()) {
        caught_up_s = seconds_since(node_start);
        break;
      }
    } else {
      behind = p ? "recovering" : "no NodeStatus";
    }
    std::this_thread::sleep_for(100ms);
  }
  std::this_thread::sleep_for(2s);  // clients see b back (load window)
  stop_clients();
  const double drill_s = seconds_since(drill_start);
  EXPECT_GE(caught_up_s, 0) << "b did not catch up within 120 s: " << behind;

  uint64_t ops = 0, errors = 0, failovers = 0, acked = 0;
  for (const ClientStats& s : stats) {
    ops += s.ops;
    errors += s.errors;
    failovers += s.failovers;
    acked += s.writes_acked;
  }
  const double error_rate = ops == 0 ? 1.0 : double(errors) / double(ops);
  std::string kinds;
  for (const auto& [k, count] : error_kinds) kinds += " [" + k + "] x" + std::to_string(count);
  EXPECT_GT(ops, 100u);
  EXPECT_LT(error_rate, 0.05) << errors << " errors in " << ops << " operations:" << kinds;

  const auto converge_start = Clock::now();
  expect_everything_converges("case 4");
  v1::NodeStatusResponse b_status;
  if (node_status(kDown, &b_status).ok()) {
    const v1::NodeCounters& c = b_status.counters();
    report(
        "case 4: restarted b: segments_loaded %llu, segments_rejected %llu, "
        "manifests_rejected %llu, records_applied %llu, records_duplicate %llu, "
        "catch_ups_installed %llu, catch_up_failures %llu, writes_refused_recovering %llu",
        (unsigned long long)c.segments_loaded(), (unsigned long long)c.segments_rejected(),
        (unsigned long long)c.manifests_rejected(), (unsigned long long)c.records_applied(),
        (unsigned long long)c.records_duplicate(), (unsigned long long)c.catch_ups_installed(),
        (unsigned long long)c.catch_up_failures(),
        (unsigned long long)c.writes_refused_recovering());
  }
  char line[400];
  std::snprintf(line, sizeof line,
                "case 4 figures: drill %.1f s, %llu client ops (%llu writes acked), %llu errors "
                "(error rate %.2f %%), %llu served by failover (home b: %llu/%llu ops); b down "
                "%.1f s until its broker was back; node ready %.1f s after start; caught up "
                "with a and c %.1f s after node start; full convergence %.1f s after the load "
                "stopped",
                drill_s, (unsigned long long)ops, (unsigned long long)acked,
                (unsigned long long)errors, error_rate * 100, (unsigned long long)failovers,
                (unsigned long long)stats[kDown].failovers.load(),
                (unsigned long long)stats[kDown].ops.load(), broker_back_s, ready_s, caught_up_s,
                seconds_since(converge_start));
  report("%s%s", line, kinds.empty() ? "" : (" errors:" + kinds).c_str());
  g->figures.push_back(line);
}

// 5. mTLS: a client without a certificate, or with another CA's, is refused.
TEST_F(ThreeRegions, Case5_ClientWithoutCertificateRefused) {
  grpc::SslCredentialsOptions no_cert;
  no_cert.pem_root_certs = g->client_pem.ca;  // verifies the server, presents nothing
  auto anonymous = v1::Meridian::NewStub(
      grpc::CreateChannel(g->regions[0].grpc_address, grpc::SslCredentials(no_cert)));
  v1::NodeStatusResponse status;
  grpc::ClientContext context;
  set_deadline(&context, 10s);
  grpc::Status s = anonymous->NodeStatus(&context, {}, &status);
  EXPECT_FALSE(s.ok()) << "a client without a certificate was served";
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();

  Result<TlsPem> rogue = real::api::load_tls(
      {g->work + "/certs/ca.pem", g->work + "/certs/rogue.pem", g->work + "/certs/rogue.key"});
  ASSERT_TRUE(rogue.is_ok());
  auto rogue_stub = real::api::make_stub(g->regions[1].grpc_address, *rogue);
  grpc::ClientContext rogue_context;
  set_deadline(&rogue_context, 10s);
  grpc::Status r = rogue_stub->NodeStatus(&rogue_context, {}, &status);
  EXPECT_FALSE(r.ok()) << "a client with another CA's certificate was served";

  EXPECT_TRUE(node_status(2, &status).ok());  // the cluster client is served
  report("case 5: no certificate -> %d (%s); other CA -> %d", int(s.error_code()),
         s.error_message().c_str(), int(r.error_code()));
}

}  // namespace
}  // namespace meridian::itest
