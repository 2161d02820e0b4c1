#include "engine/core/flat_index.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "engine/core/faiss_selector.h"

namespace meridian {

namespace {
faiss::MetricType faiss_metric(Metric m) {
  return m == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
}
}  // namespace

FlatIndex::FlatIndex(const IndexParams& params)
    : VectorIndex(params), index_(params.dimension, faiss_metric(params.metric)) {}

const float* FlatIndex::vector_at(size_t row) const {
  return reinterpret_cast<const float*>(index_.codes.data()) + row * params().dimension;
}

float* FlatIndex::mutable_row(size_t row) {
  return reinterpret_cast<float*>(index_.codes.data()) + row * params().dimension;
}

void FlatIndex::upsert(VectorKey key, const float* embedding) {
  std::vector<float> scratch;
  const float* v = prepare(embedding, &scratch);
  if (key >= row_of_key_.size()) row_of_key_.resize(size_t(key) + 1, -1);
  if (row_of_key_[key] >= 0) {
    std::memcpy(mutable_row(row_of_key_[key]), v, sizeof(float) * params().dimension);
    return;
  }
  row_of_key_[key] = int64_t(key_of_row_.size());
  key_of_row_.push_back(key);
  index_.add(1, v);
  assert(size_t(index_.ntotal) == key_of_row_.size());
}

void FlatIndex::remove(VectorKey key) {
  if (key >= row_of_key_.size() || row_of_key_[key] < 0) return;
  const size_t row = size_t(row_of_key_[key]);
  const size_t last = key_of_row_.size() - 1;
  if (row != last) {
    std::memcpy(mutable_row(row), vector_at(last), sizeof(float) * params().dimension);
    key_of_row_[row] = key_of_row_[last];
    row_of_key_[key_of_row_[row]] = int64_t(row);
  }
  key_of_row_.pop_back();
  row_of_key_[key] = -1;
  index_.ntotal -= 1;
  index_.codes.resize(index_.codes.size() - index_.code_size);
}

void FlatIndex::search(const float* query, size_t k, const KeyFilter* filter,
                       std::vector<IndexHit>* out) const {
  k = std::min(k, size());
  if (k == 0) return;
  std::vector<float> scratch;
  const float* q = prepare(query, &scratch);
  // FAISS 1.7.3 ignores the IDSelector when an L2 search asks for exactly one hit (its k == 1
  // fast path), so filtered searches always ask for at least two and drop the extra.
  const size_t faiss_k = filter != nullptr ? std::max<size_t>(k, 2) : k;
  std::vector<float> scores(faiss_k);
  std::vector<faiss::Index::idx_t> rows(faiss_k);
  KeyFilterSelector selector(key_of_row_, filter);
  faiss::SearchParameters search_params;
  search_params.sel = &selector;
  index_.search(1, q, faiss::Index::idx_t(faiss_k), scores.data(), rows.data(),
                filter != nullptr ? &search_params : nullptr);
  for (size_t i = 0; i < k; ++i) {
    if (rows[i] < 0) break;
    const VectorKey key = key_of_row_[size_t(rows[i])];
    assert(filter == nullptr || filter->accept(key));
    out->push_back(IndexHit{key, scores[i]});
  }
}

std::string FlatIndex::describe() const {
  return std::string("flat ") + metric_name(params().metric) + " live=" + std::to_string(size());
}

}  // namespace meridian
