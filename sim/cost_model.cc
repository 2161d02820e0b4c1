// The search cost model: virtual CPU time of one search (docs/cost-model.md).
#include <algorithm>
#include <cmath>

#include "sim/world.h"

namespace meridian::sim {

namespace {

// The engine's indexes compute distances with vectorised kernels (engine/core/simd_distance.h):
// an exact scan of 100 k 128-d vectors takes 2.09 ms (search_bench flat/p1, docs/benchmarks.md),
// ~21 ns per distance including memory traffic, linear in the dimension. (Debian FAISS's own
// scalar loop took ~84 ns, PERF.md.)
double distance_ns(uint32_t dimension) { return 21.0 * dimension / 128.0; }

// Measured anchors (search_bench hnsw/p1, 128-d, 100 k vectors): HNSW M=32 ef=64 one query
// 0.14 ms (0.40 ms on FAISS's scalar distances).
constexpr double kHnswAnchorNs = 140'000;
constexpr double kHnswAnchorVectors = 100'000;
constexpr double kHnswAnchorEf = 64;
constexpr double kPerSearchOverheadNs = 20'000;  // request handling, merge, payload lookups

double partition_cost_ns(const IndexParams& p, double n) {
  if (n <= 0) return 0;
  const double d = distance_ns(p.dimension);
  const double flat = n * d;
  switch (p.kind) {
    case IndexKind::kFlat: return flat;
    case IndexKind::kHnsw: {
      // Graph search visits ~ef * M nodes per layer descent; grows with log(n).
      const double scale = (double(p.hnsw_ef_search) / kHnswAnchorEf) *
                           (std::log2(std::max(n, 2.0)) / std::log2(kHnswAnchorVectors)) *
                           (p.dimension / 128.0);
      return std::min(flat, kHnswAnchorNs * scale);
    }
    case IndexKind::kIvf: {
      const double train_at = p.ivf_train_size != 0 ? p.ivf_train_size : 39.0 * p.ivf_nlist;
      if (n < train_at) return flat;  // exact until trained
      return p.ivf_nlist * d + (double(p.ivf_nprobe) / p.ivf_nlist) * n * d;
    }
  }
  return flat;
}

}  // namespace

TimeNs World::search_cost_ns(const CollectionConfig& c, size_t live_vectors) {
  const double per_partition = double(live_vectors) / c.index_partitions;
  const double total =
      kPerSearchOverheadNs + c.index_partitions * partition_cost_ns(c.index, per_partition);
  return TimeNs(total);
}

}  // namespace meridian::sim
