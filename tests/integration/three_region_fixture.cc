// The three-region deployment (three_region_fixture.h): process management, RPC helpers,
// convergence checks, and the suite's set-up and tear-down.
#include "tests/integration/three_region_fixture.h"

namespace meridian::itest {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// "[itest] ..." lines: the figures CI logs show.
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

Deployment* g = nullptr;

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
                    std::chrono::milliseconds timeout) {
  grpc::ClientContext context;
  set_deadline(&context, timeout);
  return g->regions[r].stub->Upsert(&context, up, out);
}

// An upsert of a fresh id with a tracked outcome.
grpc::Status tracked_upsert(int r, const std::string& id, uint64_t n,
                            std::chrono::milliseconds timeout, v1::WriteResponse* response) {
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
                 std::chrono::milliseconds timeout) {
  v1::GetRequest request;
  request.set_collection("docs");
  request.set_id(id);
  grpc::ClientContext context;
  set_deadline(&context, timeout);
  return g->regions[r].stub->Get(&context, request, out);
}

grpc::Status search(int r, const std::vector<float>& query, uint32_t k, v1::SearchResponse* out,
                    v1::Consistency consistency, const v1::SessionToken* session,
                    std::chrono::milliseconds timeout) {
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

grpc::Status node_status(int r, v1::NodeStatusResponse* out, std::chrono::milliseconds timeout) {
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

std::string join(const std::vector<std::string>& lines, size_t max) {
  std::string out;
  for (size_t i = 0; i < lines.size() && i < max; ++i) out += lines[i] + "\n";
  if (lines.size() > max) out += "... (" + std::to_string(lines.size()) + " in all)\n";
  return out;
}

std::atomic<uint64_t> g_next_id{1};
std::string fresh_id(const std::string& prefix) {
  return prefix + "-" + std::to_string(g_next_id.fetch_add(1));
}

void ThreeRegions::SetUpTestSuite() {
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
    // The ready line names the regions a node reads directly: c must read a that way.
    const bool direct = std::string(started.message()).find("reads=a@") != std::string::npos;
    EXPECT_EQ(direct, r == 2) << started.message();
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

void ThreeRegions::TearDownTestSuite() {
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

// Every case starts on a healthy deployment: whatever an earlier (failed) case left down is
// restarted, and the regions have converged.
void ThreeRegions::SetUp() {
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

void ThreeRegions::TearDown() {
  char line[200];
  std::snprintf(line, sizeof line, "%s: %.1f s%s",
                ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                seconds_since(case_start_), HasFailure() ? " (FAILED)" : "");
  report("%s", line);
  g->figures.push_back(line);
}

// Polls until every region has converged and every tracked write checks out.
void ThreeRegions::expect_everything_converges(const char* what) {
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

}  // namespace meridian::itest
