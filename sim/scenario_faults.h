// Fault helpers for the scenario loader: which keys each fault kind takes, which directed links a
// fault acts on, and which overlapping faults contradict each other. Internal to sim/.
#pragma once

#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scenario.h"

namespace meridian::sim::scenario_detail {

inline constexpr FaultKind kAllFaultKinds[] = {
    FaultKind::kPartition,    FaultKind::kOneWayPartition, FaultKind::kIsolate,
    FaultKind::kRegionOutage, FaultKind::kBrokerOutage,    FaultKind::kSlowLink,
    FaultKind::kFlappingLink, FaultKind::kClockSkew,       FaultKind::kClockDrift,
    FaultKind::kDiskStall,    FaultKind::kCompactionStall, FaultKind::kCrashRestart,
    FaultKind::kSwizzleClog};
static_assert(std::size(kAllFaultKinds) == kFaultKindCount);

// The keys a fault of `kind` takes besides at_s, duration_s and kind.
std::vector<std::string_view> fault_kind_keys(FaultKind kind);

// Whether `kind` acts on one region (takes `region`) rather than on links.
bool is_region_fault(FaultKind kind);

// Directed links (from * n + to) a link fault acts on; empty for region faults.
std::vector<size_t> fault_links(const FaultSpec& f, size_t n);

// Why faults `a` and `b` (overlapping in time) contradict each other, or "" if they do not.
std::string fault_conflict(const FaultSpec& a, const FaultSpec& b, size_t n);

}  // namespace meridian::sim::scenario_detail
