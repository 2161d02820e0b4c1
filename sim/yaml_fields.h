// A strict reader for YAML maps and values, the scenario loader's building block.
//
// The contract: every read of a value goes through a Cursor (source name, field path, line), and
// every rejection throws LoadError whose message has the form
//
//   <source>:<line>: <field path>: <reason>
//
// (the path is left out at the top level). Fields reads a map strictly: keys must be unique
// scalars from an allowed set, an unknown key gets a "did you mean" hint, and a missing required
// key is reported at the line of the map that should hold it. Numbers, integers and booleans are
// plain scalars only (a quoted "5" is a string). Callers catch LoadError at one place and turn
// it into a Status; see parse_scenario.
//
// Internal to sim/ (the scenario loader); not a general-purpose API.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/env/env.h"

namespace meridian::sim::scenario_detail {

// How the loader gives up: it throws LoadError with the finished message, and parse_scenario
// turns that into a Status. Nothing leaves the loader as an exception.
struct LoadError {
  std::string message;
};

inline constexpr double kInf = std::numeric_limits<double>::infinity();

// ---------------------------------------------------------------------------------------------
// Small helpers: number formatting, allowed ranges, key suggestions.

// `v` with up to 15 significant digits, as messages show numbers.
std::string fmt(double v);

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
inline Bounds closed(double lo, double hi) { return {lo, hi, false, false}; }
inline Bounds open_closed(double lo, double hi) { return {lo, hi, true, false}; }
inline Bounds closed_open(double lo, double hi) { return {lo, hi, false, true}; }

// Levenshtein distance between `a` and `b`.
size_t edit_distance(std::string_view a, std::string_view b);

// `words` separated by ", ".
std::string join(std::span<const std::string_view> words);

// "unknown key (did you mean 'x'?)" for a near miss, else the list of allowed keys.
std::string unknown_key_message(std::string_view key, std::span<const std::string_view> allowed);

// [A-Za-z0-9_-].
bool is_name_char(char c);

// What a node is, for "expected X, got Y" messages: "a map", "'5'", "the quoted string '5'"...
std::string describe_node(const YAML::Node& n);

// Line (1-based) of a node, or `fallback` when yaml-cpp has no position for it.
int line_of(const YAML::Node& n, int fallback);

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
  env::TimeNs duration(env::TimeNs unit, const Bounds& b) const {
    return env::TimeNs(std::llround(number(b) * double(unit)));
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
  env::TimeNs duration(std::string_view key, env::TimeNs unit, const Bounds& b,
                       env::TimeNs fallback) const {
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

}  // namespace meridian::sim::scenario_detail
