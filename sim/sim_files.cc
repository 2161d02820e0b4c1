#include "sim/sim_files.h"

#include <utility>

namespace meridian::sim {

void SimFiles::write_atomically(const std::string& name, std::string contents, WriteDone done) {
  const uint64_t id = next_id_++;
  const size_t bytes = contents.size();
  pending_.emplace(id, Pending{name, std::move(contents), std::move(done)});
  ++stats_.writes;
  disk_.write(bytes, /*fsync=*/true, [this, id] { complete(id); });
}

void SimFiles::complete(uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;  // lost in a crash
  Pending p = std::move(it->second);
  pending_.erase(it);
  ++stats_.writes_completed;
  stats_.bytes_written += p.contents.size();
  files_[p.name] = std::move(p.contents);
  if (p.done) p.done(Status::ok());
}

Result<std::string> SimFiles::read(const std::string& name) const {
  auto it = files_.find(name);
  if (it == files_.end()) return Status::not_found("no file '" + name + "'");
  return it->second;
}

std::vector<std::string> SimFiles::list() const {
  std::vector<std::string> names;
  for (const auto& [name, contents] : files_) names.push_back(name);
  return names;
}

void SimFiles::remove(const std::string& name) { files_.erase(name); }

void SimFiles::crash(CrashMode mode) {
  if (mode == CrashMode::kKeepUnsynced) {
    for (auto& [id, p] : pending_) p.done = nullptr;  // they still land, silently
    return;
  }
  bool first = true;
  for (auto& [id, p] : pending_) {
    if (first && mode == CrashMode::kTear && !p.contents.empty()) {
      p.contents.resize(size_t(rng_.below(p.contents.size())));
      files_[p.name] = std::move(p.contents);
      ++stats_.writes_torn;
    } else {
      ++stats_.writes_lost;
    }
    first = false;
  }
  pending_.clear();
}

bool SimFiles::flip_byte(const std::string& name, size_t offset) {
  auto it = files_.find(name);
  if (it == files_.end() || offset >= it->second.size()) return false;
  it->second[offset] = char(it->second[offset] ^ 0x5A);
  return true;
}

}  // namespace meridian::sim
