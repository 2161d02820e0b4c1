#include "engine/core/vector_index.h"

#include <cmath>

#include "engine/core/flat_index.h"
#include "engine/core/hnsw_index.h"
#include "engine/core/ivf_index.h"
#include "engine/core/mutation.h"

namespace meridian {

const char* metric_name(Metric m) {
  switch (m) {
    case Metric::kL2: return "l2";
    case Metric::kInnerProduct: return "ip";
    case Metric::kCosine: return "cosine";
  }
  return "unknown";
}

const char* index_kind_name(IndexKind k) {
  switch (k) {
    case IndexKind::kFlat: return "flat";
    case IndexKind::kHnsw: return "hnsw";
    case IndexKind::kIvf: return "ivf";
  }
  return "unknown";
}

Result<Metric> parse_metric(const std::string& name) {
  if (name == "l2") return Metric::kL2;
  if (name == "ip" || name == "inner_product") return Metric::kInnerProduct;
  if (name == "cosine") return Metric::kCosine;
  return Status::invalid_argument("unknown metric '" + name + "' (expected l2, ip or cosine)");
}

Result<IndexKind> parse_index_kind(const std::string& name) {
  if (name == "flat") return IndexKind::kFlat;
  if (name == "hnsw") return IndexKind::kHnsw;
  if (name == "ivf") return IndexKind::kIvf;
  return Status::invalid_argument("unknown index kind '" + name + "' (expected flat, hnsw or ivf)");
}

Status validate(const IndexParams& p) {
  if (p.kind != IndexKind::kFlat && p.kind != IndexKind::kHnsw && p.kind != IndexKind::kIvf) {
    return Status::invalid_argument("unknown index kind");
  }
  if (p.metric != Metric::kL2 && p.metric != Metric::kInnerProduct && p.metric != Metric::kCosine) {
    return Status::invalid_argument("unknown metric");
  }
  if (p.dimension == 0 || p.dimension > kMaxDimension) {
    return Status::invalid_argument("dimension " + std::to_string(p.dimension) + " is outside 1.." +
                                    std::to_string(kMaxDimension));
  }
  if (p.hnsw_m < 2 || p.hnsw_m > 256) return Status::invalid_argument("hnsw_m must be in 2..256");
  if (p.hnsw_ef_construction < 1 || p.hnsw_ef_search < 1 || p.hnsw_ef_construction > 4096 ||
      p.hnsw_ef_search > 4096) {
    return Status::invalid_argument("hnsw ef values must be in 1..4096");
  }
  if (p.ivf_nlist < 1 || p.ivf_nlist > (1u << 20)) {
    return Status::invalid_argument("ivf_nlist must be in 1..1048576");
  }
  if (p.ivf_nprobe < 1 || p.ivf_nprobe > p.ivf_nlist) {
    return Status::invalid_argument("ivf_nprobe must be in 1..ivf_nlist");
  }
  if (p.ivf_train_size != 0 && p.ivf_train_size < p.ivf_nlist) {
    return Status::invalid_argument("ivf_train_size must be 0 (auto) or at least ivf_nlist");
  }
  return Status::ok();
}

const float* VectorIndex::prepare(const float* v, std::vector<float>* scratch) const {
  if (params_.metric != Metric::kCosine) return v;
  const uint32_t d = params_.dimension;
  double norm_sq = 0;
  for (uint32_t i = 0; i < d; ++i) norm_sq += double(v[i]) * v[i];
  scratch->assign(v, v + d);
  // A zero vector has no direction; it is stored as is and scores 0 against everything.
  if (norm_sq > 0) {
    const float inv = float(1.0 / std::sqrt(norm_sq));
    for (float& x : *scratch) x *= inv;
  }
  return scratch->data();
}

std::unique_ptr<VectorIndex> make_vector_index(const IndexParams& params) {
  switch (params.kind) {
    case IndexKind::kFlat: return std::make_unique<FlatIndex>(params);
    case IndexKind::kHnsw: return std::make_unique<HnswIndex>(params);
    case IndexKind::kIvf: return std::make_unique<IvfIndex>(params);
  }
  return nullptr;
}

}  // namespace meridian
