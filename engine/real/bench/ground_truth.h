// Exact nearest neighbours and recall: the yardstick for the node's searches (meridian-bench
// search) and for the offline IVF sweep (meridian-bench ivf-sweep).
#pragma once

#include <cstdint>
#include <vector>

namespace meridian::realbench {

// For every row of `queries`, the row numbers of its `k` nearest rows of `base` (L2, exact
// flat search), nearest first. Both are row-major with `dim` floats a row.
std::vector<std::vector<uint64_t>> exact_top_k(const std::vector<float>& base,
                                               const std::vector<float>& queries, uint32_t dim,
                                               int k);

// The share of `truth` that `got` contains. REQUIRES: `truth` is not empty.
double recall_of(const std::vector<uint64_t>& got, const std::vector<uint64_t>& truth);

}  // namespace meridian::realbench
