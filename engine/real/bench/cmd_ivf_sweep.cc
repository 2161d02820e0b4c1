// meridian-bench ivf-sweep (offline, no node): builds FAISS IVF-flat indexes over the base
// vectors in process and reports, for every nlist x nprobe, recall@10 against an exact search
// and the single-thread query time: which settings meet recall@10 >= 0.95, and at what cost.
// The indexes are the engine's (FastFlatIndex quantizer, FastIvfFlat lists: FAISS's IVF with the
// vectorised distance kernels), so the times are what a node's IVF collection pays.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <vector>

#include "engine/core/fast_faiss.h"
#include "engine/core/simd_distance.h"
#include "engine/real/bench/bench_support.h"
#include "engine/real/bench/commands.h"
#include "engine/real/bench/ground_truth.h"

namespace meridian::realbench {

int cmd_ivf_sweep(const Common& c, const SweepFlags& f) {
  omp_set_num_threads(1);
  const auto mix = mixture(c.dim);
  const std::vector<float> base = mix.sample(f.vectors, c.base_seed);
  const std::vector<float> queries = mix.sample(f.queries, c.query_seed);
  const auto truth = exact_top_k(base, queries, c.dim, 10);
  for (int nlist : f.nlist) {
    FastFlatIndex quantizer(faiss::Index::idx_t(c.dim), faiss::METRIC_L2);
    FastIvfFlat ivf(&quantizer, c.dim, size_t(nlist), faiss::METRIC_L2);
    const size_t train = std::min(f.vectors, size_t(39 * nlist));  // the engine's default
    const auto t0 = Clock::now();
    ivf.train(faiss::Index::idx_t(train), base.data());
    const double train_s = ms_since(t0, Clock::now()) / 1000;
    ivf.add(faiss::Index::idx_t(f.vectors), base.data());
    for (int nprobe : f.nprobe) {
      ivf.nprobe = size_t(nprobe);
      double sum = 0;
      std::vector<double> lat;
      for (size_t q = 0; q < f.queries; ++q) {
        float d[10];
        faiss::Index::idx_t l[10];
        const auto s = Clock::now();
        ivf.search(1, &queries[q * c.dim], 10, d, l);
        lat.push_back(ms_since(s, Clock::now()));
        std::vector<uint64_t> got(l, l + 10);
        sum += recall_of(got, truth[q]);
      }
      const Percentiles p = percentiles(lat);
      std::printf(
          "RESULT kind=ivf nlist=%d nprobe=%d recall_at_10=%.4f query_p50_ms=%.3f "
          "query_p99_ms=%.3f qps_1thread=%.0f train_s=%.1f kernel=%s load=%s\n",
          nlist, nprobe, sum / double(f.queries), p.p50, p.p99,
          1000.0 / (std::accumulate(lat.begin(), lat.end(), 0.0) / double(lat.size())), train_s,
          simd::kernel_isa(), loadavg().c_str());
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace meridian::realbench
