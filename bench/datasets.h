// Synthetic data for the benchmarks in bench/: a seeded Gaussian-mixture generator for embeddings
// and builders for ids, payloads and mutation streams.
//
// Everything here is a pure function of its arguments (seeds included): the same call returns the
// same bytes on every run and machine with the same compiler and libm. The random source is
// SplitMix64 with Box-Muller normals, written out here so that results do not depend on the
// standard library's unspecified distribution algorithms.
//
// Header-only on purpose: each benchmark binary is one .cc file (bench/CMakeLists.txt).
#pragma once

#include <cassert>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/mutation.h"

namespace meridian::bench {

// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, passes BigCrush; fine for test data.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n). REQUIRES: n >= 1. (Modulo bias < n / 2^64: irrelevant here.)
  uint64_t below(uint64_t n) { return next() % n; }
  // Standard normal (Box-Muller; the second value of each pair is kept for the next call).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 2.0 * std::numbers::pi * u2;
    spare_ = r * std::sin(theta);
    has_spare_ = true;
    return r * std::cos(theta);
  }

 private:
  uint64_t state_;
  bool has_spare_ = false;
  double spare_ = 0;
};

// A mixture of `num_centroids` isotropic Gaussians in `dim` dimensions: centroid coordinates are
// N(0, centroid_stddev^2); a point picks a centroid uniformly and adds N(0, point_stddev^2) per
// coordinate. With the defaults (128-d, 1.0 / 0.5) centroids are ~16 apart and clusters have a
// radius of ~5.7, so clusters are well separated and nearest neighbours lie in the query's own
// cluster, the usual shape of embedding data that ANN indexes are tuned for.
struct MixtureSpec {
  uint32_t dim = 128;
  uint32_t num_centroids = 100;
  double centroid_stddev = 1.0;
  double point_stddev = 0.5;
  uint64_t seed = 42;  // draws the centroids
};

class GaussianMixture {
 public:
  explicit GaussianMixture(const MixtureSpec& spec) : spec_(spec) {
    assert(spec.dim >= 1 && spec.num_centroids >= 1);
    SplitMix64 rng(spec.seed);
    centroids_.resize(size_t(spec.num_centroids) * spec.dim);
    for (float& x : centroids_) x = float(rng.normal() * spec.centroid_stddev);
  }

  const MixtureSpec& spec() const { return spec_; }
  uint32_t dim() const { return spec_.dim; }

  // `n` points (row-major, n * dim floats) from the mixture. Different `stream_seed`s give
  // independent samples of the same distribution (e.g. base vectors and queries).
  std::vector<float> sample(size_t n, uint64_t stream_seed) const {
    SplitMix64 rng(stream_seed ^ 0x5eed5eed5eed5eedULL);
    std::vector<float> out(n * spec_.dim);
    for (size_t i = 0; i < n; ++i) {
      const float* c = &centroids_[rng.below(spec_.num_centroids) * spec_.dim];
      float* p = &out[i * spec_.dim];
      for (uint32_t j = 0; j < spec_.dim; ++j)
        p[j] = c[j] + float(rng.normal() * spec_.point_stddev);
    }
    return out;
  }

 private:
  MixtureSpec spec_;
  std::vector<float> centroids_;
};

// The id of vector number `i`: "vec-" and 12 decimal digits, 16 bytes (a typical short key).
inline std::string vector_id(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "vec-%012llu", static_cast<unsigned long long>(i));
  return buf;
}

// Inverse of vector_id(). REQUIRES: `id` was made by vector_id().
inline uint64_t vector_number(const std::string& id) {
  assert(id.size() == 16 && id.compare(0, 4, "vec-") == 0);
  return std::stoull(id.substr(4));
}

// The small payload the benchmarks attach: 2 fields and 2 tags, like a real document's metadata.
inline Payload small_payload(uint64_t i) {
  Payload p;
  p.fields.emplace("lang", (i % 3 == 0) ? "en" : (i % 3 == 1) ? "de" : "fr");
  p.fields.emplace("source", "crawl-" + std::to_string(i % 97));
  p.tags.insert((i % 2 == 0) ? "even" : "odd");
  p.tags.insert("bucket-" + std::to_string(i % 16));
  return p;
}

// An upsert of `id` to `embedding` with `payload`, stamped (timestamp, origin, sequence).
inline Mutation make_upsert(const std::string& collection, std::string id,
                            std::vector<float> embedding, Payload payload, uint64_t timestamp,
                            RegionId origin, uint64_t sequence) {
  Mutation m;
  m.op = Op::kUpsert;
  m.collection = collection;
  m.vector_id = std::move(id);
  m.embedding = std::move(embedding);
  m.payload = std::move(payload);
  m.timestamp = timestamp;
  m.origin_region = origin;
  m.origin_sequence = sequence;
  return m;
}

// A patch of `id` that sets one field, unsets another, adds one tag and removes another.
inline Mutation make_patch(const std::string& collection, std::string id, uint64_t i,
                           uint64_t timestamp, RegionId origin, uint64_t sequence) {
  Mutation m;
  m.op = Op::kPatch;
  m.collection = collection;
  m.vector_id = std::move(id);
  m.payload.fields.emplace("lang", (i % 2 == 0) ? "es" : "it");
  m.unset_fields.insert("source");
  m.payload.tags.insert("patched");
  m.removed_tags.insert((i % 2 == 0) ? "even" : "odd");
  m.timestamp = timestamp;
  m.origin_region = origin;
  m.origin_sequence = sequence;
  return m;
}

// A replication stream as a shard replica sees it: `count` mutations from `num_origins` regions
// (round-robin, each origin's sequences 1, 2, 3, ... in order, timestamps strictly increasing)
// over `num_ids` distinct ids. The first `num_ids` mutations upsert every id once (in a shuffled
// order); after that each mutation is an upsert with probability `upsert_fraction`, otherwise a
// patch, of a uniformly drawn id. Embeddings come from `mixture`.
// REQUIRES: count >= num_ids >= 1, num_origins >= 1.
inline std::vector<Mutation> make_mutation_stream(const std::string& collection,
                                                  const GaussianMixture& mixture, size_t num_ids,
                                                  size_t count, double upsert_fraction,
                                                  uint32_t num_origins, uint64_t seed) {
  assert(count >= num_ids && num_ids >= 1 && num_origins >= 1);
  SplitMix64 rng(seed);
  std::vector<uint64_t> first_order(num_ids);
  for (size_t i = 0; i < num_ids; ++i) first_order[i] = i;
  for (size_t i = num_ids; i > 1; --i) std::swap(first_order[i - 1], first_order[rng.below(i)]);

  const uint32_t dim = mixture.dim();
  std::vector<float> pool = mixture.sample(count, seed + 1);  // one embedding per mutation
  std::vector<uint64_t> next_sequence(num_origins, 1);
  std::vector<Mutation> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const uint64_t n = i < num_ids ? first_order[i] : rng.below(num_ids);
    const RegionId origin = RegionId(1 + i % num_origins);
    const uint64_t sequence = next_sequence[origin - 1]++;
    const uint64_t timestamp = 1'000'000 + i;
    if (i < num_ids || rng.uniform() < upsert_fraction) {
      std::vector<float> e(pool.begin() + ptrdiff_t(i * dim),
                           pool.begin() + ptrdiff_t((i + 1) * dim));
      out.push_back(make_upsert(collection, vector_id(n), std::move(e), small_payload(n + i),
                                timestamp, origin, sequence));
    } else {
      out.push_back(make_patch(collection, vector_id(n), i, timestamp, origin, sequence));
    }
  }
  return out;
}

// `count` upserts of fresh ids vector_id(first_id), vector_id(first_id + 1), ... from one origin
// (sequences 1..count), with embeddings from `mixture` and small payloads.
inline std::vector<Mutation> make_fresh_upserts(const std::string& collection,
                                                const GaussianMixture& mixture, size_t count,
                                                uint64_t first_id, uint64_t seed) {
  const uint32_t dim = mixture.dim();
  std::vector<float> pool = mixture.sample(count, seed);
  std::vector<Mutation> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    std::vector<float> e(pool.begin() + ptrdiff_t(i * dim),
                         pool.begin() + ptrdiff_t((i + 1) * dim));
    out.push_back(make_upsert(collection, vector_id(first_id + i), std::move(e),
                              small_payload(first_id + i), 1'000'000 + i, /*origin=*/1,
                              /*sequence=*/i + 1));
  }
  return out;
}

}  // namespace meridian::bench
