#include "engine/node/checkpoint_manifest.h"

#include <charconv>
#include <cstdio>
#include <sstream>
#include <vector>

#include "engine/core/crc32c.h"

namespace meridian::node {

namespace {

constexpr std::string_view kFirstLine = "meridian-manifest 1";
constexpr std::string_view kManifestPrefix = "manifest.";

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    const size_t j = line.find(' ', i);
    out.push_back(line.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return out;
}

bool parse_u64(std::string_view s, uint64_t* out, int base = 10) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

std::string manifest_file_name(uint64_t checkpoint) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(checkpoint));
  return std::string(kManifestPrefix) + digits;
}

uint64_t parse_manifest_file_name(std::string_view name) {
  if (name.substr(0, kManifestPrefix.size()) != kManifestPrefix) return 0;
  uint64_t n = 0;
  return parse_u64(name.substr(kManifestPrefix.size()), &n) ? n : 0;
}

std::string segment_file_name(const std::string& collection, uint32_t shard, uint64_t checkpoint) {
  return collection + "." + std::to_string(shard) + "." + std::to_string(checkpoint) + ".seg";
}

std::string records_file_name(const std::string& collection, uint32_t shard, uint64_t checkpoint) {
  return collection + "." + std::to_string(shard) + "." + std::to_string(checkpoint) + ".rec";
}

std::string encode_manifest(const CheckpointManifest& m) {
  std::ostringstream out;
  out << kFirstLine << "\ncheckpoint " << m.checkpoint << "\nhlc " << m.hlc << "\n";
  for (const auto& [key, file] : m.segments) {
    out << "segment " << key.first << " " << key.second << " " << file << "\n";
  }
  for (const auto& [key, file] : m.records) {
    out << "records " << key.first << " " << key.second << " " << file << "\n";
  }
  for (const auto& [key, offset] : m.positions) {
    out << "position " << std::get<0>(key) << " " << std::get<1>(key) << " " << std::get<2>(key)
        << " " << offset << "\n";
  }
  for (const auto& [key, g] : m.collected_below) {
    if (g > 0) out << "collected " << key.first << " " << key.second << " " << g << "\n";
  }
  std::string body = out.str();
  char crc[32];
  std::snprintf(crc, sizeof crc, "crc32c %08x\n", crc32c(body.data(), body.size()));
  return body + crc;
}

Result<CheckpointManifest> decode_manifest(std::string_view text) {
  const size_t crc_at = text.rfind("crc32c ");
  if (crc_at == std::string_view::npos || (crc_at > 0 && text[crc_at - 1] != '\n')) {
    return Status::corruption("manifest: no crc32c line (truncated?)");
  }
  // The line must be exactly what encode_manifest() writes (8 lower-case hex digits and a
  // newline), so that no byte of it can change without being noticed.
  char expected[32];
  std::snprintf(expected, sizeof expected, "crc32c %08x\n", crc32c(text.data(), crc_at));
  if (text.substr(crc_at) != expected) {
    return Status::corruption("manifest: checksum mismatch (torn or corrupt file)");
  }
  CheckpointManifest m;
  bool have_checkpoint = false, have_hlc = false;
  size_t line_no = 0, pos = 0;
  while (pos < crc_at) {
    const size_t end = text.find('\n', pos);
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const std::vector<std::string_view> f = split(line);
    auto bad = [&](const char* why) {
      return Status::corruption("manifest line " + std::to_string(line_no) + ": " + why);
    };
    uint64_t a = 0, b = 0, c = 0;
    if (line_no == 1) {
      if (line != kFirstLine) return bad("not a meridian manifest (version 1)");
    } else if (f.size() == 2 && f[0] == "checkpoint" && parse_u64(f[1], &a)) {
      m.checkpoint = a;
      have_checkpoint = true;
    } else if (f.size() == 2 && f[0] == "hlc" && parse_u64(f[1], &a)) {
      m.hlc = a;
      have_hlc = true;
    } else if (f.size() == 4 && f[0] == "segment" && parse_u64(f[2], &a) && a <= UINT32_MAX) {
      m.segments[{std::string(f[1]), uint32_t(a)}] = std::string(f[3]);
    } else if (f.size() == 4 && f[0] == "records" && parse_u64(f[2], &a) && a <= UINT32_MAX) {
      m.records[{std::string(f[1]), uint32_t(a)}] = std::string(f[3]);
    } else if (f.size() == 5 && f[0] == "position" && parse_u64(f[2], &a) && a <= UINT16_MAX &&
               parse_u64(f[3], &b) && b <= UINT32_MAX && parse_u64(f[4], &c)) {
      m.positions[{std::string(f[1]), RegionId(a), uint32_t(b)}] = c;
    } else if (f.size() == 4 && f[0] == "collected" && parse_u64(f[2], &a) && a <= UINT32_MAX &&
               parse_u64(f[3], &b) && b > 0) {
      m.collected_below[{std::string(f[1]), uint32_t(a)}] = b;
    } else {
      return bad("malformed");
    }
  }
  if (!have_checkpoint || !have_hlc)
    return Status::corruption("manifest: checkpoint or hlc missing");
  for (const auto& [key, file] : m.records) {
    // Records are only ever written after a snapshot; alone they are not a shard's state.
    if (m.segments.count(key) == 0) {
      return Status::corruption("manifest: records " + file + " without a segment of " + key.first +
                                " shard " + std::to_string(key.second));
    }
  }
  return m;
}

}  // namespace meridian::node
