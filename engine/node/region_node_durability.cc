// RegionNode: checkpoints of shard state to segment files, and recovery from them at start
// (docs/segment-format.md for the files, checkpoint_manifest.h for the protocol).
#include <algorithm>
#include <cassert>
#include <charconv>
#include <optional>
#include <set>
#include <utility>

#include "engine/core/record_codec.h"
#include "engine/core/segment_file.h"
#include "engine/node/collection_state.h"
#include "engine/node/coverage.h"
#include "engine/node/region_node.h"

namespace meridian::node {

namespace {

// The checkpoint number a file of ours carries (manifest.<n>, <c>.<shard>.<n>.seg or
// <c>.<shard>.<n>.rec), or 0.
uint64_t checkpoint_of_file(std::string_view name) {
  if (uint64_t n = parse_manifest_file_name(name); n != 0) return n;
  if (name.size() <= 4 || (!name.ends_with(".seg") && !name.ends_with(".rec"))) return 0;
  name.remove_suffix(4);
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
      std::string rejected = file->second;
      if (problem.is_ok() && (segment->header != snapshot_header(config, s) || !segment->replica)) {
        problem = Status::corruption(
            "holds " + std::string(segment_kind_name(segment->header.kind)) + " of " +
            segment->header.collection + " shard " + std::to_string(segment->header.shard_index) +
            ", not this shard's snapshot as configured");
      }
      // The shard's active segment at that checkpoint, if it had one: applied to the snapshot
      // here, so that the shard is merged in whole or not at all.
      auto records_file = chosen->records.find({name, s});
      std::vector<Mutation> records;
      std::optional<ShardReplica> verified_snapshot;  // should its records be rejected
      if (problem.is_ok() && records_file != chosen->records.end()) {
        verified_snapshot = *segment->replica;  // copy on write: a pointer per id
        problem =
            load_records_segment(config, s, records_file->second, &*segment->replica, &records);
        if (!problem.is_ok()) rejected = records_file->second;
      }
      if (!problem.is_ok()) {
        // Never loaded: the shard is rebuilt from what the logs still hold and recovered from
        // a peer by delta catch-up (peer_recovery.cc), which also brings back what retention
        // has deleted since. If only its records were bad, the snapshot they follow verified:
        // it is kept as the base (what it holds may be gone from the logs), but nothing more is
        // assumed of it (no positions, no frontier), so the shard is still replayed from the
        // start and recovered from a peer.
        COVER("segment_rejected");
        ++counters_.segments_rejected;
        needs_peer_recovery_.insert({name, s});
        std::string kept;
        if (verified_snapshot) {
          COVER("snapshot_kept_without_its_records");
          Status merged = state->collection->merge_shard(*verified_snapshot);
          assert(merged.is_ok());
          (void)merged;
          state->next_sequence[s] =
              std::max(state->next_sequence[s],
                       verified_snapshot->version_vector().max_sequence(options_.self.id));
          kept = "keeping its snapshot " + file->second + ", ";
        }
        report_durability_problem(rejected + " rejected: " + problem.to_string() + "; " + kept +
                                  "replaying " + name + " shard " + std::to_string(s) +
                                  " from the logs and recovering it from a peer");
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
      ActiveSegment& active = state->active[s];
      active.seal(file->second, bytes->size());
      if (records_file != chosen->records.end()) {
        durable.records[{name, s}] = records_file->second;
        for (Mutation& m : records) {
          const size_t size = encoded_mutation_size(m);
          active.append(std::move(m), size);
        }
      }
      // The shard was collected there, so it is complete below it: the restored shard may be
      // compared and merged at that frontier at once. The snapshot's ids are already
      // collected; records applied on top may hold tombstones the live shard had collected
      // (collection commutes with them, so collecting now gives the state it had).
      if (auto g = chosen->collected_below.find({name, s}); g != chosen->collected_below.end()) {
        state->collection->collect_garbage(s, g->second);
        durable.collected_below[{name, s}] = g->second;
      }
      for (const RegionInfo& origin : options_.regions) {
        auto pos = chosen->positions.find({name, origin.id, s});
        if (pos != chosen->positions.end()) positions[pos->first] = pos->second;
      }
      ++counters_.segments_loaded;
    }
  }
  durable.positions = positions;
  durable_checkpoint_ = std::move(durable);
  refresh_all_freshness();  // (no heartbeat has arrived yet at start; kept for the invariant)
  COVER("checkpoint_loaded");
  return positions;
}

void RegionNode::checkpoint() {
  env_.timers.after(options_.checkpoint_interval, [this] { checkpoint(); });
  if (pending_checkpoint_ != nullptr) return;  // the previous one is still being written
  auto pending = std::make_unique<PendingCheckpoint>();
  const uint64_t n = next_checkpoint_++;
  // Positions now; each shard is encoded later, in its own step, so its segment may hold more
  // than the positions say. That is harmless: replaying what a segment holds is a no-op.
  pending->manifest.checkpoint = n;
  pending->manifest.hlc = clock_.last();
  pending->manifest.positions = consumed_;
  pending->manifest.segments = durable_checkpoint_.segments;
  pending->manifest.records = durable_checkpoint_.records;
  pending->manifest.collected_below = durable_checkpoint_.collected_below;
  for (const auto& [name, state] : collections_) {
    for (uint32_t s = 0; s < state->collection->config().num_shards; ++s) {
      const ShardReplica& replica = state->collection->shard(s);
      auto done = checkpointed_vv_.find({name, s});
      // A dropped active segment (a merge, or too many records) is compacted even if the
      // version vector did not move: a repair of diverged content does not move it.
      const bool compaction_due = !state->active[s].intact();
      if (!compaction_due && done != checkpointed_vv_.end() &&
          done->second == replica.version_vector()) {
        continue;
      }
      if (done == checkpointed_vv_.end() && replica.entry_count() == 0 &&
          replica.version_vector() == VersionVector()) {
        continue;  // empty and never written: nothing to keep
      }
      pending->to_write.emplace_back(name, s);
    }
  }
  if (pending->to_write.empty() && pending->manifest.positions == durable_checkpoint_.positions) {
    return;
  }
  pending->writes_left = 1;  // held until every segment write is issued
  pending_checkpoint_ = std::move(pending);
  checkpoint_step(n);
}

void RegionNode::checkpoint_step(uint64_t n) {
  PendingCheckpoint* p = pending_checkpoint_.get();
  if (p == nullptr || p->manifest.checkpoint != n) return;
  if (p->next == p->to_write.size()) {
    on_segment_written(n, Status::ok());  // releases the hold: the manifest follows
    return;
  }
  const std::string name = p->to_write[p->next].first;
  const uint32_t s = p->to_write[p->next].second;
  ++p->next;
  // Tombstone collection drops what is causally stable before the shard is written out (it
  // commutes with the records that follow, so the active segment stays valid).
  collect_shard(*find(name), s);
  const ShardReplica& replica = find(name)->collection->shard(s);
  CheckpointSegment segment = prepare_checkpoint_segment(*p, name, s);
  if (replica.collected_below() > 0) {
    p->manifest.collected_below[{name, s}] = replica.collected_below();
  } else {
    p->manifest.collected_below.erase({name, s});
  }
  p->taken_at[{name, s}] = replica.version_vector();
  ++p->writes_left;
  // Encoded and written off the loop; the next shard follows once this one is written and the
  // I/O budget has paid for its bytes, so requests run in between and a checkpoint never takes
  // more than its share of the disk (or, in the real build, of a low-priority thread).
  env_.files->write_encoded(segment.file, std::move(segment.encode),
                            [this, n, name, s, file = segment.file](Status status, uint64_t bytes) {
                              if (CollectionState* state = find(name))
                                state->active[s].snapshot_encoded(file, bytes);
                              const env::TimeNs wait = checkpoint_budget_.reserve(
                                  double(bytes), env_.clock.monotonic_ns());
                              if (wait > 0) COVER("checkpoint_throttled");
                              on_segment_written(n, std::move(status));
                              env_.timers.after(wait, [this, n] { checkpoint_step(n); });
                            });
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
  counters_.records_segments_written += p->records_segments;
  counters_.compactions += p->compactions;
  durable_checkpoint_ = std::move(p->manifest);
  pending_checkpoint_.reset();
  ++counters_.checkpoints_written;
  COVER("checkpoint_written");
  remove_unreferenced_files();
}

void RegionNode::remove_unreferenced_files() {
  std::set<std::string> keep = {manifest_file_name(durable_checkpoint_.checkpoint)};
  for (const auto& [key, file] : durable_checkpoint_.segments) keep.insert(file);
  for (const auto& [key, file] : durable_checkpoint_.records) keep.insert(file);
  for (const std::string& name : env_.files->list()) {
    if (checkpoint_of_file(name) != 0 && keep.count(name) == 0) env_.files->remove(name);
  }
}

}  // namespace meridian::node
