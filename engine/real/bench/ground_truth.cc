#include "engine/real/bench/ground_truth.h"

#include <faiss/IndexFlat.h>

#include <unordered_set>

namespace meridian::realbench {

std::vector<std::vector<uint64_t>> exact_top_k(const std::vector<float>& base,
                                               const std::vector<float>& queries, uint32_t dim,
                                               int k) {
  faiss::IndexFlatL2 flat{int(dim)};
  flat.add(faiss::Index::idx_t(base.size() / dim), base.data());
  const size_t nq = queries.size() / dim;
  std::vector<float> d(nq * size_t(k));
  std::vector<faiss::Index::idx_t> l(nq * size_t(k));
  flat.search(faiss::Index::idx_t(nq), queries.data(), k, d.data(), l.data());
  std::vector<std::vector<uint64_t>> out(nq);
  for (size_t q = 0; q < nq; ++q) {
    for (int j = 0; j < k; ++j) out[q].push_back(uint64_t(l[q * size_t(k) + size_t(j)]));
  }
  return out;
}

double recall_of(const std::vector<uint64_t>& got, const std::vector<uint64_t>& truth) {
  std::unordered_set<uint64_t> t(truth.begin(), truth.end());
  size_t hit = 0;
  for (uint64_t g : got) hit += t.count(g);
  return double(hit) / double(truth.size());
}

}  // namespace meridian::realbench
