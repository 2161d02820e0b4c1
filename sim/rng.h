// Deterministic pseudo-random streams for the simulator.
//
// One run seed derives every stream: each component asks for a stream by name
// (`Rng::derive(seed, "network/us-east-1->eastus")`), so adding a component or drawing more numbers
// in one place never shifts another component's sequence. The generator is xoshiro256**, seeded
// through SplitMix64, both public-domain algorithms by Blackman and Vigna.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/env/env.h"

namespace meridian::sim {

class Rng final : public env::Random {
 public:
  explicit Rng(uint64_t seed);
  // A stream for `name`, independent of every other name under the same seed.
  static Rng derive(uint64_t run_seed, std::string_view name);

  uint64_t next_u64() override;
  // Uniform integer in [0, bound), bound >= 1 (Lemire's nearly-divisionless method).
  uint64_t below(uint64_t bound);
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * next_unit(); }
  // Exponentially distributed with the given mean (for Poisson arrivals).
  double exponential(double mean);
  // True with probability p.
  bool chance(double p) { return next_unit() < p; }

 private:
  uint64_t s_[4];
};

// FNV-1a of a string, used to mix names into seeds.
uint64_t hash_name(std::string_view name);

}  // namespace meridian::sim
