#include "engine/core/collection.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <utility>

#include "engine/core/routing.h"

namespace meridian {

Status validate(const CollectionConfig& c) {
  // Reuse the mutation rules for the name so that every accepted collection can be written to.
  Mutation probe;
  probe.collection = c.name;
  probe.vector_id = "x";
  probe.op = Op::kDelete;
  probe.timestamp = 1;
  probe.origin_sequence = 1;
  if (Status s = validate(probe); !s.is_ok()) return s;
  if (Status s = validate_num_shards(c.num_shards); !s.is_ok()) return s;
  if (c.index_partitions < 1 || c.index_partitions > c.num_shards) {
    return Status::invalid_argument("index_partitions must be in 1..num_shards (" +
                                    std::to_string(c.num_shards) + ")");
  }
  return validate(c.index);
}

Result<std::unique_ptr<Collection>> Collection::create(const CollectionConfig& config) {
  if (Status s = validate(config); !s.is_ok()) {
    return Status::invalid_argument("collection '" + config.name + "': " + s.message());
  }
  return std::unique_ptr<Collection>(new Collection(config));
}

Collection::Collection(const CollectionConfig& config)
    : config_(config), key_of_id_(config.num_shards) {
  shards_.reserve(config.num_shards);
  for (uint32_t s = 0; s < config.num_shards; ++s) shards_.emplace_back(s);
  for (uint32_t p = 0; p < config.index_partitions; ++p) {
    partitions_.push_back(make_vector_index(config.index));
  }
}

uint32_t Collection::shard_of(std::string_view id) const {
  return meridian::shard_of(id, config_.num_shards, config_.routing_seed);
}

VectorIndex& Collection::partition_of_shard(uint32_t shard) const {
  return *partitions_[shard % partitions_.size()];
}

Status Collection::check_mutation(const Mutation& m) const {
  if (Status s = validate(m); !s.is_ok()) return s;
  if (m.collection != config_.name) {
    return Status::invalid_argument("mutation is for collection '" + m.collection + "', not '" +
                                    config_.name + "'");
  }
  if (m.op == Op::kUpsert && m.embedding.size() != config_.index.dimension) {
    return Status::invalid_argument("embedding has " + std::to_string(m.embedding.size()) +
                                    " dimensions; collection '" + config_.name + "' has " +
                                    std::to_string(config_.index.dimension));
  }
  return Status::ok();
}

VectorKey Collection::key_for(const std::string& id, uint32_t shard, const VectorEntry* entry) {
  // A new id gets the next key; a known one keeps its key (its entry may have been erased by
  // garbage collection and created anew since, so the slot is refreshed either way).
  auto [known, inserted] = key_of_id_[shard].try_emplace(id);
  if (inserted) {
    known->second = VectorKey(slots_.size());
    slots_.emplace_back();
  }
  slots_[known->second] = VectorSlot{&id, entry};
  return known->second;
}

void Collection::sync_index(uint32_t shard, const std::string& id, const VectorEntry& entry,
                            VectorChange change) {
  if (change == VectorChange::kEmbedding) {
    assert(entry->live());
    partition_of_shard(shard).upsert(key_for(id, shard, &entry), entry->embedding().data());
  } else if (change == VectorChange::kRemoved) {
    const auto* known = key_of_id_[shard].find(id);
    assert(known != nullptr);  // it was live, so it was indexed
    partition_of_shard(shard).remove(known->second);
  }
}

template <typename M>
Result<ApplyOutcome> Collection::apply_impl(M&& m) {
  if (Status s = check_mutation(m); !s.is_ok()) return s;
  const uint32_t shard = shard_of(m.vector_id);
  ApplyOutcome out = shards_[shard].apply(std::forward<M>(m));
  if (!out.duplicate) sync_index(shard, *out.id, *out.entry, out.change);
  return out;
}

Result<ApplyOutcome> Collection::apply(const Mutation& m) { return apply_impl(m); }
Result<ApplyOutcome> Collection::apply(Mutation&& m) { return apply_impl(std::move(m)); }

Status Collection::merge_shard(const ShardReplica& other, uint64_t complete_below,
                               uint64_t other_complete_below) {
  if (other.shard_index() >= shards_.size()) {
    return Status::invalid_argument("shard " + std::to_string(other.shard_index()) +
                                    " does not exist in collection '" + config_.name + "'");
  }
  const uint32_t shard = other.shard_index();
  // New embeddings go to the index in one batch (a restore or catch-up merges many at once);
  // removals right away. Each id changes at most once in a merge, so the order between the two
  // does not matter.
  std::vector<VectorKey> keys;
  std::vector<float> embeddings;
  shards_[shard].merge(
      other,
      [&](const std::string& id, const VectorEntry& e, VectorChange c) {
        if (c == VectorChange::kEmbedding) {
          assert(e->live());
          keys.push_back(key_for(id, shard, &e));
          embeddings.insert(embeddings.end(), e->embedding().begin(), e->embedding().end());
        } else {
          sync_index(shard, id, e, c);
        }
      },
      complete_below, other_complete_below);
  if (!keys.empty()) partition_of_shard(shard).upsert_batch(keys, embeddings);
  return Status::ok();
}

size_t Collection::collect_garbage(uint32_t shard, uint64_t g) {
  assert(shard < shards_.size());
  const KeyMap& keys = key_of_id_[shard];
  return shards_[shard].collect_garbage(g, [this, &keys](const std::string& id) {
    if (const auto* known = keys.find(id)) slots_[known->second] = VectorSlot{nullptr, nullptr};
  });
}

namespace {

class TagFilter : public KeyFilter {
 public:
  TagFilter(const std::string& tag, const std::vector<VectorSlot>& slots)
      : tag_(tag), slots_(slots) {}
  bool accept(VectorKey key) const override { return slots_[key].entry->get().has_tag(tag_); }

 private:
  const std::string& tag_;
  const std::vector<VectorSlot>& slots_;
};

}  // namespace

Result<std::vector<SearchHit>> Collection::search(std::span<const float> query, size_t k,
                                                  const std::string* tag) const {
  if (query.size() != config_.index.dimension) {
    return Status::invalid_argument("query has " + std::to_string(query.size()) +
                                    " dimensions; collection '" + config_.name + "' has " +
                                    std::to_string(config_.index.dimension));
  }
  for (size_t i = 0; i < query.size(); ++i) {
    if (!std::isfinite(query[i])) {
      return Status::invalid_argument("query[" + std::to_string(i) + "] is not finite");
    }
  }
  if (k < 1 || k > kMaxSearchK) {
    return Status::invalid_argument("k must be in 1.." + std::to_string(kMaxSearchK));
  }

  std::optional<TagFilter> filter;
  if (tag != nullptr) filter.emplace(*tag, slots_);
  const KeyFilter* key_filter = filter ? &*filter : nullptr;
  const Metric metric = config_.index.metric;

  std::vector<IndexHit> candidates;
  std::vector<IndexHit> part;
  for (const auto& index : partitions_) {
    // Ask for one more than k; if the extra hit ties the k-th, ask for more until the tie is
    // fully inside the answer, so the (score, id) order below sees every tied candidate.
    size_t fetch = std::min(k + 1, index->size());
    while (true) {
      part.clear();
      index->search(query.data(), fetch, key_filter, &part);
      const bool exhausted = part.size() < fetch || fetch >= index->size();
      if (exhausted || part.size() <= k || part[fetch - 1].score != part[k - 1].score) break;
      fetch = std::min(fetch * 2, index->size());
    }
    candidates.insert(candidates.end(), part.begin(), part.end());
  }

  // Extreme but finite inputs can make an inner product NaN; rank NaN last so the order stays a
  // strict weak order (std::partial_sort requires one).
  const float worst = metric == Metric::kL2 ? std::numeric_limits<float>::infinity()
                                            : -std::numeric_limits<float>::infinity();
  auto rank = [&](float s) { return std::isnan(s) ? worst : s; };
  auto before = [&](const IndexHit& a, const IndexHit& b) {
    const float sa = rank(a.score), sb = rank(b.score);
    if (sa != sb) return score_better(metric, sa, sb);
    return *slots_[a.key].id < *slots_[b.key].id;
  };
  const size_t n = std::min(k, candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + ptrdiff_t(n), candidates.end(),
                    before);
  std::vector<SearchHit> hits;
  hits.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const VectorSlot& slot = slots_[candidates[i].key];
    hits.push_back(SearchHit{*slot.id, candidates[i].score, slot.entry->get().visible_payload()});
  }
  return hits;
}

std::optional<VectorView> Collection::get(std::string_view id) const {
  const VectorState* state = shards_[shard_of(id)].find(id);
  if (state == nullptr || !state->live()) return std::nullopt;
  return VectorView{state->embedding(), state->visible_payload(), state->base_stamp()};
}

size_t Collection::live_count() const {
  size_t n = 0;
  for (const auto& s : shards_) n += s.live_count();
  return n;
}

std::vector<std::string> Collection::describe_indexes() const {
  std::vector<std::string> out;
  for (const auto& p : partitions_) out.push_back(p->describe());
  return out;
}

bool Collection::same_state_as(const Collection& other) const {
  return config_.num_shards == other.config_.num_shards && shards_ == other.shards_;
}

}  // namespace meridian
