// meridian make-segments DIR --vectors N --dim D --shards S --seed X: sample segment files.
//
// Builds a collection's state deterministically from the seed and writes one sealed snapshot
// segment per shard to DIR (tests, benchmarks, demos). Vector i has id "v<i>", an embedding
// drawn around one of 100 seeded centroids, a small payload, and an upsert stamp
// ((1700000000000 + i) << 16, region 1 + i % regions) with per-(region, shard) sequences 1, 2, ...
//
// --update-fraction F re-upserts a seeded fraction F of the vectors (new embedding, later stamp):
// the same seed with and without it gives the "before" and "after" of a delta transfer, as
// regions would hold them. With --active the updates go to an applied-records segment per shard
// ("<collection>-shard-<i>.active.seg") instead of into the snapshots.
//
// Output is identical for identical arguments on every machine (no clock, no OS randomness).
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "engine/cli/commands.h"
#include "engine/cli/segment_files.h"
#include "engine/core/routing.h"
#include "engine/core/segment_file.h"
#include "engine/core/shard_replica.h"

namespace meridian::cli {

namespace {

struct Options {
  std::string dir;
  std::string collection = "bench";
  uint64_t vectors = 10000;
  uint32_t dimension = 128;
  uint32_t shards = 16;
  uint64_t seed = 1;
  uint32_t regions = 3;
  double update_fraction = 0;
  uint64_t update_seed = 2;
  bool active = false;
};

uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Uniform in [-0.5, 0.5) from the stream (seed, i, d).
float uniform(uint64_t seed, uint64_t i, uint64_t d) {
  const uint64_t r = splitmix(splitmix(seed ^ splitmix(i)) + d);
  return float(double(r >> 40) * 0x1.0p-24 - 0.5);
}

constexpr uint64_t kBaseMs = 1700000000000;
constexpr size_t kCentroids = 100;

struct Generator {
  const Options& o;
  std::vector<std::vector<float>> centroids;

  explicit Generator(const Options& options) : o(options) {
    for (size_t c = 0; c < kCentroids; ++c) {
      std::vector<float> v(o.dimension);
      for (uint32_t d = 0; d < o.dimension; ++d) v[d] = 2.0f * uniform(o.seed, ~uint64_t(c), d);
      centroids.push_back(std::move(v));
    }
  }

  std::vector<float> embedding(uint64_t seed, uint64_t i) const {
    const std::vector<float>& c = centroids[splitmix(seed + i) % kCentroids];
    std::vector<float> e(o.dimension);
    for (uint32_t d = 0; d < o.dimension; ++d) e[d] = c[d] + 0.2f * uniform(seed, i, d);
    return e;
  }

  bool updated(uint64_t i) const {
    return o.update_fraction > 0 &&
           double(splitmix(o.update_seed ^ splitmix(i)) >> 11) * 0x1.0p-53 < o.update_fraction;
  }

  Mutation upsert(uint64_t i, bool update, std::vector<uint64_t>* sequences) const {
    static const char* kLangs[] = {"en", "fr", "de", "ja"};
    static const char* kTags[] = {"news", "blog", "paper", "video", "forum"};
    Mutation m;
    m.op = Op::kUpsert;
    m.collection = o.collection;
    m.vector_id = "v" + std::to_string(i);
    m.embedding = embedding(update ? o.update_seed : o.seed, i);
    m.payload.fields["lang"] = kLangs[i % 4];
    m.payload.tags.insert(kTags[(i + (update ? 1 : 0)) % 5]);
    const uint64_t tick = update ? o.vectors + i : i;
    m.timestamp = (kBaseMs + tick) << 16;
    m.origin_region = RegionId(1 + (i + (update ? 1 : 0)) % o.regions);
    m.origin_sequence = ++(*sequences)[m.origin_region];
    return m;
  }
};

int run(const Options& o) {
  std::error_code ec;
  std::filesystem::create_directories(o.dir, ec);
  if (ec) {
    std::cerr << "meridian make-segments: cannot create '" << o.dir << "': " << ec.message()
              << "\n";
    return 1;
  }
  // Ids per shard, in id-number order (which fixes each origin's sequence numbers).
  std::vector<std::vector<uint64_t>> ids_of_shard(o.shards);
  for (uint64_t i = 0; i < o.vectors; ++i) {
    ids_of_shard[shard_of("v" + std::to_string(i), o.shards)].push_back(i);
  }
  const Generator gen(o);
  uint64_t total_bytes = 0, total_updates = 0;
  for (uint32_t s = 0; s < o.shards; ++s) {
    ShardReplica replica(s);
    std::vector<uint64_t> sequences(o.regions + 1, 0);
    for (uint64_t i : ids_of_shard[s]) (void)replica.apply(gen.upsert(i, false, &sequences));
    std::vector<Mutation> updates;
    for (uint64_t i : ids_of_shard[s]) {
      if (gen.updated(i)) updates.push_back(gen.upsert(i, true, &sequences));
    }
    total_updates += updates.size();
    SegmentHeader h;
    h.collection = o.collection;
    h.shard_index = s;
    h.num_shards = o.shards;
    h.dimension = o.dimension;
    std::string error;
    if (o.active) {
      VersionVector vv = replica.version_vector();
      for (const Mutation& m : updates) vv.add(m.origin_region, m.origin_sequence);
      h.kind = SegmentKind::kAppliedRecords;
      const std::string bytes = write_records_segment(h, updates, vv);
      total_bytes += bytes.size();
      if (!write_file(o.dir + "/" + active_segment_name(o.collection, s), bytes, &error)) {
        std::cerr << "meridian make-segments: " << error << "\n";
        return 1;
      }
    } else {
      for (Mutation& m : updates) (void)replica.apply(std::move(m));
    }
    h.kind = SegmentKind::kShardSnapshot;
    const std::string bytes = write_snapshot_segment(h, replica);
    total_bytes += bytes.size();
    if (!write_file(o.dir + "/" + snapshot_segment_name(o.collection, s), bytes, &error)) {
      std::cerr << "meridian make-segments: " << error << "\n";
      return 1;
    }
  }
  std::cout << "wrote " << o.shards * (o.active ? 2 : 1) << " segment files (" << total_bytes
            << " bytes) to " << o.dir << ": " << o.vectors << " vectors, " << o.dimension
            << " dimensions, " << o.shards << " shards, " << total_updates << " updated"
            << (o.active ? " (in active segments)" : "") << "\n";
  return 0;
}

}  // namespace

void add_make_segments(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "make-segments",
      "Write deterministic sample segment files (one sealed snapshot per shard) to DIR.");
  cmd->add_option("dir", o->dir, "output directory (created if missing)")->required();
  cmd->add_option("--collection", o->collection, "collection name")->capture_default_str();
  cmd->add_option("--vectors", o->vectors, "number of vectors")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t(0), uint64_t(1) << 32));
  cmd->add_option("--dim", o->dimension, "dimension")
      ->capture_default_str()
      ->check(CLI::Range(1u, uint32_t(kMaxDimension)));
  cmd->add_option("--shards", o->shards, "number of shards")
      ->capture_default_str()
      ->check(CLI::Range(1u, 4096u));
  cmd->add_option("--seed", o->seed, "data seed")->capture_default_str();
  cmd->add_option("--regions", o->regions, "origin regions (1..regions)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000u));
  cmd->add_option("--update-fraction", o->update_fraction,
                  "fraction of vectors re-upserted with a new embedding")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--update-seed", o->update_seed, "seed choosing and drawing the updates")
      ->capture_default_str();
  cmd->add_flag("--active", o->active,
                "write the updates as applied-records segments instead of into the snapshots");
  cmd->callback([o, exit_code] { *exit_code = run(*o); });
}

}  // namespace meridian::cli
