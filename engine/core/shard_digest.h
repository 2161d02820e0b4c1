// Merkle-style digest of a shard's logical state, for anti-entropy between regions.
//
// The ids of a shard are spread over kDigestBuckets buckets by crc32c(id) % kDigestBuckets. A
// bucket's hash is SHA-256 over its entries' canonical bytes (encode_snapshot_entry: id, base
// stamp, live flag, embedding, payload field and tag entries with their stamps) in ascending id
// order. Then:
//
//   content_root         SHA-256("meridian-shard-digest-v1" | u32 shard | u32 buckets |
//                                 the bucket hashes in bucket order)
//   version_vector_hash  SHA-256("meridian-version-vector-v1" | encode_version_vector(vv))
//   root                 SHA-256(content_root | version_vector_hash)
//
// Content and version vector are kept apart on purpose: two regions can hold the same vectors
// while having applied different mutations (one saw a write that a later write overwrote
// everywhere), and anti-entropy wants to know which of the two differs. `root` covers both and
// equals for replicas that compare ==. Equal logical state gives equal digests in every region
// (the inputs are canonical bytes); different content gives a different content_root unless
// SHA-256 collides. differing_buckets() tells a reconciler which buckets to exchange.
//
// SHA-256 comes from OpenSSL's libcrypto (EVP). Cost: one pass over the state's canonical bytes
// (about the size of its snapshot) plus sorting the ids.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/shard_replica.h"

namespace meridian {

inline constexpr uint32_t kDigestBuckets = 256;

using Sha256 = std::array<uint8_t, 32>;

struct ShardDigest {
  uint32_t shard_index = 0;
  uint64_t entry_count = 0;
  std::array<Sha256, kDigestBuckets> buckets{};  // bucket hashes (empty bucket: SHA-256 of "")
  std::array<uint32_t, kDigestBuckets> bucket_entries{};  // ids per bucket
  Sha256 content_root{};
  Sha256 version_vector_hash{};
  Sha256 root{};
  bool operator==(const ShardDigest&) const = default;
};

// The bucket `id` falls in: crc32c(id) % kDigestBuckets.
uint32_t digest_bucket_of(std::string_view id);

// Digest of `replica`'s logical state. Deterministic; replicas that compare == give == digests.
ShardDigest digest_shard(const ShardReplica& replica);

// Buckets whose hashes differ, ascending. REQUIRES: a.shard_index == b.shard_index.
std::vector<uint32_t> differing_buckets(const ShardDigest& a, const ShardDigest& b);

// SHA-256 of `bytes` (exposed for tests and tools).
Sha256 sha256(std::string_view bytes);

// Lower-case hex, 64 characters.
std::string to_hex(const Sha256& hash);

}  // namespace meridian
