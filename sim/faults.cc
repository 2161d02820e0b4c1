#include "sim/faults.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace meridian::sim {

namespace {

std::string seconds(TimeNs t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", double(t) / env::kSecond);
  return buf;
}

}  // namespace

std::string FaultRunner::describe(const Scenario& s, const FaultSpec& f) {
  auto name = [&](RegionIndex r) { return s.regions[r].name; };
  std::string what = fault_kind_name(f.kind);
  switch (f.kind) {
    case FaultKind::kPartition:
      what += " " + name(f.regions[0]) + " <-> " + name(f.regions[1]);
      break;
    case FaultKind::kOneWayPartition:
    case FaultKind::kSlowLink:
    case FaultKind::kFlappingLink:
      what += " " + name(f.from) + (f.both_directions ? " <-> " : " -> ") + name(f.to);
      break;
    case FaultKind::kSwizzleClog:
      what += " among";
      for (RegionIndex r : f.regions) what += " " + name(r);
      break;
    default: what += " " + name(f.region); break;
  }
  return what + " at " + seconds(f.at_ns) + " for " + seconds(f.duration_ns);
}

Status FaultRunner::schedule(const std::vector<FaultSpec>& faults, TimeNs duration) {
  std::vector<FaultSpec> all = faults;
  if (world_.scenario().swarm.enabled) {
    std::vector<FaultSpec> drawn = draw_swarm_faults(duration);
    all.insert(all.end(), drawn.begin(), drawn.end());
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const FaultSpec& a, const FaultSpec& b) { return a.at_ns < b.at_ns; });
  const TimeNs start = world_.start_time();
  for (const FaultSpec& f : all) {
    const size_t id = scheduled_.size();
    scheduled_.push_back(f);
    active_.push_back(false);
    world_.scheduler().at(start + f.at_ns, [this, id] { this->start(scheduled_[id], id); });
    world_.scheduler().at(start + std::min(f.at_ns + f.duration_ns, duration),
                          [this, id] { stop(scheduled_[id], id); });
  }
  return Status::ok();
}

void FaultRunner::start(const FaultSpec& f, size_t id) {
  if (healed_) return;
  active_[id] = true;
  Network& net = world_.network();
  world_.trace().note(world_.scheduler().now(), "fault start: " + describe(world_.scenario(), f));
  switch (f.kind) {
    case FaultKind::kPartition: net.partition(f.regions[0], f.regions[1]); break;
    case FaultKind::kOneWayPartition: net.cut(f.from, f.to); break;
    case FaultKind::kIsolate: net.isolate(f.region); break;
    case FaultKind::kRegionOutage: world_.set_region_outage(f.region, true); break;
    case FaultKind::kBrokerOutage: world_.set_broker_outage(f.region, true); break;
    case FaultKind::kSlowLink:
      net.slow(f.from, f.to, f.factor);
      if (f.both_directions) net.slow(f.to, f.from, f.factor);
      break;
    case FaultKind::kFlappingLink:
      flap(f, id, world_.scheduler().now() + f.duration_ns, false);
      break;
    case FaultKind::kClockSkew:
      world_.set_clock_skew_ns(f.region, world_.clock_skew_ns(f.region) + f.skew_ns);
      break;
    case FaultKind::kClockDrift: drift(id, f.region, f.drift_ppm); break;
    case FaultKind::kDiskStall: world_.set_disk_stalled(f.region, true); break;
    case FaultKind::kCompactionStall: world_.set_disk_slowdown(f.region, f.factor); break;
    case FaultKind::kSwizzleClog: swizzle(f, id); break;
    case FaultKind::kCrashRestart: world_.crash_node(f.region, f.lose_unsynced); break;
  }
}

void FaultRunner::stop(const FaultSpec& f, size_t id) {
  if (!active_[id]) return;
  active_[id] = false;
  Network& net = world_.network();
  world_.trace().note(world_.scheduler().now(), "fault end: " + describe(world_.scenario(), f));
  switch (f.kind) {
    case FaultKind::kPartition: net.heal(f.regions[0], f.regions[1]); break;
    case FaultKind::kOneWayPartition: net.restore(f.from, f.to); break;
    case FaultKind::kIsolate: net.rejoin(f.region); break;
    case FaultKind::kRegionOutage: world_.set_region_outage(f.region, false); break;
    case FaultKind::kBrokerOutage: world_.set_broker_outage(f.region, false); break;
    case FaultKind::kSlowLink:
      net.slow(f.from, f.to, 1.0);
      if (f.both_directions) net.slow(f.to, f.from, 1.0);
      break;
    case FaultKind::kFlappingLink:
      net.restore(f.from, f.to);
      if (f.both_directions) net.restore(f.to, f.from);
      break;
    case FaultKind::kClockSkew:
      world_.set_clock_skew_ns(f.region, world_.clock_skew_ns(f.region) - f.skew_ns);
      break;
    case FaultKind::kClockDrift: break;  // the drift loop sees !active_ and stops
    case FaultKind::kDiskStall: world_.set_disk_stalled(f.region, false); break;
    case FaultKind::kCompactionStall: world_.set_disk_slowdown(f.region, 1.0); break;
    case FaultKind::kSwizzleClog:
      for (size_t i = 0; i < f.regions.size(); ++i) {
        for (size_t j = 0; j < f.regions.size(); ++j) {
          if (i != j) net.restore(f.regions[i], f.regions[j]);
        }
      }
      break;
    case FaultKind::kCrashRestart: world_.restart_node(f.region); break;
  }
}

void FaultRunner::flap(const FaultSpec& f, size_t id, TimeNs ends_at, bool up) {
  if (!active_[id] || healed_) return;
  Network& net = world_.network();
  const TimeNs up_ns = TimeNs(double(f.period_ns) * f.up_fraction);
  if (up) {
    net.restore(f.from, f.to);
    if (f.both_directions) net.restore(f.to, f.from);
  } else {
    net.cut(f.from, f.to);
    if (f.both_directions) net.cut(f.to, f.from);
  }
  const TimeNs next = world_.scheduler().now() + (up ? up_ns : f.period_ns - up_ns);
  if (next < ends_at) {
    world_.scheduler().at(next, [this, &f, id, ends_at, up] { flap(f, id, ends_at, !up); });
  }
}

void FaultRunner::drift(size_t id, RegionIndex region, double ppm) {
  if (!active_[id] || healed_) return;
  const TimeNs tick = 100 * env::kMillisecond;
  const auto gained = TimeNs(double(tick) * ppm * 1e-6);
  world_.set_clock_skew_ns(region, world_.clock_skew_ns(region) + gained);
  world_.scheduler().after(tick, [this, id, region, ppm] { drift(id, region, ppm); });
}

void FaultRunner::swizzle(const FaultSpec& f, size_t id) {
  // FoundationDB's swizzle-clogging: clog the links among the regions one at a time in a random
  // order, then unclog them one at a time in another random order, so the network passes
  // through many partial-partition shapes.
  std::vector<std::pair<RegionIndex, RegionIndex>> links;
  for (RegionIndex a : f.regions) {
    for (RegionIndex b : f.regions) {
      if (a != b) links.emplace_back(a, b);
    }
  }
  Rng rng = world_.rng("faults/swizzle/" + std::to_string(id));
  auto shuffle = [&rng](auto& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.below(i)]);
  };
  shuffle(links);
  auto unclog = links;
  shuffle(unclog);
  const TimeNs now = world_.scheduler().now();
  const TimeNs unclog_from = now + f.duration_ns - TimeNs(unclog.size()) * f.step_ns;
  for (size_t i = 0; i < links.size(); ++i) {
    world_.scheduler().at(now + TimeNs(i) * f.step_ns, [this, id, l = links[i]] {
      if (active_[id] && !healed_) world_.network().cut(l.first, l.second);
    });
    world_.scheduler().at(std::max(now, unclog_from) + TimeNs(i) * f.step_ns,
                          [this, l = unclog[i]] { world_.network().restore(l.first, l.second); });
  }
}

std::vector<FaultSpec> FaultRunner::draw_swarm_faults(TimeNs duration) {
  const Scenario& s = world_.scenario();
  const SwarmSpec& swarm = s.swarm;
  std::vector<FaultSpec> out;
  Rng rng = world_.rng("faults/swarm");
  const auto n = RegionIndex(s.regions.size());
  for (const auto& [kind, range] : swarm.faults_per_minute) {
    const double per_minute = rng.uniform(range.lo, range.hi + 1e-12);
    if (per_minute <= 0 || n < 1) continue;
    const double mean_gap_ns = 60.0 * env::kSecond / per_minute;
    for (double t = rng.exponential(mean_gap_ns); t < double(duration);
         t += rng.exponential(mean_gap_ns)) {
      FaultSpec f;
      f.kind = kind;
      f.at_ns = TimeNs(t);
      f.duration_ns = std::max<TimeNs>(
          env::kMillisecond, TimeNs(rng.next_unit() * double(swarm.max_fault_duration_ns)));
      f.region = RegionIndex(rng.below(n));
      f.from = RegionIndex(rng.below(n));
      f.to = n > 1 ? RegionIndex((f.from + 1 + rng.below(n - 1)) % n) : f.from;
      f.regions = {f.from, f.to};
      f.factor = rng.uniform(swarm.slow_link_factor.lo, swarm.slow_link_factor.hi + 1e-12);
      f.skew_ns = TimeNs(rng.uniform(-1, 1) * double(swarm.max_clock_skew_ns));
      f.drift_ppm = rng.uniform(-500, 500);
      f.period_ns = 2 * env::kSecond;
      f.step_ns = 200 * env::kMillisecond;
      if (n < 2 && (kind == FaultKind::kPartition || kind == FaultKind::kOneWayPartition ||
                    kind == FaultKind::kSlowLink || kind == FaultKind::kFlappingLink ||
                    kind == FaultKind::kSwizzleClog)) {
        continue;
      }
      if (kind == FaultKind::kSwizzleClog) {
        f.regions.clear();
        for (RegionIndex r = 0; r < n; ++r) f.regions.push_back(r);
      }
      out.push_back(std::move(f));
    }
  }
  return out;
}

void FaultRunner::heal_all() {
  for (size_t id = 0; id < scheduled_.size(); ++id) stop(scheduled_[id], id);
  healed_ = true;
  world_.network().heal_all();
}

}  // namespace meridian::sim
