#include "engine/core/collection.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "engine/core/routing.h"
#include "engine/core/shard_snapshot.h"
#include "engine/core/test_mutations.h"

namespace meridian {
namespace {

using testing::erase;
using testing::patch;
using testing::upsert;

CollectionConfig config(uint32_t shards, uint32_t partitions, IndexKind kind = IndexKind::kFlat) {
  CollectionConfig c;
  c.name = "c";
  c.index.kind = kind;
  c.index.metric = Metric::kL2;
  c.index.dimension = 2;
  c.num_shards = shards;
  c.index_partitions = partitions;
  return c;
}

std::unique_ptr<Collection> make(const CollectionConfig& c) {
  auto r = Collection::create(c);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return std::move(r).value();
}

std::vector<std::string> ids(const std::vector<SearchHit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h.id);
  return out;
}

TEST(CollectionTest, RoutesEachIdToItsMurmurShard) {
  auto c = make(config(8, 1));
  for (int i = 0; i < 50; ++i) {
    std::string id = "v" + std::to_string(i);
    ASSERT_TRUE(c->apply(upsert(id, {float(i), 0}, 10 + i, 1, i + 1)).is_ok());
    const uint32_t shard = shard_of(id, 8);
    EXPECT_NE(c->shard(shard).find(id), nullptr);
    EXPECT_EQ(c->shard((shard + 1) % 8).find(id), nullptr);
  }
  EXPECT_EQ(c->live_count(), 50u);
}

TEST(CollectionTest, RejectsBadMutationsWithoutChangingState) {
  auto c = make(config(4, 1));
  auto wrong_dim = c->apply(upsert("a", {1, 2, 3}, 10, 1, 1));
  EXPECT_EQ(wrong_dim.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_dim.status().message().find("3 dimensions"), std::string::npos);
  auto other = c->apply(upsert("a", {1, 2}, 10, 1, 1, {}, "other"));
  EXPECT_EQ(other.status().code(), StatusCode::kInvalidArgument);
  auto nan = c->apply(upsert("a", {1, std::nanf("")}, 10, 1, 1));
  EXPECT_EQ(nan.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c->live_count(), 0u);
  // The rejected mutations did not consume their sequence numbers.
  EXPECT_FALSE(c->apply(upsert("a", {1, 2}, 10, 1, 1))->duplicate);
}

TEST(CollectionTest, RejectsBadConfigsAndQueries) {
  EXPECT_FALSE(Collection::create(config(0, 1)).is_ok());
  EXPECT_FALSE(Collection::create(config(4, 5)).is_ok());
  CollectionConfig bad_name = config(4, 1);
  bad_name.name = "has space";
  EXPECT_FALSE(Collection::create(bad_name).is_ok());
  auto c = make(config(4, 1));
  std::vector<float> q = {1, 2, 3};
  EXPECT_EQ(c->search(q, 1).status().code(), StatusCode::kInvalidArgument);
  std::vector<float> ok = {1, 2};
  EXPECT_FALSE(c->search(ok, 0).is_ok());
  EXPECT_FALSE(c->search(ok, kMaxSearchK + 1).is_ok());
  std::vector<float> inf = {1, std::numeric_limits<float>::infinity()};
  EXPECT_FALSE(c->search(inf, 1).is_ok());
}

TEST(CollectionTest, SearchFiltersByTagAndReturnsPayloads) {
  auto c = make(config(4, 2));
  Payload red;
  red.tags = {"red"};
  red.fields["n"] = "1";
  ASSERT_TRUE(c->apply(upsert("a", {0, 0}, 10, 1, 1)).is_ok());
  ASSERT_TRUE(c->apply(upsert("b", {5, 5}, 11, 1, 2, red)).is_ok());
  ASSERT_TRUE(c->apply(upsert("d", {9, 9}, 12, 1, 3, red)).is_ok());
  std::vector<float> q = {0, 0};
  const std::string tag = "red";
  auto hits = c->search(q, 5, &tag);
  ASSERT_TRUE(hits.is_ok());
  EXPECT_EQ(ids(*hits), (std::vector<std::string>{"b", "d"}));
  EXPECT_EQ((*hits)[0].payload, red);
  EXPECT_FLOAT_EQ((*hits)[0].score, 50.0f);
  // A patch removing the tag takes effect immediately in search.
  ASSERT_TRUE(c->apply(patch("b", {}, {}, {"red"}, 20, 2, 1)).is_ok());
  EXPECT_EQ(ids(*c->search(q, 5, &tag)), (std::vector<std::string>{"d"}));
}

// A checkpoint copies a shard (sharing every vector's state) and encodes the copy off the loop
// while writes go on: the copy keeps the old state, and search sees the new one, also for a
// payload-only patch, which does not touch the index.
TEST(CollectionTest, ACopiedShardKeepsItsStateWhileSearchSeesNewWrites) {
  auto c = make(config(1, 1));
  Payload red;
  red.tags = {"red"};
  red.fields["n"] = "1";
  ASSERT_TRUE(c->apply(upsert("a", {0, 0}, 10, 1, 1, red)).is_ok());
  ASSERT_TRUE(c->apply(upsert("b", {3, 4}, 11, 1, 2)).is_ok());
  const ShardReplica copy = c->shard(0);
  const ShardReplica before = copy;

  Payload blue;
  blue.fields["n"] = "2";
  ASSERT_TRUE(c->apply(patch("a", blue, {}, {"red"}, 20, 1, 3)).is_ok());
  ASSERT_TRUE(c->apply(erase("b", 21, 1, 4)).is_ok());
  ASSERT_TRUE(c->apply(upsert("e", {1, 1}, 22, 1, 5)).is_ok());

  EXPECT_EQ(copy, before);
  EXPECT_EQ(copy.find("a")->visible_payload().fields.at("n"), "1");
  EXPECT_TRUE(copy.find("b")->live());
  EXPECT_EQ(copy.find("e"), nullptr);
  EXPECT_FALSE(c->shard(0) == before);

  const std::vector<float> q = {0, 0};
  auto hits = c->search(q, 5);
  ASSERT_TRUE(hits.is_ok());
  EXPECT_EQ(ids(*hits), (std::vector<std::string>{"a", "e"}));
  EXPECT_EQ((*hits)[0].payload.fields.at("n"), "2");
  EXPECT_TRUE((*hits)[0].payload.tags.empty());
  const std::string tag = "red";
  EXPECT_TRUE(c->search(q, 5, &tag)->empty());
}

// The checkpoint's use: a copy encoded on another thread while the loop keeps writing to the
// same ids (run under ASan/UBSan in CI; a shared state written in place would be a data race
// and usually a wrong encoding).
TEST(CollectionTest, ACopyReadsConsistentlyOnAnotherThreadWhileTheShardChanges) {
  auto c = make(config(1, 1));
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(c->apply(upsert("v" + std::to_string(i), {float(i), 0}, 10, 1, i + 1)).is_ok());
  }
  auto copy = std::make_shared<const ShardReplica>(c->shard(0));
  const std::string expected = encode_shard_snapshot(*copy);
  std::string encoded_there;
  std::thread encoder([copy, &encoded_there] {
    for (int round = 0; round < 20; ++round) encoded_there = encode_shard_snapshot(*copy);
  });
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(c->apply(upsert("v" + std::to_string(i), {0, float(i)}, 20, 1, 201 + i)).is_ok());
  }
  encoder.join();
  copy.reset();
  EXPECT_EQ(encoded_there, expected);
  EXPECT_NE(encode_shard_snapshot(c->shard(0)), expected);
  EXPECT_EQ(c->shard(0).find("v7")->embedding(), (std::vector<float>{0, 7}));
}

TEST(CollectionTest, DeletesAndUpdatesAreVisibleToSearch) {
  for (IndexKind kind : {IndexKind::kFlat, IndexKind::kHnsw, IndexKind::kIvf}) {
    auto c = make(config(4, 1, kind));
    ASSERT_TRUE(c->apply(upsert("a", {0, 0}, 10, 1, 1)).is_ok());
    ASSERT_TRUE(c->apply(upsert("b", {1, 1}, 11, 1, 2)).is_ok());
    ASSERT_TRUE(c->apply(erase("a", 12, 1, 3)).is_ok());
    ASSERT_TRUE(c->apply(upsert("b", {7, 7}, 13, 1, 4)).is_ok());
    std::vector<float> q = {0, 0};
    auto hits = c->search(q, 10);
    ASSERT_TRUE(hits.is_ok());
    ASSERT_EQ(hits->size(), 1u) << index_kind_name(kind);
    EXPECT_EQ((*hits)[0].id, "b");
    EXPECT_FLOAT_EQ((*hits)[0].score, 98.0f);
    EXPECT_FALSE(c->get("a").has_value());
    EXPECT_EQ(c->get("b")->embedding, (std::vector<float>{7, 7}));
  }
}

TEST(CollectionTest, TiesAreOrderedByIdAndCompleteAcrossPartitions) {
  // Twenty ids share one embedding; any k must return the k smallest ids, whatever the layout.
  for (uint32_t partitions : {1u, 3u, 8u}) {
    auto c = make(config(8, partitions));
    for (int i = 0; i < 20; ++i) {
      char id[8];
      std::snprintf(id, sizeof id, "id%02d", 19 - i);
      ASSERT_TRUE(c->apply(upsert(id, {1, 1}, 10 + i, 1, i + 1)).is_ok());
    }
    ASSERT_TRUE(c->apply(upsert("zz-closest", {0.5f, 0.5f}, 100, 1, 100)).is_ok());
    std::vector<float> q = {0, 0};
    auto hits = c->search(q, 4);
    ASSERT_TRUE(hits.is_ok());
    EXPECT_EQ(ids(*hits), (std::vector<std::string>{"zz-closest", "id00", "id01", "id02"}))
        << partitions << " partitions";
  }
}

TEST(CollectionTest, PartitionLayoutDoesNotChangeExactResults) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1, 1);
  auto one = make(config(16, 1));
  auto many = make(config(16, 16));
  for (int i = 0; i < 500; ++i) {
    Mutation m = upsert("v" + std::to_string(i), {u(rng), u(rng)}, 10 + i, 1, i + 1);
    ASSERT_TRUE(one->apply(m).is_ok());
    ASSERT_TRUE(many->apply(m).is_ok());
  }
  for (int q = 0; q < 20; ++q) {
    std::vector<float> query = {u(rng), u(rng)};
    EXPECT_EQ(*one->search(query, 10), *many->search(query, 10));
  }
}

TEST(CollectionTest, MergeShardBringsALaggingReplicaUpToDate) {
  auto healthy = make(config(2, 1));
  auto lagging = make(config(2, 1));
  for (int i = 0; i < 30; ++i) {
    Mutation m = upsert("v" + std::to_string(i), {float(i), 0}, 10 + i, 1, i + 1);
    ASSERT_TRUE(healthy->apply(m).is_ok());
    if (i < 10) {
      ASSERT_TRUE(lagging->apply(m).is_ok());
    }
  }
  ASSERT_TRUE(healthy->apply(erase("v3", 100, 2, 1)).is_ok());
  for (uint32_t s = 0; s < 2; ++s) ASSERT_TRUE(lagging->merge_shard(healthy->shard(s)).is_ok());
  EXPECT_TRUE(lagging->same_state_as(*healthy));
  std::vector<float> q = {3, 0};
  EXPECT_EQ(*lagging->search(q, 5), *healthy->search(q, 5));
  ShardReplica stranger(7);
  EXPECT_FALSE(lagging->merge_shard(stranger).is_ok());
}

// merge_shard adds new embeddings in one batch (IVF: one add_with_ids after training); the
// result must be what applying the mutations one by one gives, including updates of ids the
// index already holds.
TEST(CollectionTest, BatchedMergeIntoIvfMatchesOneByOneApply) {
  CollectionConfig c = config(2, 1, IndexKind::kIvf);
  c.index.ivf_nlist = 4;
  c.index.ivf_nprobe = 4;  // every list: exact, so results must agree exactly
  c.index.ivf_train_size = 40;
  auto healthy = make(c);
  auto lagging = make(c);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-10, 10);
  uint64_t stamp = 10;
  for (int i = 0; i < 200; ++i) {
    Mutation m = upsert("v" + std::to_string(i), {u(rng), u(rng)}, ++stamp, 1, i + 1);
    ASSERT_TRUE(healthy->apply(m).is_ok());
    if (i < 120) {
      ASSERT_TRUE(lagging->apply(m).is_ok());  // trained and holding these
    }
  }
  for (int i = 0; i < 60; ++i) {  // updates of ids both hold, and of ids only healthy has
    Mutation m = upsert("v" + std::to_string(i * 3), {u(rng), u(rng)}, ++stamp, 2, i + 1);
    ASSERT_TRUE(healthy->apply(m).is_ok());
  }
  ASSERT_TRUE(healthy->apply(erase("v7", ++stamp, 3, 1)).is_ok());
  for (uint32_t s = 0; s < 2; ++s) ASSERT_TRUE(lagging->merge_shard(healthy->shard(s)).is_ok());
  EXPECT_TRUE(lagging->same_state_as(*healthy));
  EXPECT_EQ(lagging->live_count(), healthy->live_count());
  for (int q = 0; q < 20; ++q) {
    std::vector<float> query = {u(rng), u(rng)};
    EXPECT_EQ(ids(*lagging->search(query, 10)), ids(*healthy->search(query, 10))) << q;
  }
}

}  // namespace
}  // namespace meridian
