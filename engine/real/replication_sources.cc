#include "engine/real/replication_sources.h"

#include <sstream>

#include "engine/node/checkpoint_manifest.h"

namespace meridian::real {
namespace {

constexpr char kFileName[] = "REPLICATION";

Result<ReplicationSource> parse_source(const std::string& word) {
  if (word == "mirror") return ReplicationSource::kMirror;
  if (word == "direct") return ReplicationSource::kDirect;
  return Status::corruption("unknown source '" + word + "'");
}

Result<std::map<std::string, ReplicationSource>> parse(const std::string& text) {
  std::map<std::string, ReplicationSource> out;
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    std::istringstream words(line);
    std::string region, source, extra;
    words >> region >> source >> extra;
    Result<ReplicationSource> parsed = parse_source(source);
    if (region.empty() || !parsed.is_ok() || !extra.empty()) {
      return Status::corruption(std::string(kFileName) + ":" + std::to_string(number) +
                                ": expected \"<region> mirror|direct\", got \"" + line + "\"");
    }
    out[region] = *parsed;
  }
  return out;
}

bool has_checkpoints(const PosixFiles& dir) {
  for (const std::string& name : dir.list()) {
    if (node::parse_manifest_file_name(name) != 0) return true;
  }
  return false;
}

}  // namespace

const char* replication_source_name(ReplicationSource source) {
  return source == ReplicationSource::kDirect ? "direct" : "mirror";
}

Status check_replication_sources(const PosixFiles& dir,
                                 const std::map<std::string, ReplicationSource>& sources) {
  std::map<std::string, ReplicationSource> recorded;
  bool legacy = false;  // checkpoints from before the file existed: every origin was mirrored
  Result<std::string> text = dir.read(kFileName);
  if (text.is_ok()) {
    Result<std::map<std::string, ReplicationSource>> parsed = parse(*text);
    if (!parsed.is_ok()) {
      return Status(parsed.status().code(), dir.dir() + "/" + parsed.status().message());
    }
    recorded = std::move(parsed).value();
  } else if (text.status().code() == StatusCode::kNotFound) {
    legacy = has_checkpoints(dir);
  } else {
    return text.status();
  }
  for (const auto& [region, source] : sources) {
    auto it = recorded.find(region);
    const bool known = it != recorded.end() || legacy;
    const ReplicationSource before = it != recorded.end() ? it->second : ReplicationSource::kMirror;
    if (known && before != source) {
      return Status::invalid_argument(
          "region " + region + " is read " + replication_source_name(source) +
          " in this config, but the checkpoints in " + dir.dir() + " were taken reading it " +
          replication_source_name(before) +
          " (the two copies' offsets need not agree); use an empty data_dir to change it");
    }
    recorded[region] = source;
  }
  std::string out;
  for (const auto& [region, source] : recorded) {
    out += region + " " + replication_source_name(source) + "\n";
  }
  if (text.is_ok() && out == *text) return Status::ok();
  return dir.write_now(kFileName, out);
}

}  // namespace meridian::real
