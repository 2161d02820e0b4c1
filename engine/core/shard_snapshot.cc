#include "engine/core/shard_snapshot.h"

#include <cmath>
#include <limits>
#include <utility>

#include "engine/core/binary_io.h"
#include "engine/core/crc32c.h"
#include "engine/core/routing.h"

namespace meridian {

static_assert(sizeof(float) == 4 && std::numeric_limits<float>::is_iec559);

using binary_io::ByteReader;
using binary_io::put_fixed;
using binary_io::put_string;
using binary_io::put_varint;

namespace {

void put_stamp(std::string* out, Stamp s) {
  put_fixed<uint64_t>(out, s.timestamp);
  put_fixed<uint16_t>(out, s.region);
}

bool read_stamp(ByteReader& r, Stamp* s) {
  return r.fixed<uint64_t>(&s->timestamp) && r.fixed<uint16_t>(&s->region);
}

bool read_bool(ByteReader& r, bool* b) {
  uint8_t v = 2;
  if (!r.fixed<uint8_t>(&v) || v > 1) return r.fail();
  *b = v == 1;
  return true;
}

// Smallest encodings, used to bound counts by the bytes left before looping over them.
constexpr size_t kMinFieldBytes = 1 + 10 + 1;      // empty key, stamp, present flag
constexpr size_t kMinTagBytes = 1 + 10 + 1;        // empty tag, stamp, present flag
constexpr size_t kMinEntryBytes = 2 + 10 + 1 + 2;  // 1-byte id, stamp, live flag, two counts

}  // namespace

// The one place that sees the private state of VectorState, VersionVector and ShardReplica.
struct ShardSnapshotCodec {
  static void encode_state(const VectorState& s, std::string* out) {
    put_stamp(out, s.base_stamp_);
    put_fixed<uint8_t>(out, s.live_ ? 1 : 0);
    if (s.live_) {
      put_varint(out, s.embedding_.size());
      out->append(reinterpret_cast<const char*>(s.embedding_.data()),
                  s.embedding_.size() * sizeof(float));
    }
    put_varint(out, s.fields_.size());
    for (const auto& [key, e] : s.fields_) {
      put_string(out, key);
      put_stamp(out, e.stamp);
      put_fixed<uint8_t>(out, e.present ? 1 : 0);
      if (e.present) put_string(out, e.value);
    }
    put_varint(out, s.tags_.size());
    for (const auto& [tag, e] : s.tags_) {
      put_string(out, tag);
      put_stamp(out, e.stamp);
      put_fixed<uint8_t>(out, e.present ? 1 : 0);
    }
  }

  // Reads one state; on failure returns a description of what was wrong (reader offset says
  // where). `dimension` 0 accepts any valid dimension.
  static bool decode_state(ByteReader& r, uint32_t dimension, VectorState* s, std::string* why) {
    if (!read_stamp(r, &s->base_stamp_) || !read_bool(r, &s->live_)) {
      *why = "bad base stamp or live flag";
      return false;
    }
    if (s->live_) {
      uint64_t dim = 0;
      if (!r.varint(&dim) || dim == 0 || dim > kMaxDimension ||
          (dimension != 0 && dim != dimension)) {
        *why = "bad embedding dimension " + std::to_string(dim) +
               (dimension != 0 ? " (segment dimension " + std::to_string(dimension) + ")" : "");
        return false;
      }
      std::string_view raw;
      if (!r.bytes(size_t(dim) * sizeof(float), &raw)) {
        *why = "embedding runs past the end";
        return false;
      }
      s->embedding_.resize(size_t(dim));
      std::memcpy(s->embedding_.data(), raw.data(), raw.size());
      for (float x : s->embedding_) {
        if (!std::isfinite(x)) {
          *why = "embedding value is not finite";
          return false;
        }
      }
      if (s->base_stamp_.is_zero()) {
        *why = "live vector with a zero base stamp";
        return false;
      }
    }
    uint64_t n = 0;
    if (!r.varint(&n) || n > r.remaining() / kMinFieldBytes) {
      *why = "bad field count";
      return false;
    }
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view key, value;
      VectorState::FieldEntry e;
      if (!r.string(&key, kMaxStringBytes) || !read_stamp(r, &e.stamp) ||
          !read_bool(r, &e.present) || (e.present && !r.string(&value, kMaxStringBytes))) {
        *why = "bad payload field " + std::to_string(i);
        return false;
      }
      if (!s->fields_.empty() && !(s->fields_.rbegin()->first < key)) {
        *why = "payload field keys not strictly increasing";
        return false;
      }
      e.value = std::string(value);
      s->fields_.emplace_hint(s->fields_.end(), std::string(key), std::move(e));
    }
    if (!r.varint(&n) || n > r.remaining() / kMinTagBytes) {
      *why = "bad tag count";
      return false;
    }
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view tag;
      VectorState::TagEntry e;
      if (!r.string(&tag, kMaxStringBytes) || !read_stamp(r, &e.stamp) ||
          !read_bool(r, &e.present)) {
        *why = "bad tag " + std::to_string(i);
        return false;
      }
      if (!s->tags_.empty() && !(s->tags_.rbegin()->first < tag)) {
        *why = "tags not strictly increasing";
        return false;
      }
      s->tags_.emplace_hint(s->tags_.end(), std::string(tag), e);
    }
    if (!s->check_invariants()) {
      *why = "state violates the CRDT invariants (entry older than its base, ...)";
      return false;
    }
    return true;
  }

  static void encode_vv(const VersionVector& vv, std::string* out) {
    put_varint(out, vv.entries_.size());
    for (const auto& [origin, e] : vv.entries_) {
      put_varint(out, origin);
      put_varint(out, e.frontier);
      put_varint(out, e.dots.size());
      for (uint64_t d : e.dots) put_varint(out, d);
    }
  }

  static bool decode_vv(ByteReader& r, VersionVector* vv, std::string* why) {
    uint64_t n = 0;
    if (!r.varint(&n) || n > 65536 || n > r.remaining() / 3) {
      *why = "bad version vector origin count";
      return false;
    }
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t origin = 0, frontier = 0, ndots = 0;
      if (!r.varint(&origin) || origin > std::numeric_limits<RegionId>::max() ||
          !r.varint(&frontier) || !r.varint(&ndots) || ndots > r.remaining()) {
        *why = "bad version vector entry " + std::to_string(i);
        return false;
      }
      if (!vv->entries_.empty() && vv->entries_.rbegin()->first >= origin) {
        *why = "version vector origins not strictly increasing";
        return false;
      }
      VersionVector::OriginEntry e;
      e.frontier = frontier;
      uint64_t previous = frontier + 1;  // the first dot must be beyond frontier + 1
      for (uint64_t j = 0; j < ndots; ++j) {
        uint64_t d = 0;
        if (!r.varint(&d) || d <= previous) {
          *why = "version vector dots of origin " + std::to_string(origin) +
                 " not strictly increasing beyond frontier + 1";
          return false;
        }
        e.dots.insert(e.dots.end(), d);
        previous = d;
      }
      vv->entries_.emplace_hint(vv->entries_.end(), RegionId(origin), std::move(e));
    }
    return true;
  }

  static void encode_replica(const ShardReplica& replica, std::string* out,
                             std::vector<SnapshotEntrySpan>* spans) {
    const std::vector<std::string> ids = replica.sorted_ids();
    put_fixed<uint8_t>(out, kShardSnapshotFormatVersion);
    put_varint(out, replica.shard_index_);
    put_varint(out, ids.size());
    if (spans != nullptr) spans->reserve(spans->size() + ids.size());
    for (const std::string& id : ids) {
      const size_t begin = out->size();
      encode_entry(id, replica.states_.find(id)->second.get(), out);
      if (spans != nullptr) {
        spans->push_back(SnapshotEntrySpan{begin, out->size(), crc32c(id.data(), id.size())});
      }
    }
    encode_vv(replica.version_vector_, out);
  }

  static void encode_entry(std::string_view id, const VectorState& s, std::string* out) {
    put_string(out, id);
    encode_state(s, out);
  }

  static Result<ShardReplica> decode_replica(std::string_view bytes,
                                             const SnapshotDecodeOptions& options) {
    ByteReader r(bytes);
    uint8_t version = 0;
    uint64_t shard = 0, count = 0;
    if (!r.fixed<uint8_t>(&version)) return Status::truncated("shard snapshot is empty");
    if (version != kShardSnapshotFormatVersion) {
      return Status::unsupported("shard snapshot format version " + std::to_string(version) +
                                 " (this build reads " +
                                 std::to_string(kShardSnapshotFormatVersion) + ")");
    }
    if (!r.varint(&shard) || shard >= kMaxShards || !r.varint(&count)) {
      return Status::corruption("shard snapshot preamble is malformed (shard index or count)");
    }
    if (options.num_shards != 0 && shard >= options.num_shards) {
      return Status::corruption("shard snapshot is of shard " + std::to_string(shard) + " of " +
                                std::to_string(options.num_shards));
    }
    if (count > r.remaining() / kMinEntryBytes) {
      return Status::corruption("shard snapshot claims " + std::to_string(count) +
                                " entries, more than its " + std::to_string(r.remaining()) +
                                " remaining bytes can hold");
    }
    ShardReplica replica(static_cast<uint32_t>(shard));
    replica.states_.reserve(size_t(count));
    std::string previous_id;
    std::string why;
    for (uint64_t i = 0; i < count; ++i) {
      const size_t entry_offset = r.offset();
      auto fail = [&](const std::string& what) {
        return Status::corruption("shard snapshot entry " + std::to_string(i) + " at byte offset " +
                                  std::to_string(entry_offset) + ": " + what + " (at byte " +
                                  std::to_string(r.offset()) + ")");
      };
      std::string_view id;
      if (!r.string(&id, kMaxVectorIdBytes) || id.empty()) return fail("bad vector id");
      if (i > 0 && !(previous_id < id)) return fail("ids not in strictly ascending order");
      if (options.num_shards != 0 &&
          shard_of(id, options.num_shards, options.routing_seed) != shard) {
        return fail("id does not route to shard " + std::to_string(shard));
      }
      VectorState state;
      if (!decode_state(r, options.dimension, &state, &why)) return fail(why);
      previous_id.assign(id);
      if (state.live_) ++replica.live_count_;
      replica.states_.try_emplace(previous_id).first->second = VectorEntry(std::move(state));
    }
    const size_t vv_offset = r.offset();
    if (!decode_vv(r, &replica.version_vector_, &why)) {
      return Status::corruption("shard snapshot version vector at byte offset " +
                                std::to_string(vv_offset) + ": " + why);
    }
    if (!r.at_end()) {
      return Status::corruption("shard snapshot has " + std::to_string(r.remaining()) +
                                " trailing bytes at offset " + std::to_string(r.offset()));
    }
    return replica;
  }
};

void encode_shard_snapshot(const ShardReplica& replica, std::string* out,
                           std::vector<SnapshotEntrySpan>* spans) {
  ShardSnapshotCodec::encode_replica(replica, out, spans);
}

std::string encode_shard_snapshot(const ShardReplica& replica) {
  std::string out;
  encode_shard_snapshot(replica, &out);
  return out;
}

Result<ShardReplica> decode_shard_snapshot(std::string_view bytes,
                                           const SnapshotDecodeOptions& options) {
  return ShardSnapshotCodec::decode_replica(bytes, options);
}

void encode_snapshot_entry(std::string_view id, const VectorState& state, std::string* out) {
  ShardSnapshotCodec::encode_entry(id, state, out);
}

void encode_version_vector(const VersionVector& vv, std::string* out) {
  ShardSnapshotCodec::encode_vv(vv, out);
}

Result<VersionVector> decode_version_vector(std::string_view bytes) {
  ByteReader r(bytes);
  VersionVector vv;
  std::string why;
  if (!ShardSnapshotCodec::decode_vv(r, &vv, &why)) {
    return Status::corruption("version vector: " + why + " (at byte " + std::to_string(r.offset()) +
                              ")");
  }
  if (!r.at_end()) {
    return Status::corruption("version vector has " + std::to_string(r.remaining()) +
                              " trailing bytes");
  }
  return vv;
}

}  // namespace meridian
