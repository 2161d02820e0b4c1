#include "sim/scenario_faults.h"

#include <algorithm>

namespace meridian::sim::scenario_detail {

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

}  // namespace meridian::sim::scenario_detail
