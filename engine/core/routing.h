// Routing: which shard a vector id belongs to.
//
// shard_of(id, n) = MurmurHash3_x86_32(UTF-8 bytes of id, seed 0) mod n.
//
// Why this exact function: every region must send a write for an id to the same shard log, and
// every client library (C++, Python, Go, JS, ...) must be able to compute that shard without asking
// a server. So routing is a published, widely implemented hash with a fixed seed, over the id's
// raw bytes (no normalisation, no locale): e.g. Python's `mmh3.hash(id, 0, signed=False) % n`
// gives the same answer as this file. Changing the hash, the seed or the byte encoding would
// silently re-route existing data; treat all three as part of the on-disk format.
//
// Limit: a deployment has 1..kMaxShards shards. Shard ids then fit in 16 bits wherever they are
// stored or sent, and the modulo bias of a 32-bit hash stays below n / 2^32 < 0.002%.
// Counts that enter the system (configuration, CLI flags, requests) go through
// validate_num_shards() first.
#pragma once

#include <cassert>
#include <cstdint>
#include <string_view>

#include "engine/core/status.h"

namespace meridian {

// The seed every region and client uses for routing. Never change it for existing data.
inline constexpr uint32_t kDefaultRoutingSeed = 0;

// Largest supported number of shards in one collection (shard ids are 0..65535).
inline constexpr uint32_t kMaxShards = 65536;

// MurmurHash3_x86_32 (Austin Appleby's reference, as shipped by libmurmurhash) of `bytes`.
// Equals Python's `mmh3.hash(s, seed, signed=False)` where `bytes` is s encoded as UTF-8.
// REQUIRES: bytes.size() <= UINT32_MAX (the algorithm's length is 32-bit).
uint32_t murmur3_32(std::string_view bytes, uint32_t seed = 0);

// OK if 1 <= num_shards <= kMaxShards; otherwise kInvalidArgument (zero) or kTooLarge (above the
// limit), with a message naming the value and the allowed range.
Status validate_num_shards(uint64_t num_shards);

// The shard, in [0, num_shards), that `vector_id` routes to. Deterministic: depends only on the
// id's bytes, num_shards and seed, never on the region, process or platform.
// REQUIRES: num_shards >= 1 (and, for a valid deployment, validate_num_shards(num_shards) is OK).
// Inline so that the hot path is one library call and one division.
inline uint32_t shard_of(std::string_view vector_id, uint32_t num_shards,
                         uint32_t seed = kDefaultRoutingSeed) {
  assert(num_shards >= 1);
  return murmur3_32(vector_id, seed) % num_shards;
}

}  // namespace meridian
