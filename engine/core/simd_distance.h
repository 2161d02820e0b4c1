// Distance kernels vectorised for the CPU the binary runs on.
//
// Debian's FAISS is built for baseline x86-64, so its fvec_L2sqr and fvec_inner_product are
// scalar loops (~84 ns per 128-d distance, ../shared/PERF.md), and every flat, IVF and HNSW
// search pays that per candidate. These kernels are compiled as AVX-512, AVX2 and baseline
// clones, and the dynamic loader picks one for the CPU at start-up (GCC target_clones).
//
// Every clone returns the same bits for the same input: each of 16 lanes accumulates its own
// elements in index order, the lanes are added in lane order, and the file is compiled with
// floating-point contraction off, so no clone fuses a multiply-add that another does not. The
// simulator's digests therefore do not depend on the CPU's vector width. The sums differ from
// FAISS's strictly sequential loop in the last bits (a different summation order).
#pragma once

#include <cstddef>

namespace meridian::simd {

// Squared Euclidean distance between a[0..d) and b[0..d).
float l2_squared(const float* a, const float* b, size_t d);

// Dot product of a[0..d) and b[0..d).
float inner_product(const float* a, const float* b, size_t d);

// The instruction set of the clone the loader chose ("avx512f", "avx2" or "baseline"), for
// benchmark labels and node status.
const char* kernel_isa();

}  // namespace meridian::simd
