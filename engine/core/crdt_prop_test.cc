// Properties of the replicated state: any delivery of a history converges, and state merge is a
// join (commutative, associative, idempotent) that agrees with applying the union of histories.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "engine/core/collection.h"
#include "engine/core/mutation_history_gen.h"
#include "engine/core/shard_replica.h"

namespace meridian {
namespace {

ShardReplica replay(const std::vector<Mutation>& delivery) {
  ShardReplica r(0);
  for (const Mutation& m : delivery) (void)r.apply(m);
  return r;
}

bool all_states_normalised(const ShardReplica& r) {
  for (const std::string& id : r.sorted_ids()) {
    if (!r.find(id)->check_invariants()) return false;
  }
  return true;
}

// Splits `history` into `parts` random subsets (each mutation to one part).
std::vector<std::vector<Mutation>> split(const std::vector<Mutation>& history, size_t parts) {
  std::vector<std::vector<Mutation>> out(parts);
  for (const Mutation& m : history) out[*gen_detail::uniform_in<size_t>(0, parts - 1)].push_back(m);
  return out;
}

ShardReplica merged(ShardReplica a, const ShardReplica& b) {
  a.merge(b);
  return a;
}

RC_GTEST_PROP(CrdtProperties, AnyDeliveryWithDuplicatesConverges, ()) {
  const auto history = *gen_history();
  const ShardReplica in_order = replay(history);
  const ShardReplica shuffled = replay(*gen_delivery(history));
  RC_ASSERT(in_order == shuffled);
  RC_ASSERT(all_states_normalised(shuffled));
  RC_ASSERT(in_order.version_vector().gap_dot_count() == 0u);
}

RC_GTEST_PROP(CrdtProperties, MergeIsCommutative, ()) {
  const auto parts = split(*gen_history(), 2);
  const ShardReplica a = replay(parts[0]), b = replay(parts[1]);
  RC_ASSERT(merged(a, b) == merged(b, a));
}

RC_GTEST_PROP(CrdtProperties, MergeIsAssociative, ()) {
  const auto parts = split(*gen_history(), 3);
  const ShardReplica a = replay(parts[0]), b = replay(parts[1]), c = replay(parts[2]);
  RC_ASSERT(merged(merged(a, b), c) == merged(a, merged(b, c)));
}

RC_GTEST_PROP(CrdtProperties, MergeIsIdempotent, ()) {
  const ShardReplica a = replay(*gen_history());
  RC_ASSERT(merged(a, a) == a);
}

RC_GTEST_PROP(CrdtProperties, MergeEqualsApplyingTheUnion, ()) {
  const auto history = *gen_history();
  const auto parts = split(history, 2);
  const ShardReplica m = merged(replay(parts[0]), replay(parts[1]));
  RC_ASSERT(m == replay(history));
  RC_ASSERT(all_states_normalised(m));
}

// Whole collections (routing, several shards, index partitions, a flat index): any delivery of
// the same history gives equal state AND identical search results, ids and scores, with and
// without a tag filter, whatever the partition layout.
RC_GTEST_PROP(CrdtProperties, CollectionsConvergeToIdenticalSearchResults, ()) {
  HistoryGenOptions o;
  o.num_shards = 4;
  o.ids = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
  const auto history = *gen_history(o);
  const auto delivery = *gen_delivery(history);

  CollectionConfig config;
  config.name = "c";
  config.index.kind = IndexKind::kFlat;
  config.index.metric = *rc::gen::element(Metric::kL2, Metric::kInnerProduct, Metric::kCosine);
  config.index.dimension = 4;
  config.num_shards = 4;
  config.index_partitions = 1;
  auto a = std::move(Collection::create(config).value());
  config.index_partitions = *rc::gen::element(1u, 2u, 4u);
  auto b = std::move(Collection::create(config).value());
  for (const Mutation& m : history) RC_ASSERT(a->apply(m).is_ok());
  for (const Mutation& m : delivery) RC_ASSERT(b->apply(m).is_ok());
  RC_ASSERT(a->same_state_as(*b));
  RC_ASSERT(a->live_count() == b->live_count());

  const auto query = *rc::gen::container<std::vector<float>>(4, rc::gen::inRange(-8, 9));
  std::vector<float> q(query.begin(), query.end());
  const size_t k = *rc::gen::inRange<size_t>(1, 12);
  const std::string tag = *rc::gen::element<std::string>("red", "green", "blue");
  const auto plain_a = a->search(q, k), plain_b = b->search(q, k);
  const auto tagged_a = a->search(q, k, &tag), tagged_b = b->search(q, k, &tag);
  RC_ASSERT(plain_a.is_ok() && plain_b.is_ok() && tagged_a.is_ok() && tagged_b.is_ok());
  RC_ASSERT(*plain_a == *plain_b);
  RC_ASSERT(*tagged_a == *tagged_b);
  RC_ASSERT(plain_a->size() == std::min(k, a->live_count()));
  for (const SearchHit& h : *tagged_a) RC_ASSERT(h.payload.tags.contains(tag));
}

}  // namespace
}  // namespace meridian
