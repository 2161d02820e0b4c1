#include "sim/zipf.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace meridian::sim {

ZipfSampler::ZipfSampler(uint64_t n, double exponent) : exponent_(exponent) {
  assert(n >= 1 && exponent > 0);
  cdf_.resize(n);
  double sum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    sum += std::pow(double(i + 1), -exponent);
    cdf_[i] = sum;
  }
  for (double& c : cdf_) c /= sum;
  cdf_.back() = 1.0;  // rounding must not leave a gap at the top
}

uint64_t ZipfSampler::rank_for(double u) const {
  // First rank whose cumulative probability exceeds u; u < 1 == cdf_.back(), so one exists.
  auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  if (it == cdf_.end()) --it;
  return uint64_t(it - cdf_.begin()) + 1;
}

double ZipfSampler::probability(uint64_t rank) const {
  assert(rank >= 1 && rank <= cdf_.size());
  return rank == 1 ? cdf_[0] : cdf_[rank - 1] - cdf_[rank - 2];
}

}  // namespace meridian::sim
