// RegionNode: checkpoints of shard state to segment files, and recovery from them at start
// (docs/segment-format.md for the files, checkpoint_manifest.h for the protocol).
#include <algorithm>
#include <cassert>
#include <charconv>
#include <optional>
#include <set>
#include <utility>

#include "engine/core/segment_file.h"
#include "engine/node/collection_state.h"
#include "engine/node/coverage.h"
#include "engine/node/region_node.h"

namespace meridian::node {

namespace {

// The checkpoint number a file of ours carries (manifest.<n> or <c>.<shard>.<n>.seg), or 0.
uint64_t checkpoint_of_file(std::string_view name) {
  if (uint64_t n = parse_manifest_file_name(name); n != 0) return n;
  constexpr std::string_view kSuffix = ".seg";
  if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return 0;
  }
  name.remove_suffix(kSuffix.size());
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return 0;
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(name.data() + dot + 1, name.data() + name.size(), n);
  return ec == std::errc() && ptr == name.data() + name.size() ? n : 0;
}

}  // namespace

void RegionNode::report_durability_problem(const std::string& what) {
  if (observer_ != nullptr) observer_->on_durability_problem(what);
}

RegionNode::Positions RegionNode::recover_from_files() {
  std::vector<std::string> names = env_.files->list();
  std::vector<uint64_t> manifests;
  for (const std::string& name : names) {
    next_checkpoint_ = std::max(next_checkpoint_, checkpoint_of_file(name) + 1);
    if (uint64_t n = parse_manifest_file_name(name); n != 0) manifests.push_back(n);
  }
  std::sort(manifests.rbegin(), manifests.rend());
  std::optional<CheckpointManifest> chosen;
  for (uint64_t n : manifests) {
    Result<std::string> text = env_.files->read(manifest_file_name(n));
    Result<CheckpointManifest> m =
        text.is_ok() ? decode_manifest(*text) : Result<CheckpointManifest>(text.status());
    if (m.is_ok() && m->checkpoint == n) {
      chosen = std::move(m).value();
      break;
    }
    // Torn by a crash, or damaged at rest: an older checkpoint is still complete.
    COVER("manifest_rejected");
    ++counters_.manifests_rejected;
    report_durability_problem(
        manifest_file_name(n) + " rejected: " +
        (m.is_ok() ? "names checkpoint " + std::to_string(m->checkpoint) : m.status().to_string()));
  }
  if (!chosen) return {};

  clock_.observe(chosen->hlc, env_.clock.wall_ms());
  Positions positions;
  CheckpointManifest durable;
  durable.checkpoint = chosen->checkpoint;
  durable.hlc = chosen->hlc;
  for (auto& [name, state] : collections_) {
    const CollectionConfig& config = state->collection->config();
    for (uint32_t s = 0; s < config.num_shards; ++s) {
      auto file = chosen->segments.find({name, s});
      if (file == chosen->segments.end()) continue;  // never checkpointed: replay from 0
      Result<std::string> bytes = env_.files->read(file->second);
      Result<Segment> segment =
          bytes.is_ok() ? read_segment(*bytes) : Result<Segment>(bytes.status());
      Status problem = segment.status();
      if (problem.is_ok() && (segment->header != snapshot_header(config, s) || !segment->replica)) {
        problem = Status::corruption(
            "holds " + std::string(segment_kind_name(segment->header.kind)) + " of " +
            segment->header.collection + " shard " + std::to_string(segment->header.shard_index) +
            ", not this shard's snapshot as configured");
      }
      if (!problem.is_ok()) {
        // Never loaded: the shard is rebuilt from the logs instead (or, once they are gone,
        // from a peer by delta catch-up).
        COVER("segment_rejected");
        ++counters_.segments_rejected;
        report_durability_problem(file->second + " rejected: " + problem.to_string());
        continue;
      }
      Status merged = state->collection->merge_shard(*segment->replica);
      assert(merged.is_ok());
      (void)merged;
      const VersionVector& vv = segment->replica->version_vector();
      state->next_sequence[s] =
          std::max(state->next_sequence[s], vv.max_sequence(options_.self.id));
      checkpointed_vv_[{name, s}] = vv;
      durable.segments[{name, s}] = file->second;
      for (const RegionInfo& origin : options_.regions) {
        auto pos = chosen->positions.find({name, origin.id, s});
        if (pos != chosen->positions.end()) positions[pos->first] = pos->second;
      }
      ++counters_.segments_loaded;
    }
  }
  durable.positions = positions;
  durable_checkpoint_ = std::move(durable);
  COVER("checkpoint_loaded");
  return positions;
}

void RegionNode::checkpoint() {
  env_.timers.after(options_.checkpoint_interval, [this] { checkpoint(); });
  if (pending_checkpoint_ != nullptr) return;  // the previous one is still being written
  auto pending = std::make_unique<PendingCheckpoint>();
  const uint64_t n = next_checkpoint_++;
  pending->manifest.checkpoint = n;
  pending->manifest.hlc = clock_.last();
  pending->manifest.positions = consumed_;
  pending->manifest.segments = durable_checkpoint_.segments;
  std::vector<std::pair<std::string, std::string>> writes;
  for (const auto& [name, state] : collections_) {
    const CollectionConfig& config = state->collection->config();
    for (uint32_t s = 0; s < config.num_shards; ++s) {
      const ShardReplica& replica = state->collection->shard(s);
      auto done = checkpointed_vv_.find({name, s});
      if (done != checkpointed_vv_.end() && done->second == replica.version_vector()) continue;
      if (done == checkpointed_vv_.end() && replica.entry_count() == 0 &&
          replica.version_vector() == VersionVector()) {
        continue;  // empty and never written: nothing to keep
      }
      const std::string file = segment_file_name(name, s, n);
      writes.emplace_back(file, write_snapshot_segment(snapshot_header(config, s), replica));
      pending->manifest.segments[{name, s}] = file;
      pending->taken_at[{name, s}] = replica.version_vector();
    }
  }
  if (writes.empty() && pending->manifest.positions == durable_checkpoint_.positions) return;
  pending->writes_left = writes.size();
  pending_checkpoint_ = std::move(pending);
  if (writes.empty()) {
    on_segment_written(n, Status::ok());  // positions moved only: write the manifest
    return;
  }
  ++pending_checkpoint_->writes_left;  // held until every write is issued
  for (auto& [file, bytes] : writes) {
    env_.files->write_atomically(file, std::move(bytes),
                                 [this, n](Status status) { on_segment_written(n, status); });
  }
  on_segment_written(n, Status::ok());
}

void RegionNode::on_segment_written(uint64_t n, Status status) {
  PendingCheckpoint* p = pending_checkpoint_.get();
  if (p == nullptr || p->manifest.checkpoint != n) return;
  if (!status.is_ok()) p->failed = true;
  if (p->writes_left > 0) --p->writes_left;
  if (p->writes_left > 0) return;
  if (p->failed) {
    ++counters_.checkpoint_failures;
    report_durability_problem("checkpoint " + std::to_string(n) + ": a segment write failed");
    pending_checkpoint_.reset();
    return;
  }
  env_.files->write_atomically(manifest_file_name(n), encode_manifest(p->manifest),
                               [this, n](Status s) { on_manifest_written(n, s); });
}

void RegionNode::on_manifest_written(uint64_t n, Status status) {
  PendingCheckpoint* p = pending_checkpoint_.get();
  if (p == nullptr || p->manifest.checkpoint != n) return;
  if (!status.is_ok()) {
    ++counters_.checkpoint_failures;
    report_durability_problem("checkpoint " + std::to_string(n) +
                              ": manifest write failed: " + status.to_string());
    pending_checkpoint_.reset();
    return;
  }
  for (auto& [key, vv] : p->taken_at) checkpointed_vv_[key] = std::move(vv);
  durable_checkpoint_ = std::move(p->manifest);
  pending_checkpoint_.reset();
  ++counters_.checkpoints_written;
  COVER("checkpoint_written");
  remove_unreferenced_files();
}

void RegionNode::remove_unreferenced_files() {
  std::set<std::string> keep = {manifest_file_name(durable_checkpoint_.checkpoint)};
  for (const auto& [key, file] : durable_checkpoint_.segments) keep.insert(file);
  for (const std::string& name : env_.files->list()) {
    if (checkpoint_of_file(name) != 0 && keep.count(name) == 0) env_.files->remove(name);
  }
}

}  // namespace meridian::node
