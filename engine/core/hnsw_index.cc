#include "engine/core/hnsw_index.h"

#include <cassert>

#include "engine/core/faiss_selector.h"
#include "engine/core/fast_faiss.h"

namespace meridian {

HnswIndex::HnswIndex(const IndexParams& params) : VectorIndex(params), graph_(make_graph()) {}

std::unique_ptr<faiss::IndexHNSW> HnswIndex::make_graph() const {
  // What faiss::IndexHNSWFlat's constructor does, with our storage type.
  auto g = std::make_unique<faiss::IndexHNSW>(
      new FastFlatIndex(params().dimension, params().metric == Metric::kL2
                                                ? faiss::METRIC_L2
                                                : faiss::METRIC_INNER_PRODUCT),
      int(params().hnsw_m));
  g->own_fields = true;
  g->is_trained = true;
  g->hnsw.efConstruction = int(params().hnsw_ef_construction);
  g->hnsw.efSearch = int(params().hnsw_ef_search);
  return g;
}

void HnswIndex::kill_node(int64_t node) {
  assert(!dead_[size_t(node)]);
  dead_[size_t(node)] = true;
  --live_;
}

void HnswIndex::upsert(VectorKey key, const float* embedding) {
  std::vector<float> scratch;
  const float* v = prepare(embedding, &scratch);
  if (key >= node_of_key_.size()) node_of_key_.resize(size_t(key) + 1, -1);
  if (node_of_key_[key] >= 0) kill_node(node_of_key_[key]);
  node_of_key_[key] = int64_t(key_of_node_.size());
  key_of_node_.push_back(key);
  dead_.push_back(false);
  ++live_;
  // One vector per add() call: FAISS parallelises batched HNSW inserts with OpenMP, which makes
  // the graph depend on thread timing. Single inserts keep it a function of the call sequence.
  graph_->add(1, v);
  assert(size_t(graph_->ntotal) == key_of_node_.size());
  maybe_rebuild();
}

void HnswIndex::remove(VectorKey key) {
  if (key >= node_of_key_.size() || node_of_key_[key] < 0) return;
  kill_node(node_of_key_[key]);
  node_of_key_[key] = -1;
  maybe_rebuild();
}

void HnswIndex::maybe_rebuild() {
  if (tombstones() >= kMinTombstonesForRebuild && tombstones() > live_) rebuild();
}

void HnswIndex::rebuild() {
  auto fresh = make_graph();
  std::vector<VectorKey> keys;
  std::vector<float> buf(params().dimension);
  std::vector<int64_t> new_node_of_key(node_of_key_.size(), -1);
  for (size_t key = 0; key < node_of_key_.size(); ++key) {
    if (node_of_key_[key] < 0) continue;
    // Stored vectors are already normalised for cosine; re-add them verbatim.
    graph_->reconstruct(node_of_key_[key], buf.data());
    new_node_of_key[key] = int64_t(keys.size());
    keys.push_back(VectorKey(key));
    fresh->add(1, buf.data());
  }
  graph_ = std::move(fresh);
  key_of_node_ = std::move(keys);
  dead_.assign(key_of_node_.size(), false);
  node_of_key_ = std::move(new_node_of_key);
  assert(live_ == key_of_node_.size());
}

void HnswIndex::search(const float* query, size_t k, const KeyFilter* filter,
                       std::vector<IndexHit>* out) const {
  k = std::min(k, live_);
  if (k == 0) return;
  std::vector<float> scratch;
  const float* q = prepare(query, &scratch);
  std::vector<float> scores(k);
  std::vector<faiss::Index::idx_t> nodes(k);
  const bool has_tombstones = tombstones() > 0;
  KeyFilterSelector selector(key_of_node_, filter, has_tombstones ? &dead_ : nullptr);
  faiss::SearchParametersHNSW search_params;
  search_params.efSearch = int(std::max<size_t>(params().hnsw_ef_search, k));
  search_params.sel = (filter != nullptr || has_tombstones) ? &selector : nullptr;
  graph_->search(1, q, faiss::Index::idx_t(k), scores.data(), nodes.data(), &search_params);
  for (size_t i = 0; i < k; ++i) {
    if (nodes[i] < 0) break;
    assert(!dead_[size_t(nodes[i])]);
    out->push_back(IndexHit{key_of_node_[size_t(nodes[i])], scores[i]});
  }
}

std::string HnswIndex::describe() const {
  return std::string("hnsw ") + metric_name(params().metric) +
         " M=" + std::to_string(params().hnsw_m) + " live=" + std::to_string(live_) +
         " tombstones=" + std::to_string(tombstones());
}

}  // namespace meridian
