// meridian restore DIR --index flat|hnsw|ivf: rebuild a region's collection from segment files.
//
// What a region does after a crash (DESIGN.md §4), minus the log replay: read every segment file
// in DIR, verify and decode it (read_segment), merge each shard's snapshot into a Collection with
// Collection::merge_shard (which rebuilds the index), then apply the applied-records segments.
// Prints the time of each phase and the restored collection's size, and runs one search so that
// the index is usable (and, for IVF, trained). Doubles as the recovery benchmark
// (docs/benchmarks.md). Exits 1 on any corrupt file or inconsistent headers.
#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/cli/commands.h"
#include "engine/cli/segment_files.h"
#include "engine/core/collection.h"
#include "engine/core/segment_file.h"

namespace meridian::cli {

namespace {

struct Options {
  std::string dir;
  std::string index = "flat";
  uint32_t ivf_nlist = IndexParams{}.ivf_nlist;  // 256
  bool json = false;
};

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int fail(const std::string& what) {
  std::cerr << "meridian restore: " << what << "\n";
  return 1;
}

int run(const Options& o) {
  Result<IndexKind> kind = parse_index_kind(o.index);
  if (!kind.is_ok()) return fail(kind.status().message());
  std::vector<std::string> paths;
  std::string error;
  if (!list_segment_files(o.dir, &paths, &error)) return fail(error);
  if (paths.empty()) return fail("no segment files in '" + o.dir + "'");

  double read_s = 0, decode_s = 0, merge_s = 0;
  uint64_t bytes_total = 0;
  std::unique_ptr<Collection> collection;
  std::vector<Segment> records;  // applied after every snapshot is in
  const auto start = Clock::now();
  for (const std::string& path : paths) {
    auto t = Clock::now();
    std::string bytes;
    if (!read_file(path, &bytes, &error)) return fail(error);
    read_s += seconds_since(t);
    bytes_total += bytes.size();
    t = Clock::now();
    Result<Segment> seg = read_segment(bytes);
    decode_s += seconds_since(t);
    if (!seg.is_ok()) return fail(path + ": " + seg.status().to_string());
    const SegmentHeader& h = seg->header;
    if (!collection) {
      CollectionConfig config;
      config.name = h.collection;
      config.num_shards = h.num_shards;
      config.routing_seed = h.routing_seed;
      config.index.kind = *kind;
      config.index.dimension = h.dimension;
      config.index.ivf_nlist = o.ivf_nlist;
      Result<std::unique_ptr<Collection>> c = Collection::create(config);
      if (!c.is_ok()) return fail(c.status().to_string());
      collection = std::move(c).value();
    }
    const CollectionConfig& c = collection->config();
    if (h.collection != c.name || h.num_shards != c.num_shards ||
        h.dimension != c.index.dimension || h.routing_seed != c.routing_seed) {
      return fail(path +
                  ": header disagrees with the first segment's collection, shards, "
                  "dimension or routing seed");
    }
    if (seg->replica) {
      t = Clock::now();
      if (Status s = collection->merge_shard(*seg->replica); !s.is_ok()) {
        return fail(path + ": " + s.to_string());
      }
      merge_s += seconds_since(t);
    } else {
      records.push_back(std::move(seg).value());
    }
  }
  auto t = Clock::now();
  uint64_t applied = 0;
  for (Segment& seg : records) {
    for (Mutation& m : seg.records) {
      Result<ApplyOutcome> out = collection->apply(std::move(m));
      if (!out.is_ok()) return fail("applying a record: " + out.status().to_string());
      ++applied;
    }
  }
  const double records_s = seconds_since(t);
  t = Clock::now();
  const std::vector<float> query(collection->config().index.dimension, 0.0f);
  Result<std::vector<SearchHit>> hits = collection->search(query, 10);
  const double search_s = seconds_since(t);
  if (!hits.is_ok()) return fail("search after restore: " + hits.status().to_string());
  const double total_s = seconds_since(start);

  nlohmann::json j;
  j["files"] = paths.size();
  j["bytes"] = bytes_total;
  j["live_vectors"] = collection->live_count();
  j["records_applied"] = applied;
  j["index"] = collection->describe_indexes();
  j["read_s"] = read_s;
  j["verify_decode_s"] = decode_s;
  j["merge_index_s"] = merge_s;
  j["apply_records_s"] = records_s;
  j["first_search_s"] = search_s;
  j["total_s"] = total_s;
  if (o.json) {
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "restored " << collection->live_count() << " live vectors from " << paths.size()
              << " files (" << bytes_total << " bytes) in " << total_s << " s: read " << read_s
              << " s, verify+decode " << decode_s << " s, merge+index " << merge_s << " s, records "
              << records_s << " s, first search " << search_s << " s\n";
  }
  return 0;
}

}  // namespace

void add_restore(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "restore",
      "Rebuild a collection from the segment files in DIR (read, verify, decode, merge into an "
      "index) and report the time of each phase.");
  cmd->add_option("dir", o->dir, "directory of segment files")->required();
  cmd->add_option("--index", o->index, "flat, hnsw or ivf")->capture_default_str();
  cmd->add_option("--ivf-nlist", o->ivf_nlist, "IVF inverted lists")->capture_default_str();
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->callback([o, exit_code] { *exit_code = run(*o); });
}

}  // namespace meridian::cli
