// The simulated network (see network.h for the contract).
//
// Model of one directed link, per message sent at virtual time `now`:
//
//   1. If the link is down (cut, or either end isolated), the message is dropped
//      (`dropped_partition`) and nothing else happens: no random draw, no wire time.
//   2. Two draws from the link's own stream, always both, in this order: u_loss, u_jitter. A
//      fixed number of draws per message keeps the stream aligned when a scenario changes the
//      loss rate or jitter mid-run.
//   3. Serialisation (bandwidth > 0): the message occupies the wire for bytes / bandwidth
//      seconds, starting when the previous message finished (or now, if the wire is idle):
//        tx_end = max(now, wire_free_at) + ceil(bytes * 1e9 / bandwidth).
//      With unlimited bandwidth tx_end = now.
//   4. Loss: if u_loss < loss the message is dropped (`dropped_loss`). It was transmitted and
//      lost in transit, so it still used its wire time in step 3.
//   5. Propagation: latency * slowdown + floor(u_jitter * jitter * slowdown).
//   6. FIFO: arrival = max(tx_end + propagation, previous arrival on the link), so messages never
//      overtake each other on one link (like one TCP connection), whatever the jitter.
//
// A message already on the wire when its link goes down (cut, partition, isolate) still arrives:
// it is a packet that left before the fault. Only messages sent while the link is down are lost.
//
// Link state changes compose by counting: cut/partition add one cut to a directed link and
// restore/heal take one away (never below zero); isolate/rejoin do the same for a region. A link
// is up when it has no cuts and neither end has isolations. So overlapping faults of different
// kinds on one link (a partition during a flapping link or a swizzle-clog; an isolate during a
// region outage) end independently: the first to end does not bring the link up under the
// other. heal(a, b) while `a` is isolated leaves `a` isolated, and rejoin(a) does not undo an
// explicit partition(a, b). heal_all zeroes every count (but keeps slowdowns).
//
// Messages within one region (from == to) are never dropped; they arrive after the local latency,
// in FIFO order, and count in `sent`, `bytes_sent` and `delivered`.
#include "sim/network.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <utility>

namespace meridian::sim {

namespace {

// `t * factor` rounded to the nearest nanosecond; exact when factor is 1.
TimeNs scaled(TimeNs t, double factor) {
  if (factor == 1.0) return t;
  const double v = std::round(double(t) * factor);
  assert(v >= 0 && v < 0x1.0p62);
  return TimeNs(v);
}

bool valid_spec(const LinkSpec& s) {
  return s.latency >= 0 && s.jitter >= 0 && s.loss >= 0.0 && s.loss <= 1.0 &&
         s.bandwidth_bytes_per_s >= 0.0 && std::isfinite(s.bandwidth_bytes_per_s);
}

}  // namespace

Network::Network(Scheduler& scheduler, Rng rng)
    : scheduler_(scheduler), link_seed_(rng.next_u64()) {}

Network::Link& Network::link_at(RegionIndex from, RegionIndex to) {
  assert(from < names_.size() && to < names_.size());
  return links_[from][to];
}

const Network::Link& Network::link_at(RegionIndex from, RegionIndex to) const {
  assert(from < names_.size() && to < names_.size());
  return links_[from][to];
}

RegionIndex Network::add_region(const std::string& name, const LinkSpec& default_link) {
  assert(valid_spec(default_link));
  assert(find_region(name) == names_.size() && "region names must be unique");
  assert(names_.size() < size_t(UINT32_MAX));
  const RegionIndex r = RegionIndex(names_.size());
  names_.push_back(name);
  isolations_.push_back(0);

  auto make_link = [&](RegionIndex from, RegionIndex to) {
    Link l;
    l.spec = default_link;
    l.rng = Rng::derive(link_seed_, names_[from] + "->" + names_[to]);
    return l;
  };
  for (RegionIndex from = 0; from < r; ++from) links_[from].push_back(make_link(from, r));
  links_.emplace_back();
  links_[r].reserve(r + 1);
  for (RegionIndex to = 0; to <= r; ++to) links_[r].push_back(make_link(r, to));
  return r;
}

size_t Network::region_count() const { return names_.size(); }

const std::string& Network::region_name(RegionIndex r) const {
  assert(r < names_.size());
  return names_[r];
}

RegionIndex Network::find_region(const std::string& name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return RegionIndex(i);
  }
  return RegionIndex(names_.size());
}

void Network::set_link(RegionIndex from, RegionIndex to, const LinkSpec& spec) {
  assert(from != to && "the local path is set with set_local_latency");
  assert(valid_spec(spec));
  link_at(from, to).spec = spec;
}

const LinkSpec& Network::link(RegionIndex from, RegionIndex to) const {
  return link_at(from, to).spec;
}

void Network::send(RegionIndex from, RegionIndex to, size_t bytes, std::function<void()> deliver) {
  assert(deliver);
  Link& l = link_at(from, to);
  const TimeNs now = scheduler_.now();
  ++stats_.sent;
  stats_.bytes_sent += bytes;

  TimeNs arrival;
  if (from == to) {
    arrival = now + local_latency_;
  } else {
    if (!is_up(from, to)) {
      ++stats_.dropped_partition;
      return;
    }
    const double u_loss = l.rng.next_unit();
    const double u_jitter = l.rng.next_unit();

    TimeNs tx_end = now;
    if (l.spec.bandwidth_bytes_per_s > 0) {
      const double tx = std::ceil(double(bytes) * 1e9 / l.spec.bandwidth_bytes_per_s);
      assert(tx >= 0 && tx < 0x1.0p62);
      tx_end = std::max(now, l.wire_free_at) + TimeNs(tx);
      l.wire_free_at = tx_end;
    }
    if (u_loss < l.spec.loss) {
      ++stats_.dropped_loss;
      return;
    }
    const TimeNs jitter = TimeNs(u_jitter * double(l.spec.jitter) * l.slowdown);
    assert(jitter >= 0);
    arrival = tx_end + scaled(l.spec.latency, l.slowdown) + jitter;
  }
  arrival = std::max(arrival, l.last_arrival);
  l.last_arrival = arrival;
  assert(arrival >= now);
  scheduler_.at(arrival, [this, deliver = std::move(deliver)] {
    ++stats_.delivered;
    deliver();
  });
}

void Network::cut(RegionIndex from, RegionIndex to) {
  if (from == to) return;
  Link& l = link_at(from, to);
  assert(l.cuts < UINT32_MAX);
  ++l.cuts;
}

void Network::restore(RegionIndex from, RegionIndex to) {
  if (from == to) return;
  Link& l = link_at(from, to);
  if (l.cuts > 0) --l.cuts;
}

void Network::partition(RegionIndex a, RegionIndex b) {
  cut(a, b);
  cut(b, a);
}

void Network::heal(RegionIndex a, RegionIndex b) {
  restore(a, b);
  restore(b, a);
}

void Network::isolate(RegionIndex r) {
  assert(r < names_.size());
  assert(isolations_[r] < UINT32_MAX);
  ++isolations_[r];
}

void Network::rejoin(RegionIndex r) {
  assert(r < names_.size());
  if (isolations_[r] > 0) --isolations_[r];
}

void Network::heal_all() {
  for (auto& row : links_) {
    for (Link& l : row) l.cuts = 0;
  }
  std::fill(isolations_.begin(), isolations_.end(), 0);
}

void Network::slow(RegionIndex from, RegionIndex to, double factor) {
  assert(from != to && "the local path has no slowdown");
  assert(std::isfinite(factor) && factor > 0);
  link_at(from, to).slowdown = factor;
}

bool Network::is_up(RegionIndex from, RegionIndex to) const {
  if (from == to) return true;
  return link_at(from, to).cuts == 0 && isolations_[from] == 0 && isolations_[to] == 0;
}

TimeNs Network::expected_latency(RegionIndex from, RegionIndex to) const {
  if (from == to) return local_latency_;
  const Link& l = link_at(from, to);
  return scaled(l.spec.latency, l.slowdown);
}

void Network::set_local_latency(TimeNs latency) {
  assert(latency >= 0);
  local_latency_ = latency;
}

const NetworkStats& Network::stats() const { return stats_; }

}  // namespace meridian::sim
