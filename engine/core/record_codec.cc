#include "engine/core/record_codec.h"

#include <bit>
#include <cassert>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <limits>
#include <tuple>
#include <utility>

#include "engine/core/crc32c.h"

namespace meridian {

// Fixed-width fields and floats are copied with memcpy, which yields little-endian bytes only on
// a little-endian host. Every platform we ship to is one; a port would add byte swaps here.
static_assert(std::endian::native == std::endian::little, "record_codec.cc assumes little-endian");
static_assert(sizeof(float) == 4 && std::numeric_limits<float>::is_iec559);

namespace {

// Header offsets (see record_codec.h).
constexpr size_t kCrcOffset = 0;
constexpr size_t kVersionOffset = 4;
constexpr size_t kOpOffset = 5;
constexpr size_t kRegionOffset = 6;
constexpr size_t kTimestampOffset = 8;
constexpr size_t kSequenceOffset = 16;
constexpr size_t kBodyLengthOffset = 24;
static_assert(kBodyLengthOffset + 4 == kRecordHeaderBytes);

// ---- Encoding ------------------------------------------------------------------------------

size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

size_t string_size(const std::string& s) { return varint_size(s.size()) + s.size(); }

size_t string_set_size(const std::set<std::string>& strings) {
  size_t n = varint_size(strings.size());
  for (const auto& s : strings) n += string_size(s);
  return n;
}

size_t body_size(const Mutation& m) {
  size_t n = string_size(m.collection) + string_size(m.vector_id);
  n += varint_size(m.embedding.size()) + m.embedding.size() * sizeof(float);
  n += varint_size(m.payload.fields.size());
  for (const auto& [key, value] : m.payload.fields) n += string_size(key) + string_size(value);
  n += string_set_size(m.payload.tags);
  n += string_set_size(m.unset_fields);
  n += string_set_size(m.removed_tags);
  return n;
}

template <typename T>
char* put_fixed(char* p, T v) {
  std::memcpy(p, &v, sizeof v);
  return p + sizeof v;
}

char* put_varint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

char* put_string(char* p, const std::string& s) {
  p = put_varint(p, s.size());
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// std::set iterates in increasing order, which is the canonical order the decoder requires.
char* put_string_set(char* p, const std::set<std::string>& strings) {
  p = put_varint(p, strings.size());
  for (const auto& s : strings) p = put_string(p, s);
  return p;
}

// ---- Decoding ------------------------------------------------------------------------------

template <typename T>
T get_fixed(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08" PRIx32, v);
  return buf;
}

// Reads the body. Each method returns false after recording why in `error`; the first failure
// ends decoding, so `error` is set at most once. No method reads at or past `end`.
class BodyReader {
 public:
  BodyReader(const char* begin, const char* end) : p_(begin), end_(end) {}

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  Status& error() { return error_; }

  // `field` and `suffix` name the value in error messages (e.g. "tag", " count"); they are only
  // concatenated on failure, to keep the success path free of allocations.
  bool read_varint(uint64_t* v, const char* field, const char* suffix = "") {
    if (p_ != end_ && static_cast<uint8_t>(*p_) < 0x80) {  // one byte: every count and most lengths
      *v = static_cast<uint8_t>(*p_++);
      return true;
    }
    uint64_t result = 0;
    for (int shift = 0;; shift += 7) {
      if (p_ == end_) return varint_error(field, suffix, "runs past the end of the body");
      const uint8_t byte = static_cast<uint8_t>(*p_++);
      // The tenth byte holds bit 63 only.
      if (shift == 63 && byte > 1) return varint_error(field, suffix, "overflows 64 bits");
      result |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if (byte < 0x80) {
        // A zero final group in a multi-byte varint means a shorter spelling exists, and a second
        // spelling of the same record would break "decodes => re-encodes to the same bytes".
        if (byte == 0 && shift > 0) return varint_error(field, suffix, "is not in shortest form");
        *v = result;
        return true;
      }
    }
  }

  // A view into the input; valid as long as the input is.
  bool read_string(std::string_view* s, const char* field) {
    uint64_t len = 0;
    if (!read_varint(&len, field)) return false;
    if (len > remaining()) {
      return fail(std::string(field) + " length " + std::to_string(len) + " exceeds the " +
                  std::to_string(remaining()) + " bytes left in the body");
    }
    *s = std::string_view(p_, len);
    p_ += len;
    return true;
  }

  bool read_embedding(std::vector<float>* out) {
    uint64_t dim = 0;
    if (!read_varint(&dim, "embedding dimension")) return false;
    // Both checks come before the resize, so a hostile dimension cannot make us allocate.
    if (dim > kMaxDimension) {
      return fail("embedding dimension " + std::to_string(dim) + " exceeds the limit " +
                  std::to_string(kMaxDimension));
    }
    size_t bytes = dim * sizeof(float);
    if (bytes > remaining()) {
      return fail("embedding of " + std::to_string(dim) + " floats needs " + std::to_string(bytes) +
                  " bytes; " + std::to_string(remaining()) + " are left");
    }
    out->resize(dim);
    if (dim > 0) std::memcpy(out->data(), p_, bytes);
    p_ += bytes;
    return true;
  }

  // A count of entries of `what` (e.g. "tag"); at most kMaxPayloadEntries, so a hostile count
  // cannot make us loop long (each entry also consumes at least one byte).
  bool read_count(uint64_t* n, const char* what) {
    if (!read_varint(n, what, " count")) return false;
    if (*n > kMaxPayloadEntries) {
      return fail(std::string(what) + " count " + std::to_string(*n) + " exceeds the limit " +
                  std::to_string(kMaxPayloadEntries));
    }
    return true;
  }

  bool read_fields(std::map<std::string, std::string>* out) {
    out->clear();
    uint64_t n = 0;
    if (!read_count(&n, "payload field")) return false;
    std::string_view previous;
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view key, value;
      if (!read_string(&key, "payload field name")) return false;
      if (!read_string(&value, "payload field value")) return false;
      if (i > 0 && key <= previous) return fail("payload field names are not strictly increasing");
      previous = key;
      // Keys arrive sorted, so the end() hint makes each insertion O(1).
      out->emplace_hint(out->end(), std::piecewise_construct, std::forward_as_tuple(key),
                        std::forward_as_tuple(value));
    }
    return true;
  }

  // `what` is the singular name of an entry, e.g. "tag".
  bool read_string_set(std::set<std::string>* out, const char* what) {
    out->clear();
    uint64_t n = 0;
    if (!read_count(&n, what)) return false;
    std::string_view previous;
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view s;
      if (!read_string(&s, what)) return false;
      if (i > 0 && s <= previous) {
        return fail(std::string(what) + " entries are not strictly increasing");
      }
      previous = s;
      out->emplace_hint(out->end(), s);
    }
    return true;
  }

 private:
  bool varint_error(const char* field, const char* suffix, const char* problem) {
    return fail(std::string("varint for ") + field + suffix + " " + problem);
  }

  bool fail(std::string message) {
    error_ = Status::corruption(std::move(message));
    return false;
  }

  const char* p_;
  const char* const end_;
  Status error_;
};

}  // namespace

size_t encoded_mutation_size(const Mutation& m) { return kRecordHeaderBytes + body_size(m); }

void encode_mutation(const Mutation& m, std::string* out) {
  // The cheap part of validate(): what the layout itself depends on.
  assert(m.op == Op::kUpsert || m.op == Op::kDelete || m.op == Op::kPatch);
  assert(m.op == Op::kUpsert || m.embedding.empty());
  assert(m.embedding.size() <= kMaxDimension);
  assert(m.collection.size() <= kMaxCollectionNameBytes);
  assert(m.vector_id.size() <= kMaxVectorIdBytes);

  const size_t body = body_size(m);
  const size_t total = kRecordHeaderBytes + body;
  assert(total <= kMaxRecordBytes);  // holds for every valid Mutation; also keeps body in a u32

  const size_t start = out->size();
  out->resize(start + total);
  char* const record = out->data() + start;

  char* p = record + kVersionOffset;
  *p++ = static_cast<char>(kRecordFormatVersion);
  *p++ = static_cast<char>(m.op);
  p = put_fixed<uint16_t>(p, m.origin_region);
  p = put_fixed<uint64_t>(p, m.timestamp);
  p = put_fixed<uint64_t>(p, m.origin_sequence);
  p = put_fixed<uint32_t>(p, static_cast<uint32_t>(body));
  assert(p == record + kRecordHeaderBytes);

  p = put_string(p, m.collection);
  p = put_string(p, m.vector_id);
  p = put_varint(p, m.embedding.size());
  if (!m.embedding.empty()) {
    std::memcpy(p, m.embedding.data(), m.embedding.size() * sizeof(float));
    p += m.embedding.size() * sizeof(float);
  }
  p = put_varint(p, m.payload.fields.size());
  for (const auto& [key, value] : m.payload.fields) {
    p = put_string(p, key);
    p = put_string(p, value);
  }
  p = put_string_set(p, m.payload.tags);
  p = put_string_set(p, m.unset_fields);
  p = put_string_set(p, m.removed_tags);
  assert(p == record + total);

  put_fixed<uint32_t>(record + kCrcOffset, crc32c(record + kVersionOffset, total - kVersionOffset));
}

Status decode_mutation_into(std::string_view bytes, Mutation* out) {
  const size_t size = bytes.size();
  if (size < kRecordHeaderBytes) {
    return Status::truncated("record is " + std::to_string(size) + " bytes, shorter than the " +
                             std::to_string(kRecordHeaderBytes) + "-byte header");
  }
  if (size > kMaxRecordBytes) {
    return Status::too_large("record is " + std::to_string(size) + " bytes; the limit is " +
                             std::to_string(kMaxRecordBytes));
  }
  const char* const record = bytes.data();
  const size_t body_length = get_fixed<uint32_t>(record + kBodyLengthOffset);
  const size_t actual_body = size - kRecordHeaderBytes;
  if (body_length > kMaxRecordBytes - kRecordHeaderBytes) {
    return Status::too_large("record header declares a " + std::to_string(body_length) +
                             "-byte body; the limit for a whole record is " +
                             std::to_string(kMaxRecordBytes) + " bytes");
  }
  if (body_length > actual_body) {
    return Status::truncated("record header declares a " + std::to_string(body_length) +
                             "-byte body but only " + std::to_string(actual_body) +
                             " bytes follow the header");
  }
  if (body_length < actual_body) {
    return Status::corruption("record has " + std::to_string(actual_body - body_length) +
                              " trailing bytes after its " + std::to_string(body_length) +
                              "-byte body");
  }

  const uint32_t stored_crc = get_fixed<uint32_t>(record + kCrcOffset);
  const uint32_t computed_crc = crc32c(record + kVersionOffset, size - kVersionOffset);
  if (stored_crc != computed_crc) {
    return Status::corruption("record checksum mismatch (stored " + hex32(stored_crc) +
                              ", computed " + hex32(computed_crc) + ")");
  }

  const uint8_t version = static_cast<uint8_t>(record[kVersionOffset]);
  if (version != kRecordFormatVersion) {
    return Status::unsupported("record format version " + std::to_string(version) +
                               " is not supported (this build reads version " +
                               std::to_string(kRecordFormatVersion) + ")");
  }

  // Any byte value is a valid Op object (the underlying type is uint8_t); validate() below
  // rejects values that are not a known op.
  out->op = static_cast<Op>(static_cast<uint8_t>(record[kOpOffset]));
  out->origin_region = get_fixed<uint16_t>(record + kRegionOffset);
  out->timestamp = get_fixed<uint64_t>(record + kTimestampOffset);
  out->origin_sequence = get_fixed<uint64_t>(record + kSequenceOffset);

  BodyReader body(record + kRecordHeaderBytes, record + size);
  std::string_view collection, vector_id;
  bool ok =
      body.read_string(&collection, "collection name") && body.read_string(&vector_id, "vector id");
  if (ok) {
    out->collection.assign(collection);
    out->vector_id.assign(vector_id);
  }
  ok = ok && body.read_embedding(&out->embedding) && body.read_fields(&out->payload.fields) &&
       body.read_string_set(&out->payload.tags, "tag") &&
       body.read_string_set(&out->unset_fields, "unset field name") &&
       body.read_string_set(&out->removed_tags, "removed tag");
  if (!ok) return std::move(body.error());
  if (body.remaining() != 0) {
    return Status::corruption("record body has " + std::to_string(body.remaining()) +
                              " unparsed bytes after the last field (removed tags)");
  }

  if (Status s = validate(*out); !s.is_ok()) {
    return Status::corruption("record decodes to an invalid mutation: " + s.message());
  }
  return Status::ok();
}

Result<Mutation> decode_mutation(std::string_view bytes) {
  Mutation m;
  if (Status s = decode_mutation_into(bytes, &m); !s.is_ok()) return s;
  return m;
}

uint32_t stored_record_crc(std::string_view bytes) {
  return bytes.size() < kCrcOffset + 4 ? 0 : get_fixed<uint32_t>(bytes.data() + kCrcOffset);
}

}  // namespace meridian
