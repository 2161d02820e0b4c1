#include "sim/scenario_loader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <span>
#include <sstream>
#include <string_view>
#include <utility>

#include "engine/core/routing.h"

namespace meridian::sim {
namespace {

// How the parser below gives up: it throws LoadError with the finished message, and
// parse_scenario turns that into a Status. Nothing leaves this file as an exception.
struct LoadError {
  std::string message;
};

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr size_t kMaxFileBytes = 4 << 20;

// ---------------------------------------------------------------------------------------------
// Small helpers: number formatting, allowed ranges, key suggestions.

std::string fmt(double v) {
  std::ostringstream out;
  out.precision(15);
  out << v;
  return out.str();
}

// A numeric range in the file's units, e.g. (0, inf) for "must be > 0".
struct Bounds {
  double lo = -kInf;
  double hi = kInf;
  bool lo_open = false;
  bool hi_open = false;

  // "" if v is inside, else what it must be, e.g. "must be > 0".
  std::string violation(double v) const {
    const bool above_lo = lo_open ? v > lo : v >= lo;
    const bool below_hi = hi_open ? v < hi : v <= hi;
    if (!above_lo) return std::string("must be ") + (lo_open ? "> " : ">= ") + fmt(lo);
    if (!below_hi) return std::string("must be ") + (hi_open ? "< " : "<= ") + fmt(hi);
    return "";
  }
};
Bounds closed(double lo, double hi) { return {lo, hi, false, false}; }
Bounds open_closed(double lo, double hi) { return {lo, hi, true, false}; }
Bounds closed_open(double lo, double hi) { return {lo, hi, false, true}; }

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string join(std::span<const std::string_view> words) {
  std::string out;
  for (std::string_view w : words) out += (out.empty() ? "" : ", ") + std::string(w);
  return out;
}

// "unknown key (did you mean 'x'?)" for a near miss, else the list of allowed keys.
std::string unknown_key_message(std::string_view key, std::span<const std::string_view> allowed) {
  std::string_view best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (std::string_view a : allowed) {
    const size_t d = edit_distance(key, a);
    if (d < best_distance) {
      best_distance = d;
      best = a;
    }
  }
  if (!best.empty() && best_distance <= std::max<size_t>(2, key.size() / 4)) {
    return "unknown key (did you mean '" + std::string(best) + "'?)";
  }
  return "unknown key (allowed: " + join(allowed) + ")";
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

std::string describe_node(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar:
      return (n.Tag() == "!" ? "the quoted string '" : "'") + n.Scalar() + "'";
    default: return "nothing";
  }
}

// Line (1-based) of a node, or `fallback` when yaml-cpp has no position for it.
int line_of(const YAML::Node& n, int fallback) {
  const YAML::Mark m = n.Mark();
  return m.is_null() ? fallback : m.line + 1;
}

// ---------------------------------------------------------------------------------------------
// Where we are in the file: the source name, a field path and a line. Every typed read of a
// value goes through a Cursor, so every message carries all three.

class Cursor {
 public:
  Cursor(const std::string* source, YAML::Node node, std::string path, int line)
      : source_(source), node_(std::move(node)), path_(std::move(path)), line_(line) {}

  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  int line() const { return line_; }

  [[noreturn]] void fail(const std::string& what) const {
    std::string m = *source_ + ":" + std::to_string(line_) + ": ";
    if (!path_.empty()) m += path_ + ": ";
    throw LoadError{m + what};
  }
  [[noreturn]] void fail_type(const std::string& expected) const {
    fail("expected " + expected + ", got " + describe_node(node_));
  }

  Cursor item(size_t i) const {
    const YAML::Node n = node_[i];
    return Cursor(source_, n, path_ + "[" + std::to_string(i) + "]", line_of(n, line_));
  }
  Cursor child(const YAML::Node& n, std::string_view key) const {
    return Cursor(source_, n, path_.empty() ? std::string(key) : path_ + "." + std::string(key),
                  line_of(n, line_));
  }

  Cursor with_line(int line) const { return Cursor(source_, node_, path_, line); }

  bool is_plain_scalar() const { return node_.IsScalar() && node_.Tag() != "!"; }

  std::string text() const {
    if (!node_.IsScalar()) fail_type("a string");
    return node_.Scalar();
  }
  // [A-Za-z0-9_-], 1..max_bytes.
  std::string name(size_t max_bytes) const {
    std::string s = text();
    if (s.empty() || s.size() > max_bytes ||
        !std::all_of(s.begin(), s.end(), [](char c) { return is_name_char(c); })) {
      fail("'" + s + "' is not a valid name (1.." + std::to_string(max_bytes) +
           " of A-Z a-z 0-9 _ -)");
    }
    return s;
  }
  double number(const Bounds& b) const {
    if (!is_plain_scalar()) fail_type("a number");
    const std::string& s = node_.Scalar();
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) {
      fail_type("a number");
    }
    if (std::string why = b.violation(v); !why.empty()) fail(why + " (got " + s + ")");
    return v;
  }
  int64_t integer(int64_t lo, int64_t hi) const {
    if (!is_plain_scalar()) fail_type("an integer");
    const std::string& s = node_.Scalar();
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    const bool huge = ec == std::errc::result_out_of_range;  // beyond int64, either sign
    if (!huge && (ec != std::errc() || end != s.data() + s.size())) fail_type("an integer");
    if (huge ? s[0] == '-' : v < lo) fail("must be >= " + std::to_string(lo) + " (got " + s + ")");
    if (huge || v > hi) fail("must be <= " + std::to_string(hi) + " (got " + s + ")");
    return v;
  }
  uint64_t u64() const {
    if (!is_plain_scalar()) fail_type("an unsigned integer");
    const std::string& s = node_.Scalar();
    uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) {
      fail_type("an integer in [0, 18446744073709551615]");
    }
    return v;
  }
  // A duration given in `unit` (kSecond, kMillisecond, kMicrosecond); bounds in that unit.
  TimeNs duration(TimeNs unit, const Bounds& b) const {
    return TimeNs(std::llround(number(b) * double(unit)));
  }
  bool boolean() const {
    if (is_plain_scalar()) {
      const std::string& s = node_.Scalar();
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
    }
    fail_type("true or false");
  }
  void expect_sequence() const {
    if (!node_.IsSequence()) fail_type("a list");
  }
  void expect_map() const {
    if (!node_.IsMap()) fail_type("a map");
  }

 private:
  const std::string* source_;
  YAML::Node node_;
  std::string path_;
  int line_;
};

// A YAML map read strictly: keys must be unique scalars from an allowed set (or anything, for
// maps keyed by region name); reads of missing required keys fail at the map's own line.
class Fields {
 public:
  // `allowed` empty: any key.
  Fields(const Cursor& at, std::span<const std::string_view> allowed) : at_(at), allowed_(allowed) {
    at.expect_map();
    for (auto it = at.node().begin(); it != at.node().end(); ++it) {
      if (!it->first.IsScalar()) {
        at.with_line(line_of(it->first, at.line()))
            .fail("keys must be plain names, got " + describe_node(it->first));
      }
      const std::string name = it->first.Scalar();
      const Cursor here = at.child(it->first, name);
      if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        here.fail(unknown_key_message(name, allowed));
      }
      if (const Entry* first = find(name)) {
        here.fail("duplicate key (first given at line " + std::to_string(first->key_line) + ")");
      }
      index_.emplace(name, entries_.size());
      entries_.push_back(Entry{name, here.line(), it->first, it->second});
    }
  }

  const Cursor& cursor() const { return at_; }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  size_t size() const { return entries_.size(); }
  const std::string& key_at(size_t i) const { return entries_[i].key; }
  // The i-th key itself, for messages about the key (e.g. an unknown region name as a key).
  Cursor key_cursor(size_t i) const { return at_.child(entries_[i].key_node, entries_[i].key); }

  // The value under `key`, positioned at its own line (the key's line for an empty value).
  std::optional<Cursor> get(std::string_view key) const {
    assert(allowed_.empty() || std::find(allowed_.begin(), allowed_.end(), key) != allowed_.end());
    const Entry* e = find(key);
    if (e == nullptr) return std::nullopt;
    const Cursor c = at_.child(e->value, key);
    // yaml-cpp places an empty value on the next token's line; the key's line is the useful one.
    return e->value.IsNull() ? c.with_line(e->key_line) : c;
  }
  Cursor need(std::string_view key) const {
    std::optional<Cursor> c = get(key);
    if (!c) missing(key);
    return *c;
  }
  [[noreturn]] void missing(std::string_view key) const {
    at_.child(at_.node(), key).fail("required field is missing");
  }
  // The position of `key` for messages about it: its value if given, else the map.
  Cursor at(std::string_view key) const {
    std::optional<Cursor> c = get(key);
    return c ? *c : at_.child(at_.node(), key);
  }

  double number(std::string_view key, const Bounds& b, double fallback) const {
    std::optional<Cursor> c = get(key);
    return c ? c->number(b) : fallback;
  }
  TimeNs duration(std::string_view key, TimeNs unit, const Bounds& b, TimeNs fallback) const {
    std::optional<Cursor> c = get(key);
    return c ? c->duration(unit, b) : fallback;
  }
  int64_t integer(std::string_view key, int64_t lo, int64_t hi, int64_t fallback) const {
    std::optional<Cursor> c = get(key);
    return c ? c->integer(lo, hi) : fallback;
  }
  bool boolean(std::string_view key, bool fallback) const {
    std::optional<Cursor> c = get(key);
    return c ? c->boolean() : fallback;
  }

 private:
  struct Entry {
    std::string key;
    int key_line;
    YAML::Node key_node;
    YAML::Node value;
  };
  const Entry* find(std::string_view key) const {
    const auto it = index_.find(key);
    return it == index_.end() ? nullptr : &entries_[it->second];
  }

  Cursor at_;
  std::span<const std::string_view> allowed_;
  std::vector<Entry> entries_;                        // in file order
  std::map<std::string, size_t, std::less<>> index_;  // key -> position in entries_
};

// ---------------------------------------------------------------------------------------------
// The schema: allowed keys per block (docs/scenarios.md documents each).

constexpr std::string_view kTopKeys[] = {"name",       "description", "seed",        "duration_s",
                                         "liveness_s", "regions",     "links",       "default_link",
                                         "log",        "disk",        "collections", "workload",
                                         "faults",     "swarm",       "sweep",       "expect"};
constexpr std::string_view kRegionKeys[] = {"name", "id", "clock_skew_ms", "clock_drift_ppm"};
constexpr std::string_view kLinkKeys[] = {
    "between", "from", "to", "latency_ms", "jitter_ms", "loss", "bandwidth_mbps", "source"};
constexpr std::string_view kDefaultLinkKeys[] = {"latency_ms", "jitter_ms", "loss",
                                                 "bandwidth_mbps", "source"};
constexpr std::string_view kLogKeys[] = {"ack_latency_ms", "fetch_wait_ms", "retention_s",
                                         "produce_timeout_ms", "producer_buffer_records"};
constexpr std::string_view kDiskKeys[] = {"write_latency_us", "fsync_latency_us",
                                          "throughput_mb_per_s"};
constexpr std::string_view kHnswKeys[] = {"hnsw_m", "hnsw_ef_construction", "hnsw_ef_search"};
constexpr std::string_view kIvfKeys[] = {"ivf_nlist", "ivf_nprobe", "ivf_train_size"};
constexpr std::string_view kCollectionKeys[] = {"name",           "dimension",
                                                "metric",         "index",
                                                "shards",         "index_partitions",
                                                "routing_seed",   "initial_vectors",
                                                "hnsw_m",         "hnsw_ef_construction",
                                                "hnsw_ef_search", "ivf_nlist",
                                                "ivf_nprobe",     "ivf_train_size"};
constexpr std::string_view kWorkloadKeys[] = {"collection",
                                              "keys",
                                              "key_distribution",
                                              "zipf_exponent",
                                              "hot_shard",
                                              "per_region",
                                              "regions",
                                              "sessions_per_region",
                                              "session_reads_per_s",
                                              "k",
                                              "exact_search_fraction",
                                              "failover",
                                              "request_timeout_ms"};
constexpr std::string_view kRateKeys[] = {"upserts_per_s", "deletes_per_s", "patches_per_s",
                                          "searches_per_s"};
constexpr std::string_view kFaultCommonKeys[] = {"at_s", "duration_s", "kind"};
constexpr std::string_view kFaultKeys[] = {
    "at_s",   "duration_s", "kind",        "regions", "region", "between",       "from",   "to",
    "factor", "period_ms",  "up_fraction", "skew_ms", "ppm",    "lose_unsynced", "step_ms"};
constexpr std::string_view kSwarmKeys[] = {"enabled",
                                           "max_fault_duration_s",
                                           "link_loss",
                                           "slow_link_factor",
                                           "max_clock_skew_ms",
                                           "partition_per_minute",
                                           "one_way_partition_per_minute",
                                           "isolate_per_minute",
                                           "region_outage_per_minute",
                                           "broker_outage_per_minute",
                                           "slow_link_per_minute",
                                           "flapping_link_per_minute",
                                           "clock_skew_per_minute",
                                           "clock_drift_per_minute",
                                           "disk_stall_per_minute",
                                           "compaction_stall_per_minute",
                                           "crash_restart_per_minute",
                                           "swizzle_clog_per_minute"};
constexpr std::string_view kSweepKeys[] = {"duration_s", "rates_scale"};
constexpr std::string_view kExpectKeys[] = {
    "converge",      "no_lost_acknowledged_writes", "read_your_writes", "max_error_rate",
    "search_p99_ms", "replication_lag_p99_ms",      "max_staleness_ms", "hot_shard_detected",
    "coverage"};
constexpr std::string_view kLagKeys[] = {"from", "to", "max_ms"};

constexpr FaultKind kAllFaultKinds[] = {
    FaultKind::kPartition,    FaultKind::kOneWayPartition, FaultKind::kIsolate,
    FaultKind::kRegionOutage, FaultKind::kBrokerOutage,    FaultKind::kSlowLink,
    FaultKind::kFlappingLink, FaultKind::kClockSkew,       FaultKind::kClockDrift,
    FaultKind::kDiskStall,    FaultKind::kCompactionStall, FaultKind::kCrashRestart,
    FaultKind::kSwizzleClog};
static_assert(std::size(kAllFaultKinds) == kFaultKindCount);

// The keys a fault of `kind` takes besides at_s, duration_s and kind.
std::vector<std::string_view> fault_kind_keys(FaultKind kind) {
  switch (kind) {
    case FaultKind::kPartition: return {"regions"};
    case FaultKind::kOneWayPartition: return {"from", "to"};
    case FaultKind::kIsolate:
    case FaultKind::kRegionOutage:
    case FaultKind::kBrokerOutage:
    case FaultKind::kDiskStall: return {"region"};
    case FaultKind::kSlowLink: return {"between", "from", "to", "factor"};
    case FaultKind::kFlappingLink: return {"between", "from", "to", "period_ms", "up_fraction"};
    case FaultKind::kClockSkew: return {"region", "skew_ms"};
    case FaultKind::kClockDrift: return {"region", "ppm"};
    case FaultKind::kCompactionStall: return {"region", "factor"};
    case FaultKind::kCrashRestart: return {"region", "lose_unsynced"};
    case FaultKind::kSwizzleClog: return {"regions", "step_ms"};
  }
  return {};
}

bool is_region_fault(FaultKind kind) {
  const std::vector<std::string_view> keys = fault_kind_keys(kind);
  return std::find(keys.begin(), keys.end(), "region") != keys.end();
}

// Directed links (from * n + to) a link fault acts on; empty for region faults.
std::vector<size_t> fault_links(const FaultSpec& f, size_t n) {
  std::vector<size_t> out;
  switch (f.kind) {
    case FaultKind::kPartition:
      out = {f.regions[0] * n + f.regions[1], f.regions[1] * n + f.regions[0]};
      break;
    case FaultKind::kOneWayPartition:
    case FaultKind::kSlowLink:
    case FaultKind::kFlappingLink:
      out.push_back(f.from * n + f.to);
      if (f.both_directions) out.push_back(f.to * n + f.from);
      break;
    case FaultKind::kSwizzleClog:
      for (RegionIndex a : f.regions) {
        for (RegionIndex b : f.regions) {
          if (a != b) out.push_back(a * n + b);
        }
      }
      break;
    default: break;
  }
  return out;
}

// Why faults `a` and `b` (overlapping in time) contradict each other, or "" if they do not.
std::string fault_conflict(const FaultSpec& a, const FaultSpec& b, size_t n) {
  const auto is = [&](FaultKind x, FaultKind y) { return a.kind == x && b.kind == y; };
  if ((is(FaultKind::kCrashRestart, FaultKind::kRegionOutage) ||
       is(FaultKind::kRegionOutage, FaultKind::kCrashRestart)) &&
      a.region == b.region) {
    return "a crash_restart during a region_outage of the same region";
  }
  // Clock steps compose (they add up), so two clock_skew faults may overlap.
  if (a.kind != b.kind || a.kind == FaultKind::kClockSkew) return "";
  const std::string kind = fault_kind_name(a.kind);
  if (is_region_fault(a.kind)) {
    return a.region == b.region ? "two " + kind + " faults on the same region at the same time"
                                : "";
  }
  const std::vector<size_t> la = fault_links(a, n);
  for (size_t l : fault_links(b, n)) {
    if (std::find(la.begin(), la.end(), l) != la.end()) {
      return "two " + kind + " faults on the same link at the same time";
    }
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Documents. yaml-cpp 0.7's LoadAll loops forever, allocating, on a stray ',' outside a flow
// collection (jbeder/yaml-cpp#1040; fixed in 0.8.0 by #1319): its parser keeps reporting an
// empty document without consuming the token. So the loader never calls LoadAll: it walks at
// most two documents with the event parser to reject a second one, then loads the first with
// YAML::Load, which parses exactly one.

// Remembers where a document's first node is.
class FirstNodeMark final : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> mark;

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { see(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { see(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    see(m);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    see(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    see(m);
  }
  void OnMapEnd() override {}

 private:
  void see(const YAML::Mark& m) {
    if (!mark) mark = m;
  }
};

// Why `text` is not a single document (line, message), or nullopt. Syntax errors in the first
// two documents throw YAML::ParserException.
std::optional<std::pair<int, std::string>> multiple_documents(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  FirstNodeMark first;
  FirstNodeMark second;
  if (!parser.HandleNextDocument(first) || !parser.HandleNextDocument(second)) return std::nullopt;
  const int line = second.mark ? second.mark->line + 1 : 1;
  if (first.mark && second.mark && first.mark->pos == second.mark->pos) {
    // No progress: the bug above. The character there is one no document may start with.
    const size_t pos = size_t(std::max(second.mark->pos, 0));
    return std::pair(line, "YAML syntax error: unexpected '" +
                               (pos < text.size() ? text.substr(pos, 1) : "") + "'");
  }
  return std::pair(line, "a scenario file holds one YAML document; found a second");
}

// ---------------------------------------------------------------------------------------------
// The parser: one pass over the document, sections in dependency order (regions first, since
// links, workload, faults and expectations refer to them).

class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}
  Scenario parse(const std::string& text);

 private:
  struct Endpoints {
    RegionIndex from;
    RegionIndex to;
    bool both_directions;
  };

  [[noreturn]] void fail_at_line(int line, const std::string& what) const {
    throw LoadError{source_ + ":" + std::to_string(line) + ": " + what};
  }
  std::string region_names() const;
  RegionIndex region_ref(const Cursor& c) const;
  std::vector<RegionIndex> region_list(const Cursor& c, size_t min, size_t max) const;
  Endpoints endpoints(const Fields& f) const;
  ValueRange range(const Cursor& c, const Bounds& b) const;

  void parse_regions(const Cursor& c);
  void parse_links(const Fields& top);
  ScenarioLink link_params(const Fields& f) const;
  void parse_log(const Cursor& c);
  void parse_disk(const Cursor& c);
  void parse_collection(const Cursor& c);
  void parse_workload(const Cursor& c);
  void parse_rates(const Cursor& c, OpRates* rates) const;
  FaultSpec parse_fault(const Cursor& c) const;
  void parse_faults(const Cursor& c);
  void parse_swarm(const Cursor& c);
  void parse_sweep(const Cursor& c);
  void parse_expect(const Cursor& c);
  void parse_search_p99(const Cursor& c);
  void parse_lag_bounds(const Cursor& c);

  std::string source_;
  Scenario sc_;
  std::vector<int> region_lines_;      // per region: the line of its name
  std::vector<int> collection_lines_;  // per collection: the line of its name
};

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

void Parser::parse_rates(const Cursor& c, OpRates* rates) const {
  const Fields f(c, kRateKeys);
  const Bounds b = closed(0, 1e6);
  rates->upserts_per_s = f.number("upserts_per_s", b, rates->upserts_per_s);
  rates->deletes_per_s = f.number("deletes_per_s", b, rates->deletes_per_s);
  rates->patches_per_s = f.number("patches_per_s", b, rates->patches_per_s);
  rates->searches_per_s = f.number("searches_per_s", b, rates->searches_per_s);
}

void Parser::parse_workload(const Cursor& c) {
  const Fields f(c, kWorkloadKeys);
  WorkloadSpec& w = sc_.workload;
  if (auto cc = f.get("collection")) {
    w.collection = cc->text();
    std::string names;
    for (size_t i = 0; i < sc_.collections.size(); ++i) {
      names += (names.empty() ? "" : ", ") + sc_.collections[i].config.name;
      if (sc_.collections[i].config.name == w.collection) w.collection_index = i;
    }
    if (sc_.collections[w.collection_index].config.name != w.collection) {
      cc->fail("unknown collection '" + w.collection + "' (collections: " + names + ")");
    }
  } else if (sc_.collections.size() == 1) {
    w.collection = sc_.collections[0].config.name;
  } else {
    f.at("collection").fail("required when there is more than one collection");
  }
  const CollectionConfig& cfg = sc_.collections[w.collection_index].config;

  w.keys = uint64_t(f.need("keys").integer(1, 1'000'000'000'000));
  if (auto d = f.get("key_distribution")) {
    const std::string s = d->text();
    if (s == "uniform") {
      w.key_distribution = KeyDistribution::kUniform;
    } else if (s == "zipf") {
      w.key_distribution = KeyDistribution::kZipf;
    } else {
      d->fail("must be uniform or zipf (got '" + s + "')");
    }
  }
  for (std::string_view key : {"zipf_exponent", "hot_shard"}) {
    if (f.has(key) && w.key_distribution != KeyDistribution::kZipf) {
      f.at(key).fail("only applies to key_distribution: zipf");
    }
  }
  w.zipf_exponent = f.number("zipf_exponent", open_closed(0, 10), w.zipf_exponent);
  if (auto h = f.get("hot_shard")) w.hot_shard = uint32_t(h->integer(0, cfg.num_shards - 1));

  OpRates base;
  if (auto p = f.get("per_region")) parse_rates(*p, &base);
  w.rates.assign(sc_.regions.size(), base);
  if (auto r = f.get("regions")) {
    const Fields by_region(*r, {});
    for (size_t i = 0; i < by_region.size(); ++i) {
      const RegionIndex region = region_ref(by_region.key_cursor(i));
      parse_rates(*by_region.get(by_region.key_at(i)), &w.rates[region]);
    }
  }
  w.sessions_per_region = uint32_t(f.integer("sessions_per_region", 0, 100'000, 0));
  w.session_reads_per_s =
      f.number("session_reads_per_s", open_closed(0, 10'000), w.session_reads_per_s);
  w.k = uint32_t(f.integer("k", 1, int64_t(kMaxSearchK), w.k));
  w.exact_search_fraction = f.number("exact_search_fraction", closed(0, 1), 1.0);
  w.failover = f.boolean("failover", false);
  w.request_timeout_ns = f.duration("request_timeout_ms", env::kMillisecond, open_closed(0, 3.6e6),
                                    w.request_timeout_ns);
}

FaultSpec Parser::parse_fault(const Cursor& c) const {
  const Fields f(c, kFaultKeys);
  FaultSpec x;
  x.source_line = c.line();
  const Cursor kind = f.need("kind");
  const std::string kind_name = kind.text();
  std::vector<std::string_view> all_kinds;
  for (FaultKind k : kAllFaultKinds) all_kinds.push_back(fault_kind_name(k));
  const auto it = std::find(all_kinds.begin(), all_kinds.end(), kind_name);
  if (it == all_kinds.end())
    kind.fail("unknown fault kind '" + kind_name + "' (kinds: " + join(all_kinds) + ")");
  x.kind = kAllFaultKinds[it - all_kinds.begin()];

  const std::vector<std::string_view> takes = fault_kind_keys(x.kind);
  for (size_t i = 0; i < f.size(); ++i) {
    const std::string& key = f.key_at(i);
    if (std::find(std::begin(kFaultCommonKeys), std::end(kFaultCommonKeys), key) ==
            std::end(kFaultCommonKeys) &&
        std::find(takes.begin(), takes.end(), key) == takes.end()) {
      f.key_cursor(i).fail("not a field of kind " + kind_name + " (it takes: " + join(takes) + ")");
    }
  }

  const double run_s = double(sc_.duration_ns) / double(env::kSecond);
  x.at_ns = f.need("at_s").duration(env::kSecond, closed_open(0, run_s));
  const Cursor duration = f.need("duration_s");
  x.duration_ns = duration.duration(env::kSecond, open_closed(0, 7 * 86400));
  if (x.at_ns + x.duration_ns > sc_.duration_ns) {
    duration.fail("the fault would end at " + fmt(double(x.at_ns + x.duration_ns) / 1e9) +
                  " s, after the faulty phase (duration_s: " + fmt(run_s) +
                  "); the liveness phase heals every fault");
  }

  const TimeNs ms = env::kMillisecond;
  if (std::find(takes.begin(), takes.end(), "region") != takes.end()) {
    x.region = region_ref(f.need("region"));
  }
  switch (x.kind) {
    case FaultKind::kPartition: x.regions = region_list(f.need("regions"), 2, 2); break;
    case FaultKind::kSwizzleClog:
      x.regions = region_list(f.need("regions"), 2, kMaxScenarioRegions);
      x.step_ns = f.need("step_ms").duration(ms, open_closed(0, 3.6e6));
      break;
    case FaultKind::kOneWayPartition:
    case FaultKind::kSlowLink:
    case FaultKind::kFlappingLink: {
      const Endpoints e = endpoints(f);
      x.from = e.from;
      x.to = e.to;
      x.both_directions = e.both_directions;
      break;
    }
    default: break;
  }
  switch (x.kind) {
    case FaultKind::kSlowLink:
    case FaultKind::kCompactionStall: x.factor = f.need("factor").number(closed(1, 1000)); break;
    case FaultKind::kFlappingLink:
      x.period_ns = f.need("period_ms").duration(ms, open_closed(0, 3.6e6));
      x.up_fraction = f.number("up_fraction", Bounds{0, 1, true, true}, x.up_fraction);
      break;
    case FaultKind::kClockSkew: {
      const Cursor skew = f.need("skew_ms");
      x.skew_ns = skew.duration(ms, closed(-86'400'000, 86'400'000));
      if (x.skew_ns == 0) skew.fail("must not be 0 (a skew fault steps the clock)");
      break;
    }
    case FaultKind::kClockDrift: {
      const Cursor ppm = f.need("ppm");
      x.drift_ppm = ppm.number(closed(-100'000, 100'000));
      if (x.drift_ppm == 0) ppm.fail("must not be 0");
      break;
    }
    case FaultKind::kCrashRestart: x.lose_unsynced = f.boolean("lose_unsynced", true); break;
    default: break;
  }
  return x;
}

void Parser::parse_faults(const Cursor& c) {
  c.expect_sequence();
  const size_t n = sc_.regions.size();
  for (size_t j = 0; j < c.node().size(); ++j) {
    const Cursor item = c.item(j);
    FaultSpec x = parse_fault(item);
    for (size_t i = 0; i < sc_.faults.size(); ++i) {
      const FaultSpec& y = sc_.faults[i];
      if (y.at_ns >= x.at_ns + x.duration_ns || x.at_ns >= y.at_ns + y.duration_ns) continue;
      if (std::string why = fault_conflict(y, x, n); !why.empty()) {
        item.fail("overlaps faults[" + std::to_string(i) + "] (line " +
                  std::to_string(y.source_line) + "): " + why);
      }
    }
    sc_.faults.push_back(std::move(x));
  }
}

void Parser::parse_swarm(const Cursor& c) {
  const Fields f(c, kSwarmKeys);
  SwarmSpec& s = sc_.swarm;
  s.enabled = f.boolean("enabled", false);
  for (FaultKind kind : kAllFaultKinds) {
    if (auto r = f.get(std::string(fault_kind_name(kind)) + "_per_minute")) {
      s.faults_per_minute[kind] = range(*r, closed(0, 600));
    }
  }
  s.max_fault_duration_ns = f.duration("max_fault_duration_s", env::kSecond, open_closed(0, 86400),
                                       s.max_fault_duration_ns);
  if (auto r = f.get("link_loss")) s.link_loss = range(*r, closed_open(0, 1));
  if (auto r = f.get("slow_link_factor")) s.slow_link_factor = range(*r, closed(1, 1000));
  s.max_clock_skew_ns = f.duration("max_clock_skew_ms", env::kMillisecond, closed(0, 86'400'000),
                                   s.max_clock_skew_ns);
}

void Parser::parse_sweep(const Cursor& c) {
  const Fields f(c, kSweepKeys);
  SweepSpec s;
  s.duration_ns =
      f.duration("duration_s", env::kSecond,
                 open_closed(0, double(sc_.duration_ns) / double(env::kSecond)), sc_.duration_ns);
  s.rates_scale = f.number("rates_scale", open_closed(0, 1), 1.0);
  sc_.sweep = s;
}

void Parser::parse_search_p99(const Cursor& c) {
  const Bounds b = open_closed(0, 3.6e6);
  std::vector<std::optional<TimeNs>>& out = sc_.expect.search_p99_max_ns;
  if (!c.node().IsMap()) {
    const TimeNs bound = c.duration(env::kMillisecond, b);
    std::fill(out.begin(), out.end(), bound);
    return;
  }
  const Fields by_region(c, {});
  for (size_t i = 0; i < by_region.size(); ++i) {
    const RegionIndex region = region_ref(by_region.key_cursor(i));
    out[region] = by_region.get(by_region.key_at(i))->duration(env::kMillisecond, b);
  }
}

void Parser::parse_lag_bounds(const Cursor& c) {
  c.expect_sequence();
  for (size_t i = 0; i < c.node().size(); ++i) {
    const Fields f(c.item(i), kLagKeys);
    LagBound lag;
    lag.from = region_ref(f.need("from"));
    const Cursor to = f.need("to");
    lag.to = region_ref(to);
    if (lag.from == lag.to) to.fail("from and to are the same region");
    for (const LagBound& prev : sc_.expect.replication_lag_p99) {
      if (prev.from == lag.from && prev.to == lag.to) {
        to.fail("a bound for " + sc_.regions[lag.from].name + " -> " + sc_.regions[lag.to].name +
                " is already given");
      }
    }
    const Cursor max = f.need("max_ms");
    lag.p99_max_ns = max.duration(env::kMillisecond, open_closed(0, 86'400'000));
    const TimeNs floor = sc_.link(lag.from, lag.to).latency_ns;
    if (lag.p99_max_ns <= floor) {
      max.fail(fmt(double(lag.p99_max_ns) / 1e6) + " ms is not above the one-way latency " +
               sc_.regions[lag.from].name + " -> " + sc_.regions[lag.to].name + " (" +
               fmt(double(floor) / 1e6) + " ms): no replication is that fast");
    }
    sc_.expect.replication_lag_p99.push_back(lag);
  }
}

void Parser::parse_expect(const Cursor& c) {
  const Fields f(c, kExpectKeys);
  Expectations& e = sc_.expect;
  e.converge = f.boolean("converge", e.converge);
  e.no_lost_acknowledged_writes =
      f.boolean("no_lost_acknowledged_writes", e.no_lost_acknowledged_writes);
  e.read_your_writes = f.boolean("read_your_writes", e.read_your_writes);
  if (auto m = f.get("max_error_rate")) e.max_error_rate = m->number(closed(0, 1));
  if (auto p = f.get("search_p99_ms")) parse_search_p99(*p);
  if (auto l = f.get("replication_lag_p99_ms")) parse_lag_bounds(*l);
  if (auto s = f.get("max_staleness_ms")) {
    e.max_staleness_ns = s->duration(env::kMillisecond, open_closed(0, 86'400'000));
  }
  if (auto h = f.get("hot_shard_detected")) e.hot_shard_detected = h->boolean();
  if (auto cov = f.get("coverage")) {
    cov->expect_sequence();
    for (size_t i = 0; i < cov->node().size(); ++i) {
      const Cursor item = cov->item(i);
      const std::string mark = item.text();
      const bool ok = !mark.empty() && std::all_of(mark.begin(), mark.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
      });
      if (!ok) item.fail("'" + mark + "' is not a coverage mark name ([a-z0-9_]+)");
      if (std::find(e.coverage.begin(), e.coverage.end(), mark) != e.coverage.end()) {
        item.fail("coverage mark '" + mark + "' is listed twice");
      }
      e.coverage.push_back(mark);
    }
  }
}

}  // namespace

Result<Scenario> parse_scenario(const std::string& yaml_text, const std::string& source_name) {
  try {
    return Parser(source_name).parse(yaml_text);
  } catch (const LoadError& e) {
    return Status::invalid_argument(e.message);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 1 : e.mark.line + 1;
    return Status::invalid_argument(source_name + ":" + std::to_string(line) + ": " + e.msg);
  } catch (const std::exception& e) {
    return Status::invalid_argument(source_name + ":1: cannot load scenario: " + e.what());
  }
}

Result<Scenario> load_scenario_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found(path + ": cannot open: " + std::strerror(errno));
  std::string text(kMaxFileBytes + 1, '\0');
  in.read(text.data(), std::streamsize(text.size()));
  if (in.bad()) return Status::invalid_argument(path + ": cannot read: " + std::strerror(errno));
  text.resize(size_t(in.gcount()));
  if (text.size() > kMaxFileBytes) {
    return Status::too_large(path + ": larger than " + std::to_string(kMaxFileBytes) +
                             " bytes; not a scenario file");
  }
  return parse_scenario(text, path);
}

}  // namespace meridian::sim
