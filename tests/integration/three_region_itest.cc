// Three regions on real Kafka (ctest three_region_itest, label `integration`;
// docs/integration-tests.md), cases 1-5. The deployment (three_region_fixture.h) starts once
// for every case of the ThreeRegions suite, these and case 6 (segment_recovery_itest.cc).
// Cases, in order (each one can also run alone with --gtest_filter='*Case3*'):
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
#include "tests/integration/three_region_fixture.h"

namespace meridian::itest {
namespace {
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
