// meridian digest DIR: the shard digests a region holding DIR's segment files would exchange.
//
// Reads every "*.seg" file in DIR (read_segment: checksums and full decode), groups them by
// (collection, shard), rebuilds each shard's state (the sealed snapshot merged with the records
// of its applied-records segments) and prints its digest (shard_digest.h), ordered by collection
// then shard: one line "collection shard entries root content_root version_vector_hash vv" per
// shard, or with --json one JSON document (with --buckets, also the 256 bucket hashes). The
// output depends only on the logical state, so two regions with equal state print the same.
// A corrupt file is reported with its reason and the command exits 1.
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/cli/commands.h"
#include "engine/cli/segment_files.h"
#include "engine/core/segment_file.h"
#include "engine/core/shard_digest.h"

namespace meridian::cli {

namespace {

struct Options {
  std::string dir;
  bool json = false;
  bool buckets = false;
};

int run(const Options& o) {
  std::vector<std::string> paths;
  std::string error;
  if (!list_segment_files(o.dir, &paths, &error)) {
    std::cerr << "meridian digest: " << error << "\n";
    return 1;
  }
  std::map<std::pair<std::string, uint32_t>, ShardReplica> shards;
  for (const std::string& path : paths) {
    std::string bytes;
    if (!read_file(path, &bytes, &error)) {
      std::cerr << "meridian digest: " << error << "\n";
      return 1;
    }
    Result<Segment> seg = read_segment(bytes);
    if (!seg.is_ok()) {
      std::cerr << "meridian digest: " << path << ": " << seg.status().to_string() << "\n";
      return 1;
    }
    const uint32_t shard = seg->header.shard_index;
    auto [it, inserted] = shards.try_emplace({seg->header.collection, shard}, shard);
    if (seg->replica) {
      it->second.merge(*seg->replica);
    } else {
      for (Mutation& m : seg->records) (void)it->second.apply(std::move(m));
    }
  }
  nlohmann::json doc = nlohmann::json::array();
  for (const auto& [key, replica] : shards) {
    const ShardDigest d = digest_shard(replica);
    if (!o.json) {
      std::cout << key.first << " " << key.second << " " << d.entry_count << " " << to_hex(d.root)
                << " " << to_hex(d.content_root) << " " << to_hex(d.version_vector_hash) << " "
                << replica.version_vector().to_string() << "\n";
      continue;
    }
    nlohmann::json j;
    j["collection"] = key.first;
    j["shard"] = key.second;
    j["entries"] = d.entry_count;
    j["live"] = replica.live_count();
    j["root"] = to_hex(d.root);
    j["content_root"] = to_hex(d.content_root);
    j["version_vector_hash"] = to_hex(d.version_vector_hash);
    j["version_vector"] = replica.version_vector().to_string();
    if (o.buckets) {
      nlohmann::json b = nlohmann::json::array();
      for (const Sha256& h : d.buckets) b.push_back(to_hex(h));
      j["buckets"] = std::move(b);
    }
    doc.push_back(std::move(j));
  }
  if (o.json) std::cout << doc.dump(1) << "\n";
  return 0;
}

}  // namespace

void add_digest(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "digest", "Print the shard digests (Merkle roots) of the segment files in DIR.");
  cmd->add_option("dir", o->dir, "directory of segment files")->required();
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->add_flag("--buckets", o->buckets, "with --json: include the 256 bucket hashes");
  cmd->callback([o, exit_code] { *exit_code = run(*o); });
}

}  // namespace meridian::cli
