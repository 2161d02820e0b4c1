// Case 6 of the ThreeRegions suite (three_region_fixture.h; docs/integration-tests.md): a
// segment file with a flipped byte is rejected with a clear message and the node recovers the
// shard from a peer, with the records it needs gone from its own Kafka cluster.
//
// The records are removed with Kafka's DeleteRecords (real::delete_records), up to the end of
// every partition of the shard in region c's cluster: c's own wal.docs partition and the
// mirrored a.wal.docs and b.wal.docs ones. DeleteRecords is exactly what retention does to a
// partition's oldest segments (the log start offset moves forward, offsets are never reused),
// only at once instead of after retention.ms: an honest stand-in for "retention has deleted
// them", which would take minutes to arrange with real time-based retention.
#include <filesystem>
#include <fstream>

#include "engine/real/kafka/kafka_admin.h"
#include "tests/integration/three_region_fixture.h"

namespace meridian::itest {
namespace {

constexpr int kVictim = 2;  // region c

std::optional<v1::NodeCounters> counters(int r) {
  v1::NodeStatusResponse status;
  if (!node_status(r, &status).ok()) return std::nullopt;
  return status.counters();
}

// Polls `pred` on region r's counters every 100 ms until it holds or `timeout` passes.
bool wait_for_counters(int r, std::chrono::seconds timeout,
                       const std::function<bool(const v1::NodeCounters&)>& pred) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    std::optional<v1::NodeCounters> c = counters(r);
    if (c && pred(*c)) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

// The segment file of `shard` in the newest checkpoint of a stopped node's data_dir: after a
// manifest is durable the node deletes every older generation, so the newest
// "docs.<shard>.<n>.seg" with n at most the newest manifest's number is the one it references.
std::string referenced_segment(const std::string& data_dir, uint32_t shard) {
  uint64_t newest_manifest = 0;
  std::map<uint64_t, std::string> segments;
  const std::string prefix = "docs." + std::to_string(shard) + ".";
  for (const auto& entry : std::filesystem::directory_iterator(data_dir)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("manifest.")) {
      newest_manifest = std::max<uint64_t>(newest_manifest, std::stoull(name.substr(9)));
    } else if (name.starts_with(prefix) && name.ends_with(".seg")) {
      segments[std::stoull(name.substr(prefix.size()))] = name;
    }
  }
  std::string found;
  for (const auto& [n, name] : segments) {
    if (n <= newest_manifest) found = name;
  }
  return found;
}

// Every shard's version vector and digest, as region r serves them to peers (FetchShardDigest).
std::optional<std::vector<std::string>> shard_digests(int r) {
  std::vector<std::string> out;
  for (uint32_t s = 0; s < uint32_t(kShards); ++s) {
    v1::ShardDigestRequest request;
    request.set_collection("docs");
    request.set_shard(s);
    v1::ShardDigestResponse response;
    grpc::ClientContext context;
    set_deadline(&context, 5s);
    if (!g->regions[r].stub->FetchShardDigest(&context, request, &response).ok()) {
      return std::nullopt;
    }
    out.push_back(response.version_vector() + "/" + response.digest_root());
  }
  return out;
}

// 6. A flipped byte in one of c's segment files: rejected, and the shard recovered from a peer
// although c's own Kafka cluster no longer holds any of its records.
TEST_F(ThreeRegions, Case6_FlippedByteInASegmentIsRejectedAndTheShardRecoveredFromAPeer) {
  Region& c = g->regions[kVictim];
  const char* no_data = std::getenv("MERIDIAN_ITEST_NO_DATA_DIR");
  if (no_data != nullptr && std::string(no_data) == "1") {
    GTEST_SKIP() << "needs the nodes' data_dir (MERIDIAN_ITEST_NO_DATA_DIR=1)";
  }

  // Vectors written in c, found everywhere, and a checkpoint of c taken after that.
  constexpr int kVectors = 40;
  std::vector<std::string> ids;
  std::map<std::string, uint64_t> embedding_of;
  std::map<uint32_t, int> per_shard;
  for (int i = 0; i < kVectors; ++i) {
    const std::string id = fresh_id("seg");
    const uint64_t n = 960000 + uint64_t(i);  // embeddings no other case uses
    v1::WriteResponse written;
    grpc::Status s = tracked_upsert(kVictim, id, n, 20s, &written);
    ASSERT_TRUE(s.ok()) << id << ": " << s.error_message();
    ids.push_back(id);
    embedding_of[id] = n;
    ++per_shard[written.shard()];
  }
  // The shard with most of them (ties: the lowest): its segment gets the flipped byte.
  uint32_t shard = 0;
  for (const auto& [s, count] : per_shard) {
    if (count > per_shard[shard]) shard = s;
  }
  std::string why;
  ASSERT_GE(wait_converged(120s, &why), 0) << "before the corruption: " << why;
  // A checkpoint in flight now started after the writes were applied; the next one completed
  // certainly did (checkpoint_interval_ms is 10 s by default). A node writes no checkpoint
  // while nothing changes, and one may have completed since the writes: one more write makes
  // sure there is a next one (without it, a checkpoint completed in the ~1.3 s between the
  // writes and `before` left nothing to wait for: CI at 3da2903).
  std::this_thread::sleep_for(1s);
  std::optional<v1::NodeCounters> before = counters(kVictim);
  ASSERT_TRUE(before);
  {
    const std::string nudge = fresh_id("seg-nudge");
    v1::WriteResponse written;
    grpc::Status s = tracked_upsert(kVictim, nudge, 960000 + uint64_t(kVectors), 20s, &written);
    ASSERT_TRUE(s.ok()) << nudge << ": " << s.error_message();
  }
  ASSERT_TRUE(wait_for_counters(kVictim, 30s, [&](const v1::NodeCounters& now) {
    return now.checkpoints_written() > before->checkpoints_written();
  })) << "c wrote no checkpoint within 30 s";

  // Stop c and flip a byte in the middle of the shard's segment (inside a checksummed block).
  const auto stop_start = Clock::now();
  ASSERT_EQ(c.node->terminate(15s), 0) << "c did not exit 0 on SIGTERM";
  const std::string data_dir = c.dir + "/data";
  const std::string victim = referenced_segment(data_dir, shard);
  ASSERT_FALSE(victim.empty()) << "no segment of shard " << shard << " in " << data_dir;
  const std::string path = data_dir + "/" + victim;
  const auto size = std::filesystem::file_size(path);
  ASSERT_GT(size, 100u);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(std::streamoff(size / 2));
    char byte = 0;
    f.read(&byte, 1);
    byte = char(byte ^ 0x5a);
    f.seekp(std::streamoff(size / 2));
    f.write(&byte, 1);
    ASSERT_TRUE(f.good()) << "flipping a byte of " << path;
  }
  report("case 6: c stopped; flipped byte %ju of %s (%ju bytes, shard %u, %d of the %d vectors)",
         uintmax_t(size / 2), victim.c_str(), uintmax_t(size), shard, per_shard[shard], kVectors);

  // Delete every record of that shard from c's cluster, own and mirrored, up to the end.
  real::KafkaLogOptions admin;
  admin.bootstrap_servers = c.broker->bootstrap();
  admin.client_id = "itest-case6";
  const std::vector<std::pair<std::string, uint32_t>> partitions = {
      {"wal.docs", shard}, {"a.wal.docs", shard}, {"b.wal.docs", shard}};
  Result<std::vector<uint64_t>> starts = real::delete_records(admin, partitions);
  ASSERT_TRUE(starts.is_ok()) << starts.status().to_string();
  for (size_t i = 0; i < partitions.size(); ++i) {
    report("case 6: DeleteRecords %s/%u: start offset now %llu", partitions[i].first.c_str(), shard,
           (unsigned long long)(*starts)[i]);
  }
  EXPECT_GT((*starts)[0], 0u) << "c's own partition held none of the case's records";

  // Restart c: the segment is rejected with a message naming the file and the problem, and the
  // shard comes back from a peer.
  const uintmax_t err_offset = std::filesystem::file_size(c.node->err_path());
  const auto restart = Clock::now();
  ASSERT_TRUE(g->start_node(kVictim, /*fresh=*/false));
  ASSERT_TRUE(wait_for_counters(
      kVictim, 60s,
      [](const v1::NodeCounters& now) { return now.shards_recovered_from_peer() >= 1; }))
      << "c did not recover the shard from a peer; stderr:\n"
      << read_text(c.node->err_path()).substr(err_offset);
  const double recovered_s = seconds_since(restart);
  const std::string err = read_text(c.node->err_path()).substr(err_offset);
  const std::string rejected = "meridian-node: " + victim + " rejected: corruption: ";
  const size_t at = err.find(rejected);
  ASSERT_NE(at, std::string::npos) << "no rejection message for " << victim << "; stderr:\n" << err;
  const std::string line = err.substr(at, err.find('\n', at) - at);
  EXPECT_NE(line.find("checksum mismatch"), std::string::npos) << line;
  EXPECT_NE(err.find("docs shard " + std::to_string(shard) + " recovered from peer"),
            std::string::npos)
      << err;
  std::optional<v1::NodeCounters> after = counters(kVictim);
  ASSERT_TRUE(after);
  EXPECT_GE(after->segments_rejected(), 1u);
  report("case 6: %s", line.c_str());

  // Everything converges: version vectors (NodeStatus), every tracked write by Get everywhere,
  // the case's vectors by search in c, and every shard's digest equal in the three regions.
  expect_everything_converges("case 6");
  for (const std::string& id : ids) {
    v1::SearchResponse found;
    grpc::Status s = search(kVictim, embedding_for(embedding_of[id]), 1, &found);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(has_hit(found, id)) << id << " not found by a search in c";
  }
  std::optional<std::vector<std::string>> digests[kRegions];
  for (int r = 0; r < kRegions; ++r) {
    digests[r] = shard_digests(r);
    ASSERT_TRUE(digests[r]) << "FetchShardDigest of " << kNames[r] << " failed";
  }
  EXPECT_EQ(*digests[kVictim], *digests[0]) << "c's shards differ from a's";
  EXPECT_EQ(*digests[kVictim], *digests[1]) << "c's shards differ from b's";

  char figure[300];
  std::snprintf(figure, sizeof figure,
                "case 6: segment %s rejected, shard recovered from a peer %.1f s after c's "
                "restart (stop + corrupt + DeleteRecords %.1f s); segments_rejected %llu, "
                "shards_recovered_from_peer %llu, catch_ups_installed %llu",
                victim.c_str(), recovered_s,
                std::chrono::duration<double>(restart - stop_start).count(),
                (unsigned long long)after->segments_rejected(),
                (unsigned long long)after->shards_recovered_from_peer(),
                (unsigned long long)after->catch_ups_installed());
  report("%s", figure);
  g->figures.push_back(figure);
}

}  // namespace
}  // namespace meridian::itest
