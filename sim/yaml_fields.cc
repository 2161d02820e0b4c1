#include "sim/yaml_fields.h"

#include <sstream>

namespace meridian::sim::scenario_detail {

std::string fmt(double v) {
  std::ostringstream out;
  out.precision(15);
  out << v;
  return out.str();
}

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

}  // namespace meridian::sim::scenario_detail
