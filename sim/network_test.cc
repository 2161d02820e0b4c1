#include "sim/network.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace meridian::sim {
namespace {

using env::kMicrosecond;
using env::kMillisecond;

LinkSpec fixed(TimeNs latency) {
  LinkSpec s;
  s.latency = latency;
  return s;
}

// Three regions a, b, c; every inter-region link has the given spec.
struct Net {
  Scheduler scheduler;
  Network network;
  RegionIndex a, b, c;

  explicit Net(const LinkSpec& spec, uint64_t seed = 1)
      : network(scheduler, Rng::derive(seed, "network")),
        a(network.add_region("a", spec)),
        b(network.add_region("b", spec)),
        c(network.add_region("c", spec)) {}

  // Sends one message; its arrival time goes to the next slot of `arrivals` (-1 until it arrives).
  void send(RegionIndex from, RegionIndex to, size_t bytes = 100) {
    arrivals.push_back(-1);
    const size_t i = arrivals.size() - 1;
    network.send(from, to, bytes, [this, i] { arrivals[i] = scheduler.now(); });
  }
  bool delivered(size_t i) const { return arrivals[i] >= 0; }

  std::vector<TimeNs> arrivals;
};

TEST(Network, RegionsAndLinks) {
  Scheduler s;
  Network n(s, Rng(1));
  const LinkSpec d = fixed(3 * kMillisecond);
  EXPECT_EQ(n.add_region("us", d), 0u);
  EXPECT_EQ(n.add_region("eu", fixed(5 * kMillisecond)), 1u);
  EXPECT_EQ(n.region_count(), 2u);
  EXPECT_EQ(n.region_name(1), "eu");
  EXPECT_EQ(n.find_region("eu"), 1u);
  EXPECT_EQ(n.find_region("asia"), 2u);
  // Links to and from the newest region take its default.
  EXPECT_EQ(n.link(0, 1).latency, 5 * kMillisecond);
  EXPECT_EQ(n.link(1, 0).latency, 5 * kMillisecond);
  n.set_link(0, 1, fixed(7 * kMillisecond));
  EXPECT_EQ(n.link(0, 1).latency, 7 * kMillisecond);
  EXPECT_EQ(n.link(1, 0).latency, 5 * kMillisecond);
  EXPECT_EQ(n.expected_latency(0, 1), 7 * kMillisecond);
  EXPECT_TRUE(n.is_up(0, 1));
}

TEST(Network, LatencyIsExactWithoutJitter) {
  Net net(fixed(10 * kMillisecond));
  net.send(net.a, net.b);
  net.scheduler.run_until(25 * kMillisecond);
  EXPECT_EQ(net.arrivals[0], 10 * kMillisecond);
  net.send(net.b, net.a);
  net.scheduler.run_until(100 * kMillisecond);
  EXPECT_EQ(net.arrivals[1], 35 * kMillisecond);
  EXPECT_EQ(net.network.stats().sent, 2u);
  EXPECT_EQ(net.network.stats().delivered, 2u);
  EXPECT_EQ(net.network.stats().bytes_sent, 200u);
}

TEST(Network, LocalMessagesTakeTheLocalLatency) {
  Net net(fixed(10 * kMillisecond));
  net.send(net.a, net.a);
  net.network.set_local_latency(50 * kMicrosecond);
  net.send(net.b, net.b);
  net.network.isolate(net.a);  // isolation does not affect a region's own traffic
  net.send(net.a, net.a);
  net.scheduler.run_until(kMillisecond);
  EXPECT_EQ(net.arrivals[0], 100 * kMicrosecond);
  EXPECT_EQ(net.arrivals[1], 50 * kMicrosecond);
  // FIFO on the local path too: the third message may not overtake the first.
  EXPECT_EQ(net.arrivals[2], 100 * kMicrosecond);
  EXPECT_TRUE(net.network.is_up(net.a, net.a));
  EXPECT_EQ(net.network.expected_latency(net.a, net.a), 50 * kMicrosecond);
}

TEST(Network, FifoHoldsUnderJitter) {
  LinkSpec spec;
  spec.latency = 10 * kMillisecond;
  spec.jitter = 50 * kMillisecond;  // far more than the gap between sends
  Net net(spec);
  constexpr int kMessages = 1000;
  std::vector<int> order;
  for (int i = 0; i < kMessages; ++i) {
    net.scheduler.at(i * 10 * kMicrosecond, [&net, &order, i] {
      net.network.send(net.a, net.b, 100, [&net, &order, i] {
        order.push_back(i);
        net.arrivals.push_back(net.scheduler.now());
      });
    });
  }
  net.scheduler.run_until(kMillisecond * 1000);
  ASSERT_EQ(order.size(), size_t(kMessages));
  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(order[i], i);
  int later_than_base = 0;
  for (int i = 0; i < kMessages; ++i) {
    const TimeNs sent = i * 10 * kMicrosecond;
    ASSERT_GE(net.arrivals[i], sent + 10 * kMillisecond);
    if (i > 0) {
      ASSERT_GE(net.arrivals[i], net.arrivals[i - 1]);
    }
    later_than_base += net.arrivals[i] > sent + 10 * kMillisecond;
  }
  EXPECT_GT(later_than_base, kMessages / 2);  // jitter was applied
  // The first message is bounded by latency + jitter.
  EXPECT_LT(net.arrivals[0], 60 * kMillisecond);
}

TEST(Network, LossRateMatchesProbability) {
  LinkSpec spec = fixed(kMillisecond);
  spec.loss = 0.3;
  Net net(spec);
  constexpr int kMessages = 100'000;
  for (int i = 0; i < kMessages; ++i) net.send(net.a, net.b);
  net.scheduler.run_until(kMillisecond * 10);
  const NetworkStats& st = net.network.stats();
  EXPECT_EQ(st.sent, uint64_t(kMessages));
  EXPECT_EQ(st.dropped_partition, 0u);
  EXPECT_EQ(st.dropped_loss + st.delivered, uint64_t(kMessages));
  EXPECT_NEAR(double(st.dropped_loss) / kMessages, 0.3, 0.01);
  size_t arrived = 0;
  for (TimeNs t : net.arrivals) arrived += t >= 0;
  EXPECT_EQ(arrived, st.delivered);
}

TEST(Network, TotalLossAndNoLoss) {
  LinkSpec lossy = fixed(kMillisecond);
  lossy.loss = 1.0;
  Net net(fixed(kMillisecond));
  net.network.set_link(net.a, net.b, lossy);
  for (int i = 0; i < 1000; ++i) {
    net.send(net.a, net.b);
    net.send(net.b, net.a);
  }
  net.scheduler.run_until(kMillisecond * 10);
  EXPECT_EQ(net.network.stats().dropped_loss, 1000u);
  EXPECT_EQ(net.network.stats().delivered, 1000u);
}

TEST(Network, BandwidthSerialisesMessagesExactly) {
  LinkSpec spec = fixed(5 * kMillisecond);
  spec.bandwidth_bytes_per_s = 1'000'000;  // 1,000 bytes take 1 ms on the wire
  Net net(spec);
  net.send(net.a, net.b, 1000);
  net.send(net.a, net.b, 1000);
  net.send(net.a, net.b, 2000);
  net.send(net.b, net.a, 1000);  // the reverse direction has its own wire
  net.scheduler.run_until(50 * kMillisecond);
  EXPECT_EQ(net.arrivals[0], 6 * kMillisecond);
  EXPECT_EQ(net.arrivals[1], 7 * kMillisecond);
  EXPECT_EQ(net.arrivals[2], 9 * kMillisecond);
  EXPECT_EQ(net.arrivals[3], 6 * kMillisecond);
  // The wire went idle at 4 ms; a later message starts serialising when it is sent.
  net.scheduler.run_until(100 * kMillisecond);
  net.send(net.a, net.b, 500);
  net.scheduler.run_until(200 * kMillisecond);
  EXPECT_EQ(net.arrivals[4], 100 * kMillisecond + 500 * kMicrosecond + 5 * kMillisecond);
  // A message sent while the wire is busy waits for it: sent at 200 ms, 1 ms behind a 3 ms one.
  net.send(net.a, net.b, 3000);
  net.scheduler.run_until(201 * kMillisecond);
  net.send(net.a, net.b, 1000);
  net.scheduler.run_until(300 * kMillisecond);
  EXPECT_EQ(net.arrivals[5], 208 * kMillisecond);
  EXPECT_EQ(net.arrivals[6], 209 * kMillisecond);
}

TEST(Network, PartitionDropsAndHealRestores) {
  Net net(fixed(kMillisecond));
  net.network.partition(net.a, net.b);
  EXPECT_FALSE(net.network.is_up(net.a, net.b));
  EXPECT_FALSE(net.network.is_up(net.b, net.a));
  EXPECT_TRUE(net.network.is_up(net.a, net.c));
  net.send(net.a, net.b);
  net.send(net.b, net.a);
  net.send(net.a, net.c);
  net.scheduler.run_until(10 * kMillisecond);
  EXPECT_FALSE(net.delivered(0));
  EXPECT_FALSE(net.delivered(1));
  EXPECT_TRUE(net.delivered(2));
  EXPECT_EQ(net.network.stats().dropped_partition, 2u);

  net.network.heal(net.a, net.b);
  EXPECT_TRUE(net.network.is_up(net.a, net.b));
  net.send(net.a, net.b);
  net.send(net.b, net.a);
  net.scheduler.run_until(20 * kMillisecond);
  EXPECT_EQ(net.arrivals[3], 11 * kMillisecond);
  EXPECT_EQ(net.arrivals[4], 11 * kMillisecond);
  // Messages dropped while partitioned never come back.
  EXPECT_FALSE(net.delivered(0));
  EXPECT_FALSE(net.delivered(1));
}

TEST(Network, MessagesInFlightStillArriveWhenTheLinkGoesDown) {
  Net net(fixed(10 * kMillisecond));
  net.send(net.a, net.b);
  net.scheduler.run_until(kMillisecond);
  net.network.partition(net.a, net.b);
  net.network.isolate(net.b);
  net.scheduler.run_until(20 * kMillisecond);
  EXPECT_EQ(net.arrivals[0], 10 * kMillisecond);
}

TEST(Network, OneWayCut) {
  Net net(fixed(kMillisecond));
  net.network.cut(net.a, net.b);
  EXPECT_FALSE(net.network.is_up(net.a, net.b));
  EXPECT_TRUE(net.network.is_up(net.b, net.a));
  net.send(net.a, net.b);
  net.send(net.b, net.a);
  net.scheduler.run_until(10 * kMillisecond);
  EXPECT_FALSE(net.delivered(0));
  EXPECT_TRUE(net.delivered(1));
  net.network.restore(net.a, net.b);
  EXPECT_TRUE(net.network.is_up(net.a, net.b));
  // Restoring a link that is up does nothing (it does not bank an "up" for later cuts).
  net.network.restore(net.a, net.b);
  net.network.cut(net.a, net.b);
  EXPECT_FALSE(net.network.is_up(net.a, net.b));
  net.network.restore(net.a, net.b);
  EXPECT_TRUE(net.network.is_up(net.a, net.b));
  // Cutting or healing a region from itself is meaningless and ignored.
  net.network.cut(net.a, net.a);
  net.network.partition(net.b, net.b);
  EXPECT_TRUE(net.network.is_up(net.a, net.a));
}

TEST(Network, IsolateAndRejoinComposeWithPartitions) {
  Net net(fixed(kMillisecond));
  Network& n = net.network;
  n.isolate(net.a);
  for (RegionIndex other : {net.b, net.c}) {
    EXPECT_FALSE(n.is_up(net.a, other));
    EXPECT_FALSE(n.is_up(other, net.a));
  }
  EXPECT_TRUE(n.is_up(net.b, net.c));
  // Healing one pair does not bring up the isolated region's links.
  n.heal(net.a, net.b);
  EXPECT_FALSE(n.is_up(net.a, net.b));
  EXPECT_FALSE(n.is_up(net.b, net.a));
  EXPECT_FALSE(n.is_up(net.a, net.c));
  n.rejoin(net.a);
  EXPECT_TRUE(n.is_up(net.a, net.b));
  EXPECT_TRUE(n.is_up(net.a, net.c));

  // Rejoining does not undo an explicit partition.
  n.partition(net.a, net.b);
  n.isolate(net.a);
  n.rejoin(net.a);
  EXPECT_FALSE(n.is_up(net.a, net.b));
  EXPECT_FALSE(n.is_up(net.b, net.a));
  EXPECT_TRUE(n.is_up(net.a, net.c));

  // Both ends isolated: rejoining one leaves the link down.
  n.heal(net.a, net.b);
  n.isolate(net.b);
  n.isolate(net.c);
  n.rejoin(net.b);
  EXPECT_TRUE(n.is_up(net.a, net.b));
  EXPECT_FALSE(n.is_up(net.b, net.c));

  // heal_all brings everything up.
  n.cut(net.a, net.b);
  n.isolate(net.a);
  n.heal_all();
  for (RegionIndex x : {net.a, net.b, net.c}) {
    for (RegionIndex y : {net.a, net.b, net.c}) EXPECT_TRUE(n.is_up(x, y)) << x << "->" << y;
  }
  net.send(net.a, net.b);
  net.send(net.c, net.a);
  net.scheduler.run_until(10 * kMillisecond);
  EXPECT_TRUE(net.delivered(0));
  EXPECT_TRUE(net.delivered(1));
}

TEST(Network, OverlappingFaultsEndIndependently) {
  Net net(fixed(kMillisecond));
  Network& n = net.network;
  // A partition of a-b, and a one-way cut (say a swizzle-clog) of a->b inside it.
  n.partition(net.a, net.b);
  n.cut(net.a, net.b);
  n.restore(net.a, net.b);  // the clog ends first: the partition still holds
  EXPECT_FALSE(n.is_up(net.a, net.b));
  EXPECT_FALSE(n.is_up(net.b, net.a));
  n.cut(net.a, net.b);  // a clog that outlives the partition
  n.heal(net.a, net.b);
  EXPECT_FALSE(n.is_up(net.a, net.b));
  EXPECT_TRUE(n.is_up(net.b, net.a));
  n.restore(net.a, net.b);
  EXPECT_TRUE(n.is_up(net.a, net.b));

  // Two overlapping isolations of one region (an isolate fault and a region outage).
  n.isolate(net.c);
  n.isolate(net.c);
  n.rejoin(net.c);
  EXPECT_FALSE(n.is_up(net.a, net.c));
  EXPECT_FALSE(n.is_up(net.c, net.b));
  n.rejoin(net.c);
  EXPECT_TRUE(n.is_up(net.a, net.c));
  n.rejoin(net.c);  // nothing to undo
  n.isolate(net.c);
  EXPECT_FALSE(n.is_up(net.a, net.c));
  n.rejoin(net.c);

  // heal_all clears every count at once.
  n.partition(net.a, net.b);
  n.partition(net.a, net.b);
  n.cut(net.b, net.c);
  n.isolate(net.a);
  n.isolate(net.a);
  n.heal_all();
  for (RegionIndex x : {net.a, net.b, net.c}) {
    for (RegionIndex y : {net.a, net.b, net.c}) EXPECT_TRUE(n.is_up(x, y)) << x << "->" << y;
  }
}

TEST(Network, SlowMultipliesLatencyAndJitter) {
  LinkSpec spec = fixed(10 * kMillisecond);
  spec.jitter = kMillisecond;
  Net net(spec);
  net.network.slow(net.a, net.b, 3.0);
  EXPECT_EQ(net.network.expected_latency(net.a, net.b), 30 * kMillisecond);
  EXPECT_EQ(net.network.expected_latency(net.b, net.a), 10 * kMillisecond);
  for (int i = 0; i < 100; ++i) net.send(net.a, net.b);
  net.scheduler.run_until(kMillisecond * 100);
  for (TimeNs t : net.arrivals) {
    EXPECT_GE(t, 30 * kMillisecond);
    EXPECT_LT(t, 33 * kMillisecond);
  }
  net.network.slow(net.a, net.b, 1.0);
  EXPECT_EQ(net.network.expected_latency(net.a, net.b), 10 * kMillisecond);
}

// Sends a pseudo-random mix of messages over every link and returns (message, arrival) in
// delivery order.
std::vector<std::pair<int, TimeNs>> run_mix(uint64_t seed) {
  LinkSpec spec;
  spec.latency = 20 * kMillisecond;
  spec.jitter = 15 * kMillisecond;
  spec.loss = 0.1;
  spec.bandwidth_bytes_per_s = 10e6;
  Scheduler s;
  Network n(s, Rng::derive(seed, "network"));
  for (const char* name : {"us", "eu", "asia"}) n.add_region(name, spec);
  std::vector<std::pair<int, TimeNs>> out;
  Rng workload(99);  // the same sends for every seed
  for (int i = 0; i < 3000; ++i) {
    const TimeNs at = TimeNs(workload.below(uint64_t(kMillisecond) * 500));
    const RegionIndex from = RegionIndex(workload.below(3));
    const RegionIndex to = RegionIndex(workload.below(3));
    const size_t bytes = 100 + workload.below(10'000);
    s.at(at, [&n, &s, &out, from, to, bytes, i] {
      n.send(from, to, bytes, [&s, &out, i] { out.emplace_back(i, s.now()); });
    });
  }
  s.at(100 * kMillisecond, [&n] { n.partition(0, 1); });
  s.at(300 * kMillisecond, [&n] { n.heal(0, 1); });
  s.run_until(10 * env::kSecond);
  return out;
}

TEST(Network, SameSeedSameDeliveries) {
  const auto first = run_mix(5);
  const auto second = run_mix(5);
  ASSERT_GT(first.size(), 2000u);
  EXPECT_EQ(first, second);
  EXPECT_NE(first, run_mix(6));
}

TEST(Network, TrafficOnOneLinkDoesNotShiftAnotherLinksDraws) {
  LinkSpec spec;
  spec.latency = kMillisecond;
  spec.jitter = 10 * kMillisecond;
  auto arrivals_on_bc = [&](int extra_on_ab) {
    Net net(spec, 3);
    for (int i = 0; i < extra_on_ab; ++i) net.network.send(net.a, net.b, 10, [] {});
    for (int i = 0; i < 50; ++i) net.send(net.b, net.c);
    net.scheduler.run_until(env::kSecond);
    return net.arrivals;
  };
  EXPECT_EQ(arrivals_on_bc(0), arrivals_on_bc(77));
}

TEST(Network, EachLinkHasItsOwnStream) {
  LinkSpec spec;
  spec.latency = kMillisecond;
  spec.jitter = 10 * kMillisecond;
  Net net(spec);
  // The same sends on a->b and b->a (and a->c) must not see the same jitter draws.
  std::vector<std::vector<TimeNs>> per_link(3);
  const std::pair<RegionIndex, RegionIndex> links[] = {
      {net.a, net.b}, {net.b, net.a}, {net.a, net.c}};
  for (int i = 0; i < 20; ++i) {
    for (size_t l = 0; l < 3; ++l) {
      net.scheduler.at(i * 20 * kMillisecond, [&net, &per_link, &links, l] {
        net.network.send(links[l].first, links[l].second, 10,
                         [&net, &per_link, l] { per_link[l].push_back(net.scheduler.now()); });
      });
    }
  }
  net.scheduler.run_until(env::kSecond);
  ASSERT_EQ(per_link[0].size(), 20u);
  EXPECT_NE(per_link[0], per_link[1]);
  EXPECT_NE(per_link[0], per_link[2]);
  EXPECT_NE(per_link[1], per_link[2]);
}

}  // namespace
}  // namespace meridian::sim
