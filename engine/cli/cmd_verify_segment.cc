// meridian verify-segment FILE...: check segment files' checksums and structure.
//
// For each file prints its kind, collection, shard, record count, blocks, size and version
// vector (one line, or a JSON object per line with --json). With --decode the body is decoded
// too (read_segment), not only checksummed (verify_segment). A corrupt file prints the reason
// with the block number and byte offset, and the command exits 1 after checking every file.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/cli/commands.h"
#include "engine/cli/segment_files.h"
#include "engine/core/segment_file.h"

namespace meridian::cli {

namespace {

struct Options {
  std::vector<std::string> files;
  bool json = false;
  bool decode = false;
};

nlohmann::json summary_json(const std::string& path, const SegmentSummary& s) {
  nlohmann::json j;
  j["file"] = path;
  j["ok"] = s.status.is_ok();
  if (!s.status.is_ok()) {
    j["error"] = s.status.to_string();
  }
  j["file_bytes"] = s.file_bytes;
  if (s.header_ok) {
    j["kind"] = segment_kind_name(s.header.kind);
    j["collection"] = s.header.collection;
    j["shard"] = s.header.shard_index;
    j["num_shards"] = s.header.num_shards;
    j["dimension"] = s.header.dimension;
  }
  if (s.footer_ok) {
    j["records"] = s.entry_count;
    j["blocks"] = s.block_count;
    j["body_bytes"] = s.body_bytes;
    j["version_vector"] = s.version_vector;
  }
  return j;
}

int run(const Options& o) {
  int status = 0;
  for (const std::string& path : o.files) {
    std::string bytes, error;
    if (!read_file(path, &bytes, &error)) {
      std::cerr << "meridian verify-segment: " << error << "\n";
      status = 1;
      continue;
    }
    SegmentSummary s = verify_segment(bytes);
    if (s.status.is_ok() && o.decode) {
      Result<Segment> seg = read_segment(bytes);
      if (!seg.is_ok()) s.status = seg.status();
    }
    if (!s.status.is_ok()) status = 1;
    if (o.json) {
      std::cout << summary_json(path, s).dump() << "\n";
      continue;
    }
    if (!s.status.is_ok()) {
      std::cout << path << ": CORRUPT: " << s.status.to_string() << "\n";
      continue;
    }
    std::cout << path << ": ok kind=" << segment_kind_name(s.header.kind)
              << " collection=" << s.header.collection << " shard=" << s.header.shard_index << "/"
              << s.header.num_shards << " dim=" << s.header.dimension
              << " records=" << s.entry_count << " blocks=" << s.block_count
              << " bytes=" << s.file_bytes << " version_vector=" << s.version_vector << "\n";
  }
  return status;
}

}  // namespace

void add_verify_segment(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "verify-segment",
      "Check segment files (checksums, structure); print kind, records, version vector; exit 1 "
      "naming the block and offset of the first problem in a corrupt file.");
  cmd->add_option("files", o->files, "segment files")->required();
  cmd->add_flag("--json", o->json, "one JSON object per file");
  cmd->add_flag("--decode", o->decode, "also decode the body (full read, not only checksums)");
  cmd->callback([o, exit_code] { *exit_code = run(*o); });
}

}  // namespace meridian::cli
