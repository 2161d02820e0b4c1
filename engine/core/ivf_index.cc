#include "engine/core/ivf_index.h"

#include <faiss/impl/IDSelector.h>

#include <algorithm>
#include <cassert>

#include "engine/core/faiss_selector.h"

namespace meridian {

namespace {

// IVF labels are the keys themselves, so the selector needs no translation table.
class DirectKeySelector : public faiss::IDSelector {
 public:
  explicit DirectKeySelector(const KeyFilter* filter) : filter_(filter) {}
  bool is_member(idx_t id) const override { return filter_->accept(VectorKey(id)); }

 private:
  const KeyFilter* filter_;
};

}  // namespace

IvfIndex::IvfIndex(const IndexParams& params)
    : VectorIndex(params), staging_(std::make_unique<FlatIndex>(params)) {}

size_t IvfIndex::train_size() const {
  return params().ivf_train_size != 0 ? params().ivf_train_size : size_t(39) * params().ivf_nlist;
}

size_t IvfIndex::size() const { return trained() ? live_ : staging_->size(); }

void IvfIndex::train_from_staging() {
  const uint32_t d = params().dimension;
  const size_t n = staging_->size();
  // Canonical training input: vectors in ascending key order.
  std::vector<std::pair<VectorKey, size_t>> order;
  order.reserve(n);
  for (size_t row = 0; row < n; ++row) order.emplace_back(staging_->key_at(row), row);
  std::sort(order.begin(), order.end());
  std::vector<float> data(n * d);
  std::vector<faiss::Index::idx_t> labels(n);
  for (size_t i = 0; i < n; ++i) {
    std::copy_n(staging_->vector_at(order[i].second), d, data.begin() + i * d);
    labels[i] = order[i].first;
  }
  const auto metric =
      params().metric == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
  quantizer_ = std::make_unique<FastFlatIndex>(d, metric);
  ivf_ = std::make_unique<FastIvfFlat>(quantizer_.get(), d, params().ivf_nlist, metric);
  ivf_->nprobe = params().ivf_nprobe;
  ivf_->cp.seed = 1234;  // fixed: the same live set trains the same centroids
  ivf_->train(faiss::Index::idx_t(n), data.data());
  ivf_->set_direct_map_type(faiss::DirectMap::Hashtable);
  ivf_->add_with_ids(faiss::Index::idx_t(n), data.data(), labels.data());
  for (size_t i = 0; i < n; ++i) {
    if (labels[i] >= faiss::Index::idx_t(stored_.size())) stored_.resize(size_t(labels[i]) + 1);
    stored_[size_t(labels[i])] = true;
  }
  live_ = n;
  staging_.reset();
}

void IvfIndex::upsert(VectorKey key, const float* embedding) {
  if (!trained()) {
    staging_->upsert(key, embedding);
    if (staging_->size() >= train_size()) train_from_staging();
    return;
  }
  std::vector<float> scratch;
  const float* v = prepare(embedding, &scratch);
  remove(key);
  const faiss::Index::idx_t label = key;
  ivf_->add_with_ids(1, v, &label);
  if (key >= stored_.size()) stored_.resize(size_t(key) + 1);
  stored_[key] = true;
  ++live_;
}

void IvfIndex::upsert_batch(const std::vector<VectorKey>& keys,
                            const std::vector<float>& embeddings) {
  const size_t dim = params().dimension;
  assert(embeddings.size() == keys.size() * dim);
  size_t i = 0;
  for (; i < keys.size() && !trained(); ++i) upsert(keys[i], embeddings.data() + i * dim);
  if (i == keys.size()) return;
  // Trained: drop the old entries of the keys that have one, then one add for all of them.
  std::vector<faiss::Index::idx_t> labels, stale;
  std::vector<float> data;
  data.reserve((keys.size() - i) * dim);
  std::vector<float> scratch;
  for (size_t j = i; j < keys.size(); ++j) {
    const VectorKey key = keys[j];
    if (key < stored_.size() && stored_[key]) stale.push_back(key);
    labels.push_back(key);
    const float* v = prepare(embeddings.data() + j * dim, &scratch);
    data.insert(data.end(), v, v + dim);
  }
  if (!stale.empty()) {
    faiss::IDSelectorArray selector(stale.size(), stale.data());  // the direct map needs an array
    ivf_->remove_ids(selector);
    for (auto key : stale) stored_[size_t(key)] = false;
    live_ -= stale.size();
  }
  ivf_->add_with_ids(faiss::Index::idx_t(labels.size()), data.data(), labels.data());
  for (auto key : labels) {
    if (size_t(key) >= stored_.size()) stored_.resize(size_t(key) + 1);
    stored_[size_t(key)] = true;
  }
  live_ += labels.size();
}

void IvfIndex::remove(VectorKey key) {
  if (!trained()) {
    staging_->remove(key);
    return;
  }
  if (key >= stored_.size() || !stored_[key]) return;
  const faiss::Index::idx_t label = key;
  faiss::IDSelectorArray one(1, &label);
  ivf_->remove_ids(one);
  stored_[key] = false;
  --live_;
}

void IvfIndex::search(const float* query, size_t k, const KeyFilter* filter,
                      std::vector<IndexHit>* out) const {
  if (!trained()) {
    staging_->search(query, k, filter, out);
    return;
  }
  k = std::min(k, live_);
  if (k == 0) return;
  std::vector<float> scratch;
  const float* q = prepare(query, &scratch);
  std::vector<float> scores(k);
  std::vector<faiss::Index::idx_t> labels(k);
  DirectKeySelector selector(filter);
  faiss::SearchParametersIVF search_params;
  search_params.nprobe = params().ivf_nprobe;
  search_params.sel = filter != nullptr ? &selector : nullptr;
  ivf_->search(1, q, faiss::Index::idx_t(k), scores.data(), labels.data(), &search_params);
  for (size_t i = 0; i < k; ++i) {
    if (labels[i] < 0) break;
    out->push_back(IndexHit{VectorKey(labels[i]), scores[i]});
  }
}

std::string IvfIndex::describe() const {
  if (!trained()) {
    return "ivf (untrained, exact until " + std::to_string(train_size()) +
           " vectors) live=" + std::to_string(size());
  }
  return "ivf nlist=" + std::to_string(params().ivf_nlist) +
         " nprobe=" + std::to_string(params().ivf_nprobe) + " live=" + std::to_string(live_);
}

}  // namespace meridian
