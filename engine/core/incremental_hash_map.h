// A hash map keyed by std::string that grows without ever rehashing all its entries at once.
//
// std::unordered_map rehashes every entry in the insert that crosses its load limit. The maps of
// a shard replica and a collection grow on the node's event loop, so that one insert held up every
// write behind it: at 1.4 M vectors, 0.4 s for a collection's id map, and 50–100 ms per shard
// when a shard's two maps crossed 85 k ids together. Here, when the table is full, a table
// reserved for twice as many entries takes over new inserts and every later insert moves two
// entries from the old table (Redis's incremental rehashing, with std::unordered_map's node
// handles doing the moving). A move relinks the node, so entries never change address: pointers
// to keys and values stay valid until the entry is erased, as with std::unordered_map.
//
// Iteration order is unspecified (as for std::unordered_map) but deterministic: the same
// sequence of operations gives the same order. Never let it leak into replicated output.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace meridian {

// Hash for heterogeneous (std::string_view) lookup in unordered maps keyed by std::string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <class Value>
class IncrementalHashMap {
 public:
  using Map = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;
  using value_type = typename Map::value_type;  // std::pair<const std::string, Value>

  // Entries moved from the old table per insert while a growth is in progress. With 2, the old
  // table is empty before the new one (reserved for twice the entries) could fill up.
  static constexpr size_t kMovesPerInsert = 2;

  size_t size() const { return current_.size() + draining_.size(); }
  bool empty() const { return size() == 0; }

  value_type* find(std::string_view key) { return find_in(current_, draining_, key); }
  const value_type* find(std::string_view key) const { return find_in(current_, draining_, key); }

  // The entry for `key`, inserted with a value-initialised Value if absent; true if inserted.
  std::pair<value_type*, bool> try_emplace(std::string_view key) {
    if (value_type* found = find(key)) return {found, false};
    grow_if_full();
    move_some();
    const size_t buckets_before = current_.bucket_count();
    value_type* inserted = &*current_.try_emplace(std::string(key)).first;
    // A non-empty table changing its bucket count means an all-at-once rehash, which this class
    // exists to avoid; counted so that tests can prove it never happens.
    if (current_.size() > 1 && current_.bucket_count() != buckets_before) ++full_rehashes_;
    return {inserted, true};
  }

  // Room for `n` entries without growing. Finishes any growth in progress first: for building a
  // map whose size is known (decoding a snapshot), not for the write path.
  void reserve(size_t n) {
    while (!draining_.empty()) move_one();
    draining_ = Map();
    current_.reserve(n);
  }

  // Calls f(const value_type&) for every entry.
  template <class F>
  void for_each(F&& f) const {
    for (const value_type& entry : draining_) f(entry);
    for (const value_type& entry : current_) f(entry);
  }

  // Erases every entry for which pred(value_type&) returns true (pred may change the value) and
  // returns how many it erased.
  template <class Pred>
  size_t erase_if(Pred&& pred) {
    return erase_from(draining_, pred) + erase_from(current_, pred);
  }

  // Same keys with equal values, whatever the tables' layout.
  bool operator==(const IncrementalHashMap& other) const {
    if (size() != other.size()) return false;
    bool equal = true;
    for_each([&](const value_type& entry) {
      const value_type* theirs = equal ? other.find(entry.first) : nullptr;
      equal = theirs != nullptr && theirs->second == entry.second;
    });
    return equal;
  }

  // For tests: rehashes of a non-empty table (always 0), and whether a growth is in progress.
  size_t full_rehashes() const { return full_rehashes_; }
  bool growing() const { return !draining_.empty(); }

 private:
  template <class M>
  static auto find_in(M& current, M& draining, std::string_view key)
      -> decltype(&*current.find(key)) {
    if (auto it = current.find(key); it != current.end()) return &*it;
    if (draining.empty()) return nullptr;
    auto it = draining.find(key);
    return it == draining.end() ? nullptr : &*it;
  }

  // When the next insert would make the current table rehash, it becomes the draining table and
  // an empty table with room for twice the entries takes its place.
  void grow_if_full() {
    if (!draining_.empty()) return;
    if (double(current_.size() + 1) <=
        double(current_.bucket_count()) * current_.max_load_factor()) {
      return;
    }
    if (current_.empty()) return;  // nothing to move: let the first insert size the table
    draining_.swap(current_);
    current_ = Map();
    current_.reserve(2 * (draining_.size() + 1));
  }

  void move_some() {
    for (size_t i = 0; i < kMovesPerInsert && !draining_.empty(); ++i) move_one();
    if (draining_.empty() && draining_.bucket_count() > 1) draining_ = Map();  // free its buckets
  }

  void move_one() { current_.insert(draining_.extract(draining_.begin())); }

  template <class Pred>
  static size_t erase_from(Map& map, Pred& pred) {
    size_t erased = 0;
    for (auto it = map.begin(); it != map.end();) {
      if (pred(*it)) {
        it = map.erase(it);
        ++erased;
      } else {
        ++it;
      }
    }
    return erased;
  }

  Map current_;   // takes every insert
  Map draining_;  // the previous table while a growth is in progress; otherwise empty
  size_t full_rehashes_ = 0;
};

}  // namespace meridian
