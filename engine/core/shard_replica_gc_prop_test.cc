// Properties of tombstone collection: collecting at a causally stable point G commutes with
// every later delivery, is idempotent, never changes what readers see, and frontier-aware merges
// of collected replicas agree with collecting the union.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

#include "engine/core/mutation_history_gen.h"
#include "engine/core/shard_replica.h"

namespace meridian {
namespace {

ShardReplica replay(const std::vector<Mutation>& delivery) {
  ShardReplica r(0);
  for (const Mutation& m : delivery) (void)r.apply(m);
  return r;
}

ShardReplica collected(ShardReplica r, uint64_t g) {
  r.collect_garbage(g);
  return r;
}

uint64_t max_timestamp(const std::vector<Mutation>& history) {
  uint64_t t = 0;
  for (const Mutation& m : history) t = std::max(t, m.timestamp);
  return t;
}

// Splits a history at a stable point g: `early` holds every mutation older than g and a random
// part of the others (applied before the collection), `late` the rest.
struct Split {
  std::vector<Mutation> early, late;
};
Split split_at(const std::vector<Mutation>& history, uint64_t g) {
  Split s;
  for (const Mutation& m : history) {
    const bool early = m.timestamp < g || *rc::gen::arbitrary<bool>();
    (early ? s.early : s.late).push_back(m);
  }
  return s;
}

// What a reader sees: live ids with their embeddings, and every visible payload.
bool same_visible_state(const ShardReplica& a, const ShardReplica& b) {
  if (a.live_count() != b.live_count()) return false;
  std::vector<std::string> ids = a.sorted_ids();
  for (const std::string& id : b.sorted_ids()) ids.push_back(id);
  for (const std::string& id : ids) {
    const VectorState* x = a.find(id);
    const VectorState* y = b.find(id);
    const bool live_x = x != nullptr && x->live(), live_y = y != nullptr && y->live();
    if (live_x != live_y) return false;
    if (live_x && x->embedding() != y->embedding()) return false;
    const Payload px = x == nullptr ? Payload() : x->visible_payload();
    const Payload py = y == nullptr ? Payload() : y->visible_payload();
    if (px != py) return false;
  }
  return true;
}

bool all_states_normalised(const ShardReplica& r) {
  for (const std::string& id : r.sorted_ids()) {
    if (!r.find(id)->check_invariants()) return false;
  }
  return true;
}

RC_GTEST_PROP(ShardReplicaGcProperties, CollectingEarlyEqualsCollectingAtTheEnd, ()) {
  const auto history = *gen_history();
  const uint64_t g = *rc::gen::inRange<uint64_t>(0, max_timestamp(history) + 3);
  const Split s = split_at(history, g);
  ShardReplica early = collected(replay(*gen_delivery(s.early)), g);
  // The rest in any order, with duplicates of anything (old ones included).
  std::vector<Mutation> rest = s.late;
  rest.insert(rest.end(), history.begin(), history.end());
  for (const Mutation& m : *gen_delivery(rest)) (void)early.apply(m);
  RC_ASSERT(early == collected(replay(history), g));
  RC_ASSERT(all_states_normalised(early));
}

RC_GTEST_PROP(ShardReplicaGcProperties, CollectIsIdempotentAndInvisible, ()) {
  const auto history = *gen_history();
  const uint64_t g = *rc::gen::inRange<uint64_t>(0, max_timestamp(history) + 3);
  const ShardReplica full = replay(history);
  const ShardReplica once = collected(full, g);
  RC_ASSERT(collected(once, g) == once);
  RC_ASSERT(same_visible_state(full, once));
  RC_ASSERT(once.version_vector() == full.version_vector());
  RC_ASSERT(all_states_normalised(once));
  // Collecting at a lower point first changes nothing about the result at the higher one.
  const uint64_t lower = *rc::gen::inRange<uint64_t>(0, g + 1);
  RC_ASSERT(collected(collected(full, lower), g) == once);
}

// Two replicas, each complete below its own frontier and collected there, merged with the
// frontiers (as delta catch-up does): the same as collecting the union of what they applied.
RC_GTEST_PROP(ShardReplicaGcProperties, FrontierMergeOfCollectedReplicasEqualsUnion, ()) {
  const auto history = *gen_history();
  const uint64_t top = max_timestamp(history) + 3;
  const uint64_t ga = *rc::gen::inRange<uint64_t>(0, top);
  const uint64_t gb = *rc::gen::inRange<uint64_t>(0, top);
  const Split a = split_at(history, ga);
  const Split b = split_at(history, gb);
  ShardReplica ra = collected(replay(a.early), ga);
  const ShardReplica rb = collected(replay(b.early), gb);
  ra.merge(rb, nullptr, ga, gb);
  ra.collect_garbage(std::max(ga, gb));
  std::vector<Mutation> both = a.early;
  both.insert(both.end(), b.early.begin(), b.early.end());
  RC_ASSERT(ra == collected(replay(both), std::max(ga, gb)));
  RC_ASSERT(all_states_normalised(ra));
}

// The incoming replica is arbitrary (a peer that restarted and is still replaying: complete
// below nothing); ours is complete below g and collected. The merge must not resurrect.
RC_GTEST_PROP(ShardReplicaGcProperties, FrontierMergeOfIncompleteReplicaEqualsUnion, ()) {
  const auto history = *gen_history();
  const uint64_t g = *rc::gen::inRange<uint64_t>(0, max_timestamp(history) + 3);
  const Split a = split_at(history, g);
  std::vector<Mutation> any;
  for (const Mutation& m : history) {
    if (*rc::gen::arbitrary<bool>()) any.push_back(m);
  }
  ShardReplica ra = collected(replay(a.early), g);
  ra.merge(replay(any), nullptr, g, 0);
  ra.collect_garbage(g);
  std::vector<Mutation> both = a.early;
  both.insert(both.end(), any.begin(), any.end());
  RC_ASSERT(ra == collected(replay(both), g));
}

}  // namespace
}  // namespace meridian
