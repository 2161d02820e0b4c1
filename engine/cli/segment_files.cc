#include "engine/cli/segment_files.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace meridian::cli {

namespace {

std::string shard_stem(const std::string& collection, uint32_t shard) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "-shard-%05u", shard);
  return collection + buf;
}

}  // namespace

std::string snapshot_segment_name(const std::string& collection, uint32_t shard) {
  return shard_stem(collection, shard) + kSegmentSuffix;
}

std::string active_segment_name(const std::string& collection, uint32_t shard) {
  return shard_stem(collection, shard) + ".active" + kSegmentSuffix;
}

bool read_file(const std::string& path, std::string* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  out->resize(size > 0 ? size_t(size) : 0);
  if (size > 0 && !in.read(out->data(), size)) {
    *error = "cannot read '" + path + "': " + std::strerror(errno);
    return false;
  }
  return true;
}

bool write_file(const std::string& path, const std::string& bytes, std::string* error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !out.write(bytes.data(), std::streamsize(bytes.size())) || !out.flush()) {
    *error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  return true;
}

bool list_segment_files(const std::string& dir, std::vector<std::string>* paths,
                        std::string* error) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    *error = "cannot list '" + dir + "': " + ec.message();
    return false;
  }
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.size() > 4 && name.ends_with(kSegmentSuffix)) {
      paths->push_back(entry.path().string());
    }
  }
  std::sort(paths->begin(), paths->end());
  return true;
}

}  // namespace meridian::cli
