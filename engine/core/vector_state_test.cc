#include "engine/core/vector_state.h"

#include <gtest/gtest.h>

#include "engine/core/test_mutations.h"

namespace meridian {
namespace {

using testing::erase;
using testing::patch;
using testing::upsert;

TEST(VectorStateTest, NewerUpsertWinsWhateverTheOrder) {
  Mutation older = upsert("a", {1, 0}, 10, 1, 1);
  Mutation newer = upsert("a", {0, 1}, 20, 2, 1);
  VectorState x, y;
  EXPECT_EQ(x.apply(older), VectorChange::kEmbedding);
  EXPECT_EQ(x.apply(newer), VectorChange::kEmbedding);
  EXPECT_EQ(y.apply(newer), VectorChange::kEmbedding);
  EXPECT_EQ(y.apply(older), VectorChange::kNone);
  EXPECT_EQ(x, y);
  EXPECT_EQ(x.embedding(), (std::vector<float>{0, 1}));
}

TEST(VectorStateTest, EqualTimestampsAreBrokenByRegionId) {
  Mutation from1 = upsert("a", {1, 0}, 10, 1, 1);
  Mutation from2 = upsert("a", {0, 1}, 10, 2, 1);
  VectorState x, y;
  (void)x.apply(from1);
  (void)x.apply(from2);
  (void)y.apply(from2);
  (void)y.apply(from1);
  EXPECT_EQ(x, y);
  EXPECT_EQ(x.embedding(), (std::vector<float>{0, 1}));  // region 2 > region 1
}

TEST(VectorStateTest, DeleteRemovesAndOlderUpsertCannotResurrect) {
  VectorState s;
  EXPECT_EQ(s.apply(upsert("a", {1}, 10, 1, 1)), VectorChange::kEmbedding);
  EXPECT_EQ(s.apply(erase("a", 20, 1, 2)), VectorChange::kRemoved);
  EXPECT_FALSE(s.live());
  EXPECT_EQ(s.apply(upsert("a", {2}, 15, 2, 1)), VectorChange::kNone);
  EXPECT_FALSE(s.live());
  EXPECT_EQ(s.apply(upsert("a", {3}, 25, 2, 2)), VectorChange::kEmbedding);
  EXPECT_TRUE(s.live());
  EXPECT_TRUE(s.check_invariants());
}

TEST(VectorStateTest, UpsertReplacesPayloadButKeepsNewerPatches) {
  VectorState s;
  Payload p;
  p.fields["lang"] = "en";
  p.tags = {"x"};
  (void)s.apply(upsert("a", {1}, 10, 1, 1, p));
  Payload set;
  set.fields["owner"] = "bob";
  set.tags = {"y"};
  (void)s.apply(patch("a", set, {}, {}, 30, 1, 2));
  Payload replacement;
  replacement.fields["lang"] = "fr";
  (void)s.apply(upsert("a", {2}, 20, 2, 1, replacement));  // between the two
  Payload want;
  want.fields = {{"lang", "fr"}, {"owner", "bob"}};
  want.tags = {"y"};
  EXPECT_EQ(s.visible_payload(), want);
  EXPECT_TRUE(s.check_invariants());
}

TEST(VectorStateTest, PatchOlderThanUpsertIsIgnored) {
  VectorState s;
  (void)s.apply(upsert("a", {1}, 20, 1, 1));
  Payload set;
  set.tags = {"late"};
  EXPECT_EQ(s.apply(patch("a", set, {}, {}, 10, 2, 1)), VectorChange::kNone);
  EXPECT_FALSE(s.has_tag("late"));
}

TEST(VectorStateTest, UnsetAndRemoveAreLastWriterWins) {
  VectorState s;
  Payload p;
  p.fields["k"] = "v";
  p.tags = {"t"};
  (void)s.apply(upsert("a", {1}, 10, 1, 1, p));
  EXPECT_EQ(s.apply(patch("a", {}, {"k"}, {"t"}, 30, 1, 2)), VectorChange::kPayload);
  Payload readd;
  readd.fields["k"] = "w";
  readd.tags = {"t"};
  EXPECT_EQ(s.apply(patch("a", readd, {}, {}, 20, 2, 1)), VectorChange::kNone);  // older
  EXPECT_TRUE(s.visible_payload().empty());
  EXPECT_TRUE(s.check_invariants());
}

TEST(VectorStateTest, ReapplyingIsANoOp) {
  VectorState s;
  Mutation m = upsert("a", {1}, 10, 1, 1);
  (void)s.apply(m);
  VectorState before = s;
  EXPECT_EQ(s.apply(m), VectorChange::kNone);
  EXPECT_EQ(s, before);
}

TEST(VectorStateTest, MergeMatchesApplyingBothSides) {
  Payload p;
  p.tags = {"a"};
  VectorState left, right, both;
  Mutation m1 = upsert("a", {1}, 10, 1, 1, p);
  Mutation m2 = patch("a", {}, {}, {"a"}, 15, 2, 1);
  Mutation m3 = erase("a", 12, 3, 1);
  (void)left.apply(m1);
  (void)left.apply(m3);
  (void)right.apply(m2);
  for (const Mutation* m : {&m1, &m2, &m3}) (void)both.apply(*m);
  VectorState merged = left;
  (void)merged.merge(right);
  EXPECT_EQ(merged, both);
  VectorState other_way = right;
  (void)other_way.merge(left);
  EXPECT_EQ(other_way, both);
}

}  // namespace
}  // namespace meridian
