// meridian inspect-record [FILE]: decode log records to JSON, or say why they are corrupt.
//
// FILE (or stdin when absent or "-") holds one record or several back to back, as a dump of a
// log partition would. Each good record prints as one JSON line with its byte offset; the first
// bad one prints an error naming its offset and the reason, and the command exits 1. Nothing
// after a bad record is trusted: its length field may itself be damaged.
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include "engine/cli/commands.h"
#include "engine/cli/record_json.h"
#include "engine/core/record_codec.h"

namespace meridian::cli {

namespace {

bool read_all(const std::string& path, std::string* out, std::string* error) {
  if (path.empty() || path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    *out = ss.str();
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

// Bytes the record starting at `bytes` claims to occupy (header + body_length), capped to what is
// available so that a damaged length makes decode_mutation report the damage.
size_t claimed_record_size(std::string_view bytes) {
  if (bytes.size() < kRecordHeaderBytes) return bytes.size();
  uint32_t body_length = 0;
  for (int i = 3; i >= 0; --i) body_length = (body_length << 8) | uint8_t(bytes[24 + i]);
  const uint64_t total = uint64_t(kRecordHeaderBytes) + body_length;
  return total > bytes.size() ? bytes.size() : size_t(total);
}

}  // namespace

void add_inspect_record(CLI::App& app, int* exit_code) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "inspect-record",
      "Decode log records (one or several back to back) from FILE or stdin and print each as a "
      "JSON line; report the first corrupt one and exit 1.");
  cmd->add_option("file", *path, "record file ('-' or absent: stdin)");
  cmd->callback([path, exit_code] {
    std::string bytes;
    std::string error;
    if (!read_all(*path, &bytes, &error)) {
      std::cerr << "meridian inspect-record: " << error << "\n";
      *exit_code = 1;
      return;
    }
    if (bytes.empty()) {
      std::cerr << "meridian inspect-record: input is empty (no record)\n";
      *exit_code = 1;
      return;
    }
    size_t offset = 0;
    while (offset < bytes.size()) {
      std::string_view rest(bytes.data() + offset, bytes.size() - offset);
      const size_t size = claimed_record_size(rest);
      Result<Mutation> m = decode_mutation(rest.substr(0, size));
      if (!m.is_ok()) {
        std::cerr << "meridian inspect-record: record at byte offset " << offset
                  << " is not valid: " << m.status().to_string() << "\n";
        *exit_code = 1;
        return;
      }
      nlohmann::json j = mutation_to_json(*m);
      j["offset"] = offset;
      j["size_bytes"] = size;
      std::cout << j.dump() << "\n";
      offset += size;
    }
    *exit_code = 0;
  });
}

}  // namespace meridian::cli
