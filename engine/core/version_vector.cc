#include "engine/core/version_vector.h"

#include <cassert>

namespace meridian {

void VersionVector::OriginEntry::fold() {
  while (!dots.empty() && *dots.begin() == frontier + 1) {
    ++frontier;
    dots.erase(dots.begin());
  }
}

bool VersionVector::contains(RegionId origin, uint64_t sequence) const {
  auto it = entries_.find(origin);
  if (it == entries_.end() || sequence == 0) return false;
  return sequence <= it->second.frontier || it->second.dots.contains(sequence);
}

bool VersionVector::add(RegionId origin, uint64_t sequence) {
  assert(sequence >= 1);
  OriginEntry& e = entries_[origin];
  if (sequence <= e.frontier) return false;
  if (sequence == e.frontier + 1) {
    e.frontier = sequence;
    e.fold();
    return true;
  }
  return e.dots.insert(sequence).second;
}

void VersionVector::merge(const VersionVector& other) {
  for (const auto& [origin, theirs] : other.entries_) {
    OriginEntry& mine = entries_[origin];
    if (theirs.frontier > mine.frontier) {
      mine.frontier = theirs.frontier;
      mine.dots.erase(mine.dots.begin(), mine.dots.upper_bound(mine.frontier));
    }
    for (uint64_t dot : theirs.dots) {
      if (dot > mine.frontier) mine.dots.insert(dot);
    }
    mine.fold();
  }
}

uint64_t VersionVector::frontier(RegionId origin) const {
  auto it = entries_.find(origin);
  return it == entries_.end() ? 0 : it->second.frontier;
}

uint64_t VersionVector::max_sequence(RegionId origin) const {
  auto it = entries_.find(origin);
  if (it == entries_.end()) return 0;
  return it->second.dots.empty() ? it->second.frontier : *it->second.dots.rbegin();
}

bool VersionVector::covers(const VersionVector& other) const {
  for (const auto& [origin, theirs] : other.entries_) {
    // Our frontier + 1 is never a dot (add() and merge() fold it), so a shorter frontier means
    // at least that sequence is missing.
    if (frontier(origin) < theirs.frontier) return false;
    for (uint64_t dot : theirs.dots) {
      if (!contains(origin, dot)) return false;
    }
  }
  return true;
}

size_t VersionVector::gap_dot_count() const {
  size_t n = 0;
  for (const auto& [origin, e] : entries_) n += e.dots.size();
  return n;
}

std::set<RegionId> VersionVector::origins() const {
  std::set<RegionId> out;
  for (const auto& [origin, e] : entries_) out.insert(origin);
  return out;
}

std::string VersionVector::to_string() const {
  std::string out = "{";
  bool first = true;
  for (const auto& [origin, e] : entries_) {
    if (!first) out += ", ";
    first = false;
    out += std::to_string(origin) + ":" + std::to_string(e.frontier);
    if (!e.dots.empty()) {
      out += "+[";
      bool first_dot = true;
      for (uint64_t d : e.dots) {
        if (!first_dot) out += ",";
        first_dot = false;
        out += std::to_string(d);
      }
      out += "]";
    }
  }
  return out + "}";
}

}  // namespace meridian
