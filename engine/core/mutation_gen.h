// RapidCheck generators for valid Mutations, shared by the property tests (codec, CRDTs, ...).
//
// Test-only, header-only. Every generated Mutation passes validate() (asserted), so a property
// that fails on one has found a bug in the code under test, not in the generator. The options
// narrow the space when a property needs collisions: a fixed collection and dimension so that
// mutations land in the same index, an id pool so that they hit the same vectors, small pools of
// field names and tags so that patches overlap, a small timestamp range so that stamps tie.
#pragma once

#include <rapidcheck.h>

#include <cassert>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/mutation.h"

namespace meridian {

// Every member has an initializer, so callers can set just the ones they need with designated
// initializers (gen_mutation({.dimension = 8})) without -Wmissing-field-initializers.
struct MutationGenOptions {
  // Ops to draw from, uniformly. Must not be empty.
  std::vector<Op> ops = {Op::kUpsert, Op::kDelete, Op::kPatch};
  // Every mutation uses this collection if set (it must be a valid name); else a random one.
  std::optional<std::string> collection{};
  // Every upsert has this many dimensions if set; else 1..max_dimension.
  std::optional<size_t> dimension{};
  size_t max_dimension = 64;
  // Vector ids are drawn from this pool if it is not empty; else random ids of 1..24 bytes, either
  // arbitrary bytes (NUL and invalid UTF-8 included) or valid UTF-8 up to 4-byte sequences.
  std::vector<std::string> id_pool{};
  // origin_region is drawn from [0, region_count). Must be in 1..65536.
  uint32_t region_count = 8;
  // timestamp and origin_sequence are drawn from [1, max] (both are never 0 in a valid mutation).
  uint64_t max_timestamp = std::numeric_limits<uint64_t>::max();
  uint64_t max_sequence = std::numeric_limits<uint64_t>::max();
  // Payload field names and tags (including unset fields and removed tags) are drawn from these
  // pools if they are not empty; else random. Pool entries must be non-empty.
  std::vector<std::string> field_name_pool{};
  std::vector<std::string> tag_pool{};
  // Each of fields, tags, unset fields and removed tags has 0..max_entries_per_section entries.
  size_t max_entries_per_section = 4;
};

namespace gen_detail {

// A uniformly random value in [lo, hi], independent of RapidCheck's size parameter (which would
// otherwise keep early cases near `lo`). Shrinks towards lo.
template <typename T>
rc::Gen<T> uniform_in(T lo, T hi) {
  assert(lo <= hi);
  if (lo == hi) return rc::gen::just(lo);
  if (hi == std::numeric_limits<T>::max()) {  // inRange's exclusive bound cannot reach hi
    if (lo == 0) return rc::gen::resize(rc::kNominalSize, rc::gen::arbitrary<T>());
    return rc::gen::resize(rc::kNominalSize, rc::gen::map(rc::gen::inRange<T>(lo - 1, hi),
                                                          [](T x) -> T { return x + 1; }));
  }
  return rc::gen::resize(rc::kNominalSize, rc::gen::inRange<T>(lo, hi + 1));
}

inline rc::Gen<char> gen_byte() {
  return rc::gen::map(uniform_in<int>(0, 255), [](int b) { return static_cast<char>(b); });
}

// Appends the UTF-8 encoding of scalar value `cp` (not a surrogate, at most U+10FFFF).
inline void append_utf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// A Unicode scalar value, with each UTF-8 length equally likely.
inline rc::Gen<uint32_t> gen_code_point() {
  return rc::gen::oneOf(uniform_in<uint32_t>(0x01, 0x7F), uniform_in<uint32_t>(0x80, 0x7FF),
                        uniform_in<uint32_t>(0x800, 0xD7FF), uniform_in<uint32_t>(0xE000, 0xFFFF),
                        uniform_in<uint32_t>(0x10000, 0x10FFFF));
}

}  // namespace gen_detail

// `min_bytes`..`max_bytes` arbitrary bytes (any of the 256 values).
inline rc::Gen<std::string> gen_bytes(size_t min_bytes, size_t max_bytes) {
  return rc::gen::exec([=] {
    const size_t n = *gen_detail::uniform_in(min_bytes, max_bytes);
    return *rc::gen::container<std::string>(n, gen_detail::gen_byte());
  });
}

// Valid UTF-8 of `min_chars`..`max_chars` code points (1 to 4 bytes each).
inline rc::Gen<std::string> gen_utf8(size_t min_chars, size_t max_chars) {
  return rc::gen::exec([=] {
    const size_t n = *gen_detail::uniform_in(min_chars, max_chars);
    const auto code_points =
        *rc::gen::container<std::vector<uint32_t>>(n, gen_detail::gen_code_point());
    std::string s;
    for (uint32_t cp : code_points) gen_detail::append_utf8(cp, &s);
    return s;
  });
}

// A valid collection name: 1..16 characters from A-Z a-z 0-9 _ - .
inline rc::Gen<std::string> gen_collection_name() {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.";
  return rc::gen::exec([] {
    const size_t n = *gen_detail::uniform_in<size_t>(1, 16);
    return *rc::gen::container<std::string>(n, rc::gen::elementOf(kAlphabet));
  });
}

// A non-empty vector id of at most 24 bytes: arbitrary bytes or valid UTF-8.
inline rc::Gen<std::string> gen_vector_id() {
  return rc::gen::oneOf(gen_bytes(1, 24), gen_utf8(1, 6));
}

// A finite float: ordinary values, edge values (signed zeros, subnormals, extremes) and uniformly
// random bit patterns with the non-finite ones mapped to 0.
inline rc::Gen<float> gen_finite_float() {
  constexpr float kMax = std::numeric_limits<float>::max();
  constexpr float kTiny = std::numeric_limits<float>::denorm_min();
  return rc::gen::oneOf(
      rc::gen::arbitrary<float>(),
      rc::gen::element(0.0f, -0.0f, kTiny, -kTiny, std::numeric_limits<float>::min(), kMax, -kMax),
      rc::gen::map(gen_detail::uniform_in<uint32_t>(0, 0xFFFFFFFF), [](uint32_t bits) {
        float f;
        std::memcpy(&f, &bits, sizeof f);
        return std::isfinite(f) ? f : 0.0f;
      }));
}

// A valid Mutation; see MutationGenOptions.
inline rc::Gen<Mutation> gen_mutation(MutationGenOptions options = {}) {
  assert(!options.ops.empty());
  assert(options.region_count >= 1 && options.region_count <= 65536);
  assert(options.max_timestamp >= 1 && options.max_sequence >= 1);
  return rc::gen::exec([o = std::move(options)] {
    const auto name = [](const std::vector<std::string>& pool, size_t min_bytes) {
      return pool.empty() ? *gen_bytes(min_bytes, 8) : *rc::gen::elementOf(pool);
    };
    const auto count = [&o] {
      return *gen_detail::uniform_in<size_t>(0, o.max_entries_per_section);
    };

    Mutation m;
    m.op = *rc::gen::elementOf(o.ops);
    m.collection = o.collection ? *o.collection : *gen_collection_name();
    m.vector_id = o.id_pool.empty() ? *gen_vector_id() : *rc::gen::elementOf(o.id_pool);
    m.timestamp = *gen_detail::uniform_in<uint64_t>(1, o.max_timestamp);
    m.origin_region =
        static_cast<RegionId>(*gen_detail::uniform_in<uint32_t>(0, o.region_count - 1));
    m.origin_sequence = *gen_detail::uniform_in<uint64_t>(1, o.max_sequence);
    if (m.op == Op::kUpsert) {
      const size_t dim =
          o.dimension ? *o.dimension : *gen_detail::uniform_in<size_t>(1, o.max_dimension);
      m.embedding = *rc::gen::container<std::vector<float>>(dim, gen_finite_float());
    }
    if (m.op != Op::kDelete) {
      for (size_t i = count(); i > 0; --i) {
        m.payload.fields.emplace(name(o.field_name_pool, 1), *gen_bytes(0, 12));
      }
      for (size_t i = count(); i > 0; --i) m.payload.tags.insert(name(o.tag_pool, 1));
    }
    if (m.op == Op::kPatch) {
      for (size_t i = count(); i > 0; --i) m.unset_fields.insert(name(o.field_name_pool, 0));
      for (size_t i = count(); i > 0; --i) m.removed_tags.insert(name(o.tag_pool, 0));
      // validate() rejects a patch that changes nothing; give an empty one a tag to set.
      if (m.payload.empty() && m.unset_fields.empty() && m.removed_tags.empty()) {
        m.payload.tags.insert(name(o.tag_pool, 1));
      }
    }
    assert(validate(m).is_ok());
    return m;
  });
}

}  // namespace meridian
