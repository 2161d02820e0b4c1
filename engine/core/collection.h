// A collection in one region: its shards' CRDT replicas and the FAISS indexes that serve search.
//
// Writes: apply() validates a mutation, routes it to shard murmur3_32(id) % num_shards, applies
// it to that shard's replica and keeps the index in step with what became visible.
//
// Search layout: the shards are the unit of routing, logging and replication; the FAISS indexes
// are a derived, region-local structure. `index_partitions` says how many FAISS indexes the
// shards are spread over (shard s feeds partition s % index_partitions). One partition is the
// fastest for graph and IVF indexes, whose cost grows far slower than linearly with size, so 64
// small graphs cost many times one large one; num_shards partitions gives the textbook "one index
// per shard" layout. Search fans out over the partitions and merges the top-k.
//
// The merge is canonical: hits are ordered by score, then by vector id, and each partition is
// asked for enough hits that ties at the k-th place are all seen. So with an exact (flat) index,
// replicas with equal state return identical ids and scores whatever order they applied
// mutations in, and whatever the partition layout.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/core/incremental_hash_map.h"
#include "engine/core/mutation.h"
#include "engine/core/shard_replica.h"
#include "engine/core/status.h"
#include "engine/core/vector_index.h"

namespace meridian {

struct CollectionConfig {
  std::string name;
  IndexParams index;  // kind, metric, dimension and the kind's tuning
  uint32_t num_shards = 16;
  uint32_t index_partitions = 1;
  uint32_t routing_seed = 0;  // must be the same in every region and client
};

// Name rules as for mutations, shards in 1..kMaxShards, partitions in 1..num_shards, index params.
Status validate(const CollectionConfig& config);

inline constexpr size_t kMaxSearchK = 10000;

struct SearchHit {
  std::string id;
  float score = 0;  // squared L2 distance (lower is better) or inner product / cosine (higher)
  Payload payload;
  bool operator==(const SearchHit&) const = default;
};

// A live vector as a reader sees it.
struct VectorView {
  std::vector<float> embedding;
  Payload payload;
  Stamp stamp;  // of the upsert that wrote the embedding
};

// What a VectorKey stands for. Both pointers point into a shard replica's map, whose entries
// have stable addresses until garbage collection erases them; collect_garbage() then nulls the
// slot (the id was not live, so the index does not hold its key) and a later write of the same
// id points the slot at the new entry.
struct VectorSlot {
  const std::string* id;
  const VectorEntry* entry;  // the shard's entry: its state is current even after copy on write
};

class Collection {
 public:
  // Fails with kInvalidArgument if the config is invalid.
  static Result<std::unique_ptr<Collection>> create(const CollectionConfig& config);

  Collection(const Collection&) = delete;
  Collection& operator=(const Collection&) = delete;

  // Validates the mutation (including that it names this collection and, for an upsert, has this
  // collection's dimension), then applies it to its shard and updates the index. A rejected
  // mutation changes nothing.
  Result<ApplyOutcome> apply(const Mutation& m);
  Result<ApplyOutcome> apply(Mutation&& m);

  // k nearest live vectors to `query` (dimension floats, finite), k in 1..kMaxSearchK; with
  // `tag`, only vectors whose payload tags contain it.
  Result<std::vector<SearchHit>> search(std::span<const float> query, size_t k,
                                        const std::string* tag = nullptr) const;

  std::optional<VectorView> get(std::string_view id) const;

  // Joins a replica of shard `other.shard_index()` (e.g. received by anti-entropy) into ours.
  // The two frontiers are ShardReplica::merge's (below which each side is known complete).
  Status merge_shard(const ShardReplica& other, uint64_t complete_below = 0,
                     uint64_t other_complete_below = 0);

  // ShardReplica::collect_garbage on one shard, keeping the id slots valid. Returns the number
  // of ids erased. REQUIRES: shard < num_shards and g is causally stable for that shard.
  size_t collect_garbage(uint32_t shard, uint64_t g);

  uint32_t shard_of(std::string_view id) const;
  const ShardReplica& shard(uint32_t index) const { return shards_[index]; }
  const CollectionConfig& config() const { return config_; }
  size_t live_count() const;
  // Per partition, the index's describe() line.
  std::vector<std::string> describe_indexes() const;

  // Same logical state in every shard (CRDT states and version vectors).
  bool same_state_as(const Collection& other) const;

 private:
  explicit Collection(const CollectionConfig& config);

  template <typename M>
  Result<ApplyOutcome> apply_impl(M&& m);
  Status check_mutation(const Mutation& m) const;
  void sync_index(uint32_t shard, const std::string& id, const VectorEntry& entry,
                  VectorChange change);
  VectorKey key_for(const std::string& id, uint32_t shard, const VectorEntry* entry);
  VectorIndex& partition_of_shard(uint32_t shard) const;

  CollectionConfig config_;
  std::vector<ShardReplica> shards_;
  std::vector<std::unique_ptr<VectorIndex>> partitions_;
  // id -> key, one map per shard (indexed by shard), grown incrementally like the shard's own map
  // so that no write waits for a rehash (incremental_hash_map.h).
  using KeyMap = IncrementalHashMap<VectorKey>;
  std::vector<KeyMap> key_of_id_;
  std::vector<VectorSlot> slots_;  // indexed by VectorKey
};

}  // namespace meridian
