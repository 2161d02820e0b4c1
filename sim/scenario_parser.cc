#include "sim/scenario_parser.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "sim/yaml_document.h"

namespace meridian::sim::scenario_detail {

Scenario Parser::parse(const std::string& text) {
  YAML::Node root;
  try {
    if (auto problem = multiple_documents(text)) fail_at_line(problem->first, problem->second);
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail_at_line(e.mark.is_null() ? 1 : e.mark.line + 1, "YAML syntax error: " + e.msg);
  }
  if (root.IsNull()) fail_at_line(1, "empty file: no scenario in it");
  const Cursor top(&source_, root, "", line_of(root, 1));
  if (!top.node().IsMap()) top.fail_type("a map of scenario fields");
  const Fields f(top, kTopKeys);

  sc_.source = source_;
  sc_.name = f.need("name").name(128);
  if (auto c = f.get("description")) sc_.description = c->text();
  if (auto c = f.get("seed")) sc_.seed = c->u64();
  sc_.duration_ns = f.need("duration_s").duration(env::kSecond, open_closed(0, 7 * 86400));
  sc_.liveness_ns = f.duration("liveness_s", env::kSecond, open_closed(0, 86400), sc_.liveness_ns);
  parse_regions(f.need("regions"));
  parse_links(f);
  if (auto c = f.get("log")) parse_log(*c);
  if (auto c = f.get("disk")) parse_disk(*c);
  const Cursor collections = f.need("collections");
  collections.expect_sequence();
  if (collections.node().size() == 0) collections.fail("must list at least one collection");
  for (size_t i = 0; i < collections.node().size(); ++i) parse_collection(collections.item(i));
  parse_workload(f.need("workload"));
  if (auto c = f.get("faults")) parse_faults(*c);
  if (auto c = f.get("swarm")) parse_swarm(*c);
  if (auto c = f.get("sweep")) parse_sweep(*c);
  sc_.expect.search_p99_max_ns.assign(sc_.regions.size(), std::nullopt);
  if (auto c = f.get("expect")) parse_expect(*c);
  return std::move(sc_);
}

std::string Parser::region_names() const {
  std::string out;
  for (const RegionSpec& r : sc_.regions) out += (out.empty() ? "" : ", ") + r.name;
  return out;
}

RegionIndex Parser::region_ref(const Cursor& c) const {
  const std::string name = c.text();
  if (std::optional<RegionIndex> r = sc_.find_region(name)) return *r;
  c.fail("unknown region '" + name + "' (regions: " + region_names() + ")");
}

std::vector<RegionIndex> Parser::region_list(const Cursor& c, size_t min, size_t max) const {
  c.expect_sequence();
  const size_t n = c.node().size();
  if (n < min || n > max) {
    c.fail((min == max ? "must list exactly " + std::to_string(min)
                       : "must list " + std::to_string(min) + " or more") +
           " distinct regions (got " + std::to_string(n) + ")");
  }
  std::vector<RegionIndex> out;
  for (size_t i = 0; i < n; ++i) {
    const Cursor item = c.item(i);
    const RegionIndex r = region_ref(item);
    if (std::find(out.begin(), out.end(), r) != out.end()) {
      item.fail("region '" + sc_.regions[r].name + "' is listed twice");
    }
    out.push_back(r);
  }
  return out;
}

// `between: [a, b]` (both directions) or `from: a` + `to: b` (one direction).
Parser::Endpoints Parser::endpoints(const Fields& f) const {
  const std::optional<Cursor> between = f.get("between");
  const std::optional<Cursor> from = f.get("from");
  const std::optional<Cursor> to = f.get("to");
  if (between && (from || to)) {
    (from ? *from : *to).fail("give either between: [a, b] or from/to, not both");
  }
  if (between) {
    const std::vector<RegionIndex> r = region_list(*between, 2, 2);
    return {r[0], r[1], true};
  }
  if (!from && !to) f.cursor().fail("needs between: [a, b] (both directions) or from and to");
  if (!from) f.missing("from");
  if (!to) f.missing("to");
  const RegionIndex a = region_ref(*from);
  const RegionIndex b = region_ref(*to);
  if (a == b) to->fail("from and to are the same region");
  return {a, b, false};
}

ValueRange Parser::range(const Cursor& c, const Bounds& b) const {
  c.expect_sequence();
  if (c.node().size() != 2) c.fail("expected [lo, hi]");
  const ValueRange r{c.item(0).number(b), c.item(1).number(b)};
  if (r.lo > r.hi) c.fail("lo (" + fmt(r.lo) + ") must be <= hi (" + fmt(r.hi) + ")");
  return r;
}

}  // namespace meridian::sim::scenario_detail
