#include "engine/core/ivf_index.h"

#include <faiss/impl/IDSelector.h>
#include <faiss/invlists/DirectMap.h>

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
  add_trained(n, data.data(), labels.data());
  staging_.reset();
}

void IvfIndex::add_trained(size_t n, const float* data, const faiss::Index::idx_t* keys) {
  if (n == 0) return;
  std::vector<faiss::Index::idx_t> lists(n);
  quantizer_->assign(faiss::Index::idx_t(n), data, lists.data());
  // FAISS appends each list's new entries in input order; record where every list's tail began.
  std::vector<std::pair<size_t, size_t>> tails;  // (list, size before the add)
  for (faiss::Index::idx_t list : lists) tails.emplace_back(size_t(list), 0);
  std::sort(tails.begin(), tails.end());
  tails.erase(std::unique(tails.begin(), tails.end()), tails.end());
  for (auto& [list, before] : tails) before = ivf_->invlists->list_size(list);
  ivf_->add_core(faiss::Index::idx_t(n), data, keys, lists.data());
  for (const auto& [list, before] : tails) {
    faiss::InvertedLists::ScopedIds ids(ivf_->invlists, list);
    const size_t size = ivf_->invlists->list_size(list);
    for (size_t offset = before; offset < size; ++offset) {
      const size_t key = size_t(ids[offset]);
      if (key >= entry_of_key_.size()) entry_of_key_.resize(key + 1, kAbsent);
      assert(entry_of_key_[key] == kAbsent);
      entry_of_key_[key] = faiss::lo_build(list, offset);
    }
  }
  live_ += n;
}

// FAISS's hash-table direct map removal (DirectMap::remove_ids), with the vector for a table:
// the list's last entry moves into the hole, so list layouts are the same as FAISS would make.
void IvfIndex::remove_trained(VectorKey key) {
  if (key >= entry_of_key_.size() || entry_of_key_[key] == kAbsent) return;
  const size_t list = faiss::lo_listno(entry_of_key_[key]);
  const size_t offset = faiss::lo_offset(entry_of_key_[key]);
  faiss::InvertedLists& lists = *ivf_->invlists;
  const size_t last = lists.list_size(list) - 1;
  entry_of_key_[key] = kAbsent;
  if (offset < last) {
    const faiss::Index::idx_t last_key = lists.get_single_id(list, last);
    lists.update_entry(list, offset, last_key,
                       faiss::InvertedLists::ScopedCodes(&lists, list, last).get());
    entry_of_key_[size_t(last_key)] = faiss::lo_build(list, offset);
  }
  lists.resize(list, last);
  ivf_->ntotal -= 1;
  --live_;
}

void IvfIndex::upsert(VectorKey key, const float* embedding) {
  if (!trained()) {
    staging_->upsert(key, embedding);
    if (staging_->size() >= train_size()) train_from_staging();
    return;
  }
  std::vector<float> scratch;
  const float* v = prepare(embedding, &scratch);
  remove_trained(key);
  const faiss::Index::idx_t label = key;
  add_trained(1, v, &label);
}

void IvfIndex::upsert_batch(const std::vector<VectorKey>& keys,
                            const std::vector<float>& embeddings) {
  const size_t dim = params().dimension;
  assert(embeddings.size() == keys.size() * dim);
  size_t i = 0;
  for (; i < keys.size() && !trained(); ++i) upsert(keys[i], embeddings.data() + i * dim);
  if (i == keys.size()) return;
  // Trained: drop the old entries of the keys that have one, then one add for all of them.
  std::vector<faiss::Index::idx_t> labels;
  std::vector<float> data;
  data.reserve((keys.size() - i) * dim);
  std::vector<float> scratch;
  for (size_t j = i; j < keys.size(); ++j) {
    remove_trained(keys[j]);
    labels.push_back(keys[j]);
    const float* v = prepare(embeddings.data() + j * dim, &scratch);
    data.insert(data.end(), v, v + dim);
  }
  add_trained(labels.size(), data.data(), labels.data());
}

void IvfIndex::remove(VectorKey key) {
  if (!trained()) {
    staging_->remove(key);
    return;
  }
  remove_trained(key);
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
