#include "engine/real/openmp_threads.h"

#include <omp.h>

#include <atomic>
#include <cstdlib>

namespace meridian::real {
namespace {
std::atomic<int> policy{0};
}  // namespace

void set_openmp_threads(int threads) { policy.store(threads, std::memory_order_relaxed); }

int openmp_threads() { return policy.load(std::memory_order_relaxed); }

int default_openmp_threads() { return std::getenv("OMP_NUM_THREADS") == nullptr ? 1 : 0; }

void apply_openmp_policy() {
  if (const int threads = openmp_threads(); threads > 0) omp_set_num_threads(threads);
}

}  // namespace meridian::real
