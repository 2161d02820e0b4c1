// The simulated network between regions: directed links with latency, jitter, loss and
// bandwidth, and the faults scenarios inject (partitions, one-way partitions, slow links,
// clogging, flapping).
//
// A link behaves like one TCP connection: messages that arrive arrive in the order they were
// sent (FIFO per directed link). A message sent while the link is cut, or lost to the loss rate,
// is dropped silently; senders detect that with their own timeouts, as real ones do.
// Regions are numbered 0..n-1 in the order they were added. Every random draw comes from the
// Rng given at construction, so the network is deterministic for a seed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/rng.h"
#include "sim/scheduler.h"

namespace meridian::sim {

using RegionIndex = uint32_t;

struct LinkSpec {
  TimeNs latency = 0;                // base one-way latency
  TimeNs jitter = 0;                 // each message adds uniform [0, jitter)
  double loss = 0.0;                 // probability a message is dropped, [0, 1]
  double bandwidth_bytes_per_s = 0;  // 0 = unlimited; else messages serialise on the link
};

struct NetworkStats {
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t dropped_partition = 0;
  uint64_t dropped_loss = 0;
  uint64_t bytes_sent = 0;
};

class Network {
 public:
  Network(Scheduler& scheduler, Rng rng);

  // Adds a region; links to and from it start as `default_link` until set_link.
  RegionIndex add_region(const std::string& name, const LinkSpec& default_link = {});
  size_t region_count() const;
  const std::string& region_name(RegionIndex r) const;
  // REQUIRES: the name was added. Returns region_count() if not found.
  RegionIndex find_region(const std::string& name) const;

  void set_link(RegionIndex from, RegionIndex to, const LinkSpec& spec);
  const LinkSpec& link(RegionIndex from, RegionIndex to) const;

  // Sends `bytes` from `from` to `to`; `deliver` runs at arrival, or never if the message is
  // dropped. Messages within one region (from == to) arrive after `local_latency`.
  // Arrival = end of serialisation (bytes / bandwidth, after the link's previous message) +
  // latency * slowdown + uniform[0, jitter) * slowdown, but never before the previous arrival on
  // the link (FIFO). A message lost to `loss` still used its wire time.
  void send(RegionIndex from, RegionIndex to, size_t bytes, std::function<void()> deliver);

  // Faults. Cutting a directed link drops what is sent on it until it is restored (messages
  // already in flight still arrive). Cuts are counted per directed link and isolations per
  // region, so overlapping faults compose: a link is up only when every cut of it has been
  // restored and neither end is isolated. Each fault undoes exactly what it did (cut/restore,
  // partition/heal, isolate/rejoin); a restore, heal or rejoin with nothing to undo does nothing.
  // "Clogged" links (swizzle-clogging) are cut links under another name: the clog fault cuts and
  // restores, and composes with partitions. Cutting or partitioning a region from itself does
  // nothing: local traffic is never dropped.
  void cut(RegionIndex from, RegionIndex to);
  void restore(RegionIndex from, RegionIndex to);
  void partition(RegionIndex a, RegionIndex b);  // both directions
  void heal(RegionIndex a, RegionIndex b);
  void isolate(RegionIndex r);  // every link to and from r
  void rejoin(RegionIndex r);
  void heal_all();  // clears every cut and isolation (not slowdowns)
  // Multiplies the link's latency and jitter by `factor` (1.0 = normal).
  void slow(RegionIndex from, RegionIndex to, double factor);

  bool is_up(RegionIndex from, RegionIndex to) const;
  // Expected one-way latency of the link now (base * slowdown), for timeouts and cost models.
  TimeNs expected_latency(RegionIndex from, RegionIndex to) const;

  void set_local_latency(TimeNs latency);
  const NetworkStats& stats() const;

 private:
  // Scheduled deliveries point back at the network (for stats), so it stays where it was built.
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // One directed link's configuration and state. The diagonal (from == to) is the region's
  // local path: it only uses `last_arrival` (local messages are FIFO too) and is never cut.
  struct Link {
    LinkSpec spec;
    double slowdown = 1.0;    // slow(): multiplies latency and jitter
    uint32_t cuts = 0;        // cut()/partition() minus restore()/heal(); heal_all() zeroes
    TimeNs wire_free_at = 0;  // bandwidth: when the previous message finished serialising
    TimeNs last_arrival = 0;  // FIFO: no message arrives before the previous one on this link
    Rng rng{0};               // the link's own stream, derived from the link's name
  };

  Link& link_at(RegionIndex from, RegionIndex to);
  const Link& link_at(RegionIndex from, RegionIndex to) const;

  Scheduler& scheduler_;
  // Drawn once from the construction Rng; each link's stream derives from it and the link's
  // name ("<from>-><to>"), so traffic on one link never shifts another link's draws.
  uint64_t link_seed_;
  std::vector<std::string> names_;
  std::vector<uint32_t> isolations_;      // per region: isolate() minus rejoin()
  std::vector<std::vector<Link>> links_;  // links_[from][to]
  NetworkStats stats_;
  TimeNs local_latency_ = 100 * env::kMicrosecond;
};

}  // namespace meridian::sim
