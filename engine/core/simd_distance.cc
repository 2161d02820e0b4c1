#include "engine/core/simd_distance.h"

namespace meridian::simd {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MERIDIAN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MERIDIAN_CLONES
#endif

namespace {
// Independent partial sums; 16 floats fill one AVX-512 register or two AVX2 ones.
constexpr size_t kLanes = 16;
}  // namespace

MERIDIAN_CLONES float l2_squared(const float* a, const float* b, size_t d) {
  float lane[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= d; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) {
      const float t = a[i + j] - b[i + j];
      lane[j] += t * t;
    }
  }
  for (size_t j = 0; i < d; ++i, ++j) {
    const float t = a[i] - b[i];
    lane[j] += t * t;
  }
  float sum = 0;
  for (size_t j = 0; j < kLanes; ++j) sum += lane[j];
  return sum;
}

MERIDIAN_CLONES float inner_product(const float* a, const float* b, size_t d) {
  float lane[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= d; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) lane[j] += a[i + j] * b[i + j];
  }
  for (size_t j = 0; i < d; ++i, ++j) lane[j] += a[i] * b[i];
  float sum = 0;
  for (size_t j = 0; j < kLanes; ++j) sum += lane[j];
  return sum;
}

const char* kernel_isa() {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return "avx512f";
  if (__builtin_cpu_supports("avx2")) return "avx2";
#endif
  return "baseline";
}

}  // namespace meridian::simd
