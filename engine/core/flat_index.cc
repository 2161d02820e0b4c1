#include "engine/core/flat_index.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "engine/core/faiss_selector.h"
#include "engine/core/fast_faiss.h"

namespace meridian {

FlatIndex::FlatIndex(const IndexParams& params)
    : VectorIndex(params),
      rows_per_block_(std::max<size_t>(1, kBlockBytes / (sizeof(float) * params.dimension))) {}

const float* FlatIndex::vector_at(size_t row) const {
  return blocks_[row / rows_per_block_].data() + (row % rows_per_block_) * params().dimension;
}

float* FlatIndex::mutable_row(size_t row) {
  return blocks_[row / rows_per_block_].data() + (row % rows_per_block_) * params().dimension;
}

void FlatIndex::upsert(VectorKey key, const float* embedding) {
  const size_t d = params().dimension;
  std::vector<float> scratch;
  const float* v = prepare(embedding, &scratch);
  if (key >= row_of_key_.size()) row_of_key_.resize(size_t(key) + 1, -1);
  if (row_of_key_[key] >= 0) {
    std::memcpy(mutable_row(size_t(row_of_key_[key])), v, sizeof(float) * d);
    return;
  }
  const size_t row = key_of_row_.size();
  if (row == blocks_.size() * rows_per_block_) blocks_.emplace_back();
  std::vector<float>& block = blocks_.back();
  if (block.size() == block.capacity()) {  // double, but never past a full block
    block.reserve(std::min(std::max<size_t>(2 * block.capacity(), 16 * d), rows_per_block_ * d));
  }
  block.insert(block.end(), v, v + d);
  row_of_key_[key] = int64_t(row);
  key_of_row_.push_back(key);
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
  blocks_.back().resize(blocks_.back().size() - params().dimension);
  if (blocks_.back().empty()) blocks_.pop_back();
}

void FlatIndex::search(const float* query, size_t k, const KeyFilter* filter,
                       std::vector<IndexHit>* out) const {
  k = std::min(k, size());
  if (k == 0) return;
  std::vector<float> scratch;
  const float* q = prepare(query, &scratch);
  const auto metric =
      params().metric == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
  KeyFilterSelector selector(key_of_row_, filter);
  const faiss::IDSelector* sel = filter != nullptr ? &selector : nullptr;
  std::vector<float> scores(k);
  std::vector<FlatTopK::idx_t> rows(k);
  FlatTopK top(metric, q, params().dimension, k, scores.data(), rows.data());
  for (size_t first = 0; first < size(); first += rows_per_block_) {
    const size_t n = std::min(rows_per_block_, size() - first);
    top.scan(vector_at(first), n, FlatTopK::idx_t(first), sel);
  }
  top.finish();
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
