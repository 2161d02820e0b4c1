#include <algorithm>
#include <optional>
#include <utility>

#include "engine/core/routing.h"
#include "sim/scenario_parser.h"

namespace meridian::sim::scenario_detail {

void Parser::parse_regions(const Cursor& c) {
  c.expect_sequence();
  const size_t n = c.node().size();
  if (n < 1 || n > kMaxScenarioRegions) {
    c.fail("must list 1.." + std::to_string(kMaxScenarioRegions) + " regions (got " +
           std::to_string(n) + ")");
  }
  for (size_t i = 0; i < n; ++i) {
    const Fields f(c.item(i), kRegionKeys);
    RegionSpec r;
    const Cursor name = f.need("name");
    r.name = name.name(kMaxRegionNameBytes);
    if (std::optional<RegionIndex> prev = sc_.find_region(r.name)) {
      name.fail("duplicate region name '" + r.name + "' (first at line " +
                std::to_string(region_lines_[*prev]) + ")");
    }
    const Cursor id = f.need("id");
    r.id = RegionId(id.integer(1, 65535));
    for (size_t j = 0; j < sc_.regions.size(); ++j) {
      if (sc_.regions[j].id == r.id) {
        id.fail("duplicate region id " + std::to_string(r.id) + " (also region '" +
                sc_.regions[j].name + "')");
      }
    }
    r.clock_skew_ns =
        f.duration("clock_skew_ms", env::kMillisecond, closed(-86'400'000, 86'400'000), 0);
    r.clock_drift_ppm = f.number("clock_drift_ppm", closed(-100'000, 100'000), 0);
    sc_.regions.push_back(std::move(r));
    region_lines_.push_back(name.line());
  }
}

ScenarioLink Parser::link_params(const Fields& f) const {
  ScenarioLink l;
  l.latency_ns = f.need("latency_ms").duration(env::kMillisecond, closed(0, 60'000));
  l.jitter_ns = f.duration("jitter_ms", env::kMillisecond, closed(0, 60'000), 0);
  l.loss = f.number("loss", closed_open(0, 1), 0);
  l.bandwidth_bytes_per_s = f.number("bandwidth_mbps", closed(0, 1e7), 0) * 1e6 / 8;
  if (auto c = f.get("source")) l.source = c->text();
  return l;
}

void Parser::parse_links(const Fields& top) {
  const size_t n = sc_.regions.size();
  std::optional<ScenarioLink> fallback;
  if (auto c = top.get("default_link")) fallback = link_params(Fields(*c, kDefaultLinkKeys));
  std::vector<std::optional<ScenarioLink>> given(n * n);
  std::vector<int> given_line(n * n, 0);
  const std::optional<Cursor> links = top.get("links");
  if (links) {
    links->expect_sequence();
    for (size_t i = 0; i < links->node().size(); ++i) {
      const Cursor item = links->item(i);
      const Fields f(item, kLinkKeys);
      const Endpoints e = endpoints(f);
      const ScenarioLink params = link_params(f);
      const int line = f.at(e.both_directions ? "between" : "from").line();
      for (int dir = 0; dir < (e.both_directions ? 2 : 1); ++dir) {
        const RegionIndex from = dir == 0 ? e.from : e.to;
        const RegionIndex to = dir == 0 ? e.to : e.from;
        if (given_line[from * n + to] != 0) {
          f.at(e.both_directions ? "between" : "from")
              .fail("the link " + sc_.regions[from].name + " -> " + sc_.regions[to].name +
                    " is already given at line " + std::to_string(given_line[from * n + to]));
        }
        given_line[from * n + to] = line;
        given[from * n + to] = params;
        given[from * n + to]->from = from;
        given[from * n + to]->to = to;
      }
    }
  }
  for (RegionIndex from = 0; from < n; ++from) {
    for (RegionIndex to = 0; to < n; ++to) {
      if (from == to) continue;
      ScenarioLink l;
      if (given[from * n + to]) {
        l = *given[from * n + to];
      } else if (fallback) {
        l = *fallback;
        l.from_default = true;
      } else {
        (links ? *links : top.cursor().child(top.cursor().node(), "links"))
            .fail("no link from " + sc_.regions[from].name + " to " + sc_.regions[to].name +
                  " and no default_link");
      }
      l.from = from;
      l.to = to;
      sc_.links.push_back(std::move(l));
    }
  }
}

void Parser::parse_log(const Cursor& c) {
  const Fields f(c, kLogKeys);
  LogSpec& l = sc_.log;
  const TimeNs ms = env::kMillisecond;
  l.ack_latency_ns = f.duration("ack_latency_ms", ms, closed(0, 60'000), l.ack_latency_ns);
  l.fetch_wait_ns = f.duration("fetch_wait_ms", ms, closed(0, 60'000), l.fetch_wait_ns);
  l.subscribe_setup_ns =
      f.duration("subscribe_setup_ms", ms, closed(0, 60'000), l.subscribe_setup_ns);
  l.retention_ns = f.duration("retention_s", env::kSecond, closed(0, 1e7), l.retention_ns);
  l.produce_timeout_ns =
      f.duration("produce_timeout_ms", ms, open_closed(0, 3.6e6), l.produce_timeout_ns);
  l.producer_buffer_records = uint64_t(
      f.integer("producer_buffer_records", 1, 100'000'000, int64_t(l.producer_buffer_records)));
}

void Parser::parse_disk(const Cursor& c) {
  const Fields f(c, kDiskKeys);
  DiskSpec& d = sc_.disk;
  const TimeNs us = env::kMicrosecond;
  d.write_latency_ns = f.duration("write_latency_us", us, closed(0, 1e7), d.write_latency_ns);
  d.fsync_latency_ns = f.duration("fsync_latency_us", us, closed(0, 1e7), d.fsync_latency_ns);
  d.throughput_bytes_per_s =
      f.number("throughput_mb_per_s", open_closed(0, 1e6), d.throughput_bytes_per_s / 1e6) * 1e6;
}

void Parser::parse_collection(const Cursor& c) {
  const Fields f(c, kCollectionKeys);
  CollectionSpec spec;
  CollectionConfig& cfg = spec.config;
  IndexParams& ix = cfg.index;

  const Cursor name = f.need("name");
  cfg.name = name.text();
  CollectionConfig probe;  // the engine's name rules, checked alone so the error points here
  probe.name = cfg.name;
  probe.index.dimension = 1;
  if (Status s = validate(probe); !s.is_ok()) name.fail(s.message());
  for (size_t i = 0; i < sc_.collections.size(); ++i) {
    if (sc_.collections[i].config.name == cfg.name) {
      name.fail("duplicate collection name '" + cfg.name + "' (first at line " +
                std::to_string(collection_lines_[i]) + ")");
    }
  }

  ix.dimension = uint32_t(f.need("dimension").integer(1, int64_t(kMaxDimension)));
  if (auto m = f.get("metric")) {
    Result<Metric> r = parse_metric(m->text());
    if (!r.is_ok()) m->fail("must be one of l2, ip, cosine (got '" + m->text() + "')");
    ix.metric = *r;
  }
  if (auto k = f.get("index")) {
    Result<IndexKind> r = parse_index_kind(k->text());
    if (!r.is_ok()) k->fail("must be one of flat, hnsw, ivf (got '" + k->text() + "')");
    ix.kind = *r;
  }
  cfg.num_shards = uint32_t(f.integer("shards", 1, kMaxShards, cfg.num_shards));
  cfg.index_partitions = uint32_t(f.integer("index_partitions", 1, cfg.num_shards, 1));
  cfg.routing_seed = uint32_t(f.integer("routing_seed", 0, UINT32_MAX, 0));
  spec.initial_vectors = uint64_t(f.integer("initial_vectors", 0, 100'000'000, 0));

  for (std::string_view key : kHnswKeys) {
    if (f.has(key) && ix.kind != IndexKind::kHnsw) {
      f.at(key).fail(std::string("only applies to index: hnsw (this index is ") +
                     index_kind_name(ix.kind) + ")");
    }
  }
  for (std::string_view key : kIvfKeys) {
    if (f.has(key) && ix.kind != IndexKind::kIvf) {
      f.at(key).fail(std::string("only applies to index: ivf (this index is ") +
                     index_kind_name(ix.kind) + ")");
    }
  }
  ix.hnsw_m = uint32_t(f.integer("hnsw_m", 2, 256, ix.hnsw_m));
  ix.hnsw_ef_construction =
      uint32_t(f.integer("hnsw_ef_construction", 1, 4096, ix.hnsw_ef_construction));
  ix.hnsw_ef_search = uint32_t(f.integer("hnsw_ef_search", 1, 4096, ix.hnsw_ef_search));
  ix.ivf_nlist = uint32_t(f.integer("ivf_nlist", 1, 1 << 20, ix.ivf_nlist));
  ix.ivf_nprobe =
      uint32_t(f.integer("ivf_nprobe", 1, ix.ivf_nlist, std::min(ix.ivf_nprobe, ix.ivf_nlist)));
  if (auto t = f.get("ivf_train_size")) {
    ix.ivf_train_size = uint32_t(t->integer(0, 1'000'000'000));
    if (ix.ivf_train_size != 0 && ix.ivf_train_size < ix.ivf_nlist) {
      t->fail("must be 0 (auto) or at least ivf_nlist (" + std::to_string(ix.ivf_nlist) + ")");
    }
  }
  // Everything above mirrors the engine's rules; this is the backstop should they grow.
  if (Status s = validate(cfg); !s.is_ok()) c.fail(s.message());
  sc_.collections.push_back(std::move(spec));
  collection_lines_.push_back(name.line());
}

}  // namespace meridian::sim::scenario_detail
