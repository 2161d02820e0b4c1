#include "engine/core/incremental_hash_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace meridian {
namespace {

std::string key_of(uint64_t i) { return "vec-" + std::to_string(i); }

// Every operation against a std::map model, through many growths: the same contents, each entry
// visited once, no entry ever moving in memory, and never an all-at-once rehash.
TEST(IncrementalHashMapTest, MatchesAModelThroughManyGrowthsWithoutMovingEntries) {
  IncrementalHashMap<uint64_t> map;
  std::map<std::string, uint64_t> model;
  std::map<std::string, const void*> address;
  std::mt19937_64 rng(17);
  size_t growths = 0;
  bool was_growing = false;
  for (uint64_t step = 0; step < 200'000; ++step) {
    const std::string key = key_of(rng() % 150'000);
    if (step % 1000 == 999) {  // erase about 1 in 50 keys (erase_if is a full scan)
      const uint64_t salt = rng();
      auto doomed = [&](const std::string& k) {
        return (std::hash<std::string>{}(k) ^ salt) % 50 == 0;
      };
      const size_t erased = map.erase_if([&](auto& entry) { return doomed(entry.first); });
      size_t expected = 0;
      for (auto it = model.begin(); it != model.end();) {
        if (doomed(it->first)) {
          address.erase(it->first);
          it = model.erase(it);
          ++expected;
        } else {
          ++it;
        }
      }
      EXPECT_EQ(erased, expected);
      ASSERT_EQ(map.size(), model.size());
      continue;
    }
    switch (rng() % 4) {
      case 0: {  // look up
        const auto* found = map.find(key);
        ASSERT_EQ(found != nullptr, model.count(key) == 1) << key;
        if (found != nullptr) {
          EXPECT_EQ(found->second, model[key]);
          EXPECT_EQ(static_cast<const void*>(found), address[key]) << key << " moved";
        }
        break;
      }
      default: {  // insert or update
        auto [entry, inserted] = map.try_emplace(key);
        ASSERT_EQ(inserted, model.count(key) == 0) << key;
        if (inserted) {
          EXPECT_EQ(entry->second, 0u);  // value-initialised
          address[key] = entry;
        } else {
          EXPECT_EQ(static_cast<const void*>(entry), address[key]) << key << " moved";
        }
        entry->second = step;
        model[key] = step;
      }
    }
    ASSERT_EQ(map.size(), model.size());
    if (map.growing() && !was_growing) ++growths;
    was_growing = map.growing();
  }
  EXPECT_GE(growths, 10u);  // the test crossed many table sizes
  EXPECT_EQ(map.full_rehashes(), 0u);
  std::map<std::string, uint64_t> seen;
  map.for_each([&](const auto& entry) { EXPECT_TRUE(seen.emplace(entry).second) << entry.first; });
  EXPECT_EQ(seen, model);
}

TEST(IncrementalHashMapTest, AGrowthFinishesAfterHalfAsManyInsertsAsEntries) {
  IncrementalHashMap<int> map;
  uint64_t i = 0;
  while (!map.growing() && i < 1'000'000) map.try_emplace(key_of(i++));
  ASSERT_TRUE(map.growing()) << "no growth in a million inserts";
  const size_t moving = map.size() - 1;  // everything but the insert that started the growth
  size_t inserts = 0;
  while (map.growing()) {
    map.try_emplace(key_of(i++));
    ++inserts;
  }
  EXPECT_LE(inserts, moving / IncrementalHashMap<int>::kMovesPerInsert + 1);
  EXPECT_EQ(map.size(), i);
  for (uint64_t k = 0; k < i; ++k) EXPECT_NE(map.find(key_of(k)), nullptr) << k;
}

TEST(IncrementalHashMapTest, EqualityIgnoresLayoutAndGrowthState) {
  IncrementalHashMap<int> forward, backward;
  constexpr int kN = 5000;
  for (int k = 0; k < kN; ++k) forward.try_emplace(key_of(k)).first->second = k;
  for (int k = kN + 100; k-- > 0;) backward.try_emplace(key_of(k)).first->second = k;
  EXPECT_FALSE(forward == backward);  // 100 extra keys
  backward.erase_if([](auto& entry) { return entry.second >= kN; });
  EXPECT_TRUE(forward == backward);
  EXPECT_TRUE(backward == forward);
  backward.find(key_of(7))->second = -1;
  EXPECT_FALSE(forward == backward);
}

TEST(IncrementalHashMapTest, ReserveFinishesAGrowthAndKeepsEveryEntry) {
  IncrementalHashMap<int> map;
  for (int k = 0; !map.growing() && k < 1'000'000; ++k) {
    map.try_emplace(key_of(uint64_t(k))).first->second = k + 1;
  }
  ASSERT_TRUE(map.growing()) << "no growth in a million inserts";
  map.reserve(100'000);
  EXPECT_FALSE(map.growing());
  for (int k = 0; k < 90'000; ++k) map.try_emplace(key_of(uint64_t(k))).first->second = k + 1;
  EXPECT_FALSE(map.growing());  // reserved room: no growth needed
  EXPECT_EQ(map.size(), 90'000u);
  EXPECT_EQ(map.find(key_of(0))->second, 1);
  EXPECT_EQ(map.full_rehashes(), 0u);
}

}  // namespace
}  // namespace meridian
