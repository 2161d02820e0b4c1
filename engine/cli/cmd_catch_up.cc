// meridian catch-up OLD_DIR NEW_DIR: delta catch-up of a lagging region's segment files.
//
// For every segment file in NEW_DIR (the healthy region) and its namesake in OLD_DIR (the lagging
// region; missing = empty basis), runs the catch-up protocol of DESIGN.md §4 in one process:
//   signature  rsync_signature(old)            (lagging side; sent to the healthy side)
//   delta      rsync_delta(signature, new)     (healthy side; sent back with the new file's
//                                               SHA-256, and with --digest its shard digest)
//   patch      rsync_patch(old, delta)         (lagging side)
//   verify     verify_segment(patched) (every block CRC, footer, trailer) and SHA-256 of the
//              patched file equal to the healthy side's; with --digest also a full decode and
//              shard digest of the patched file compared with the healthy side's
// and reports the bytes that would cross the wire (signature + delta), the summed time of each
// step and the wall time of the whole catch-up, files processed by --jobs threads (each file is
// independent). The healthy side's hashes are computed first, untimed (a region keeps them with
// its sealed segments). Because snapshots are canonical, equal bytes mean equal state, so the
// SHA-256 check is a full check; --digest shows what the logical check would cost.
// With --write the patched files replace OLD_DIR's. Exits 1 if any step fails or a patched file
// differs from the healthy one.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/cli/commands.h"
#include "engine/cli/segment_files.h"
#include "engine/core/rsync_delta.h"
#include "engine/core/segment_file.h"
#include "engine/core/shard_digest.h"

namespace meridian::cli {

namespace {

struct Options {
  std::string old_dir;
  std::string new_dir;
  size_t block_len = 1024;
  size_t strong_len = 8;
  unsigned jobs = 2;
  bool digest = false;
  bool write = false;
  bool json = false;
};

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Healthy {  // what the healthy side sends along with a delta
  Sha256 file_sha256{};
  std::optional<ShardDigest> digest;
};

struct FileResult {
  std::string error;
  uint64_t new_bytes = 0, sig_bytes = 0, delta_bytes = 0, literal_bytes = 0, copy_bytes = 0;
  double sig_s = 0, delta_s = 0, patch_s = 0, verify_s = 0, sha_s = 0, digest_s = 0;
};

Healthy healthy_side(const std::string& path, bool with_digest, std::string* error) {
  Healthy h;
  std::string bytes;
  if (!read_file(path, &bytes, error)) return h;
  h.file_sha256 = sha256(bytes);
  if (with_digest) {
    Result<Segment> seg = read_segment(bytes);
    if (!seg.is_ok() || !seg->replica) {
      *error = path + ": cannot digest the healthy file: " + seg.status().to_string();
      return h;
    }
    h.digest = digest_shard(*seg->replica);
  }
  return h;
}

FileResult catch_up_file(const Options& o, const std::string& new_path, const Healthy& healthy) {
  FileResult r;
  const std::string name = std::filesystem::path(new_path).filename().string();
  const std::string old_path = o.old_dir + "/" + name;
  std::string basis, target;
  if (!read_file(new_path, &target, &r.error)) return r;
  if (std::filesystem::exists(old_path) && !read_file(old_path, &basis, &r.error)) return r;
  r.new_bytes = target.size();
  const auto fail = [&](const std::string& what) {
    r.error = name + ": " + what;
    return r;
  };

  auto t = Clock::now();
  Result<std::string> sig =
      rsync_signature(basis, {.block_len = o.block_len, .strong_len = o.strong_len});
  r.sig_s = seconds_since(t);
  if (!sig.is_ok()) return fail(sig.status().to_string());
  r.sig_bytes = sig->size();

  RsyncDeltaStats stats;
  t = Clock::now();
  Result<std::string> delta = rsync_delta(*sig, target, &stats);
  r.delta_s = seconds_since(t);
  if (!delta.is_ok()) return fail(delta.status().to_string());
  r.delta_bytes = delta->size();
  r.literal_bytes = stats.literal_bytes;
  r.copy_bytes = stats.copy_bytes;

  t = Clock::now();
  Result<std::string> patched = rsync_patch(basis, *delta);
  r.patch_s = seconds_since(t);
  if (!patched.is_ok()) return fail(patched.status().to_string());

  t = Clock::now();
  const SegmentSummary check = verify_segment(*patched);
  r.verify_s = seconds_since(t);
  if (!check.status.is_ok()) return fail("patched file: " + check.status.to_string());
  t = Clock::now();
  const bool same_sha = sha256(*patched) == healthy.file_sha256;
  r.sha_s = seconds_since(t);
  if (!same_sha) return fail("patched file's SHA-256 differs from the healthy file's");
  if (healthy.digest) {
    t = Clock::now();
    Result<Segment> mine = read_segment(*patched);
    const bool same =
        mine.is_ok() && mine->replica && digest_shard(*mine->replica) == *healthy.digest;
    r.digest_s = seconds_since(t);
    if (!same) return fail("patched file's shard digest differs from the healthy side's");
  }
  if (*patched != target) return fail("patched bytes differ from the healthy file");
  if (o.write && !write_file(old_path, *patched, &r.error)) return r;
  return r;
}

// Runs fn(i) for i in [0, n) on `jobs` threads.
template <typename Fn>
void parallel_for(size_t n, unsigned jobs, Fn fn) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (unsigned j = 0; j < std::max(1u, jobs); ++j) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) fn(i);
    });
  }
  for (std::thread& t : threads) t.join();
}

int run(const Options& o) {
  std::vector<std::string> paths;
  std::string error;
  if (!list_segment_files(o.new_dir, &paths, &error)) {
    std::cerr << "meridian catch-up: " << error << "\n";
    return 1;
  }
  std::vector<Healthy> healthy(paths.size());
  std::vector<std::string> errors(paths.size());
  parallel_for(paths.size(), o.jobs,
               [&](size_t i) { healthy[i] = healthy_side(paths[i], o.digest, &errors[i]); });
  for (const std::string& e : errors) {
    if (!e.empty()) {
      std::cerr << "meridian catch-up: " << e << "\n";
      return 1;
    }
  }
  std::vector<FileResult> results(paths.size());
  const auto start = Clock::now();
  parallel_for(paths.size(), o.jobs,
               [&](size_t i) { results[i] = catch_up_file(o, paths[i], healthy[i]); });
  const double wall_s = seconds_since(start);
  FileResult sum;
  for (const FileResult& r : results) {
    if (!r.error.empty()) {
      std::cerr << "meridian catch-up: " << r.error << "\n";
      return 1;
    }
    sum.new_bytes += r.new_bytes;
    sum.sig_bytes += r.sig_bytes;
    sum.delta_bytes += r.delta_bytes;
    sum.literal_bytes += r.literal_bytes;
    sum.copy_bytes += r.copy_bytes;
    sum.sig_s += r.sig_s;
    sum.delta_s += r.delta_s;
    sum.patch_s += r.patch_s;
    sum.verify_s += r.verify_s;
    sum.sha_s += r.sha_s;
    sum.digest_s += r.digest_s;
  }
  nlohmann::json j;
  j["files"] = paths.size();
  j["jobs"] = o.jobs;
  j["new_bytes"] = sum.new_bytes;
  j["block_len"] = o.block_len;
  j["strong_len"] = o.strong_len;
  j["signature_bytes"] = sum.sig_bytes;
  j["delta_bytes"] = sum.delta_bytes;
  j["wire_bytes"] = sum.sig_bytes + sum.delta_bytes;
  j["literal_bytes"] = sum.literal_bytes;
  j["matched_bytes"] = sum.copy_bytes;
  j["signature_s"] = sum.sig_s;
  j["delta_s"] = sum.delta_s;
  j["patch_s"] = sum.patch_s;
  j["verify_crc_s"] = sum.verify_s;
  j["verify_sha256_s"] = sum.sha_s;
  if (o.digest) j["verify_digest_s"] = sum.digest_s;
  j["steps_sum_s"] =
      sum.sig_s + sum.delta_s + sum.patch_s + sum.verify_s + sum.sha_s + sum.digest_s;
  j["wall_s"] = wall_s;
  if (o.json) {
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "caught up " << paths.size() << " files (" << sum.new_bytes
              << " bytes): signature " << sum.sig_bytes << " B + delta " << sum.delta_bytes
              << " B (literal " << sum.literal_bytes << " B) on the wire; signature " << sum.sig_s
              << " s, delta " << sum.delta_s << " s, patch " << sum.patch_s << " s, verify "
              << sum.verify_s + sum.sha_s << " s"
              << (o.digest ? ", digest " + std::to_string(sum.digest_s) + " s" : std::string())
              << " (summed over " << o.jobs << " jobs); wall " << wall_s << " s\n";
  }
  return 0;
}

}  // namespace

void add_catch_up(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "catch-up",
      "Bring OLD_DIR's segment files up to NEW_DIR's with librsync signature/delta/patch and "
      "verify them; report wire bytes and step times.");
  cmd->add_option("old_dir", o->old_dir, "the lagging region's segment files")->required();
  cmd->add_option("new_dir", o->new_dir, "the healthy region's segment files")->required();
  cmd->add_option("--block-len", o->block_len, "librsync block length")->capture_default_str();
  cmd->add_option("--strong-len", o->strong_len, "librsync strong sum bytes")
      ->capture_default_str();
  cmd->add_option("--jobs", o->jobs, "files processed in parallel")
      ->capture_default_str()
      ->check(CLI::Range(1u, 64u));
  cmd->add_flag("--digest", o->digest, "also verify by full decode and shard digest");
  cmd->add_flag("--write", o->write, "replace OLD_DIR's files with the patched ones");
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->callback([o, exit_code] { *exit_code = run(*o); });
}

}  // namespace meridian::cli
