// Zipf-distributed ranks for the simulator's key chooser.
//
// P(rank k) = k^-s / H(n, s) for k in 1..n, where H(n, s) = sum_{i=1..n} i^-s. The sampler
// precomputes the cumulative distribution once (n doubles) and draws by binary search, so a draw
// costs O(log n) and consumes exactly one uniform number: a stream's sequence of ranks depends
// only on its uniforms, never on the platform's libm beyond std::pow at construction.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/rng.h"

namespace meridian::sim {

class ZipfSampler {
 public:
  // REQUIRES: n >= 1, exponent > 0.
  ZipfSampler(uint64_t n, double exponent);

  // The rank (1..n, 1 = most frequent) for a uniform u in [0, 1).
  uint64_t rank_for(double u) const;
  uint64_t sample(Rng& rng) const { return rank_for(rng.next_unit()); }

  // Exact probability of `rank` (1..n).
  double probability(uint64_t rank) const;
  uint64_t size() const { return cdf_.size(); }
  double exponent() const { return exponent_; }

 private:
  double exponent_;
  std::vector<double> cdf_;  // cdf_[i] = P(rank <= i + 1); cdf_.back() == 1 exactly
};

}  // namespace meridian::sim
