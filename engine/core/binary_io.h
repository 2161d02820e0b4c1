// Little-endian fixed-width integers, LEB128 varints and length-prefixed strings: the primitives
// of the shard snapshot and segment file formats (docs/segment-format.md), also used for the
// region node's heartbeats and KafkaLog's writer header. The record codec keeps its own,
// hand-tuned copies.
//
// ByteReader treats its input as hostile: every read checks the bytes that remain, never reads
// past the end, and reports failure through its return value; after the first failure `ok()`
// stays false so a parser may check once at the end of a group of reads.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace meridian::binary_io {

static_assert(std::endian::native == std::endian::little, "binary_io.h assumes little-endian");

template <typename T>
inline void put_fixed(std::string* out, T v) {
  char buf[sizeof v];
  std::memcpy(buf, &v, sizeof v);
  out->append(buf, sizeof v);
}

inline void put_varint(std::string* out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

inline void put_string(std::string* out, std::string_view s) {
  put_varint(out, s.size());
  out->append(s.data(), s.size());
}

// Stores a fixed-width value at `offset` of `out` (which must already hold those bytes).
template <typename T>
inline void store_fixed(std::string* out, size_t offset, T v) {
  std::memcpy(out->data() + offset, &v, sizeof v);
}

template <typename T>
inline T load_fixed(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}

  bool ok() const { return ok_; }
  size_t offset() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }
  bool at_end() const { return pos_ == bytes_.size(); }

  template <typename T>
  bool fixed(T* v) {
    if (!ok_ || remaining() < sizeof(T)) return fail();
    std::memcpy(v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }

  // Shortest-form LEB128 of at most 10 bytes that fits in 64 bits; anything else fails.
  bool varint(uint64_t* v) {
    if (!ok_) return false;
    uint64_t result = 0;
    for (int i = 0; i < 10; ++i) {
      if (pos_ >= bytes_.size()) return fail();
      const uint8_t byte = static_cast<uint8_t>(bytes_[pos_++]);
      if (i == 9 && byte > 1) return fail();  // overflows 64 bits
      result |= uint64_t(byte & 0x7F) << (7 * i);
      if ((byte & 0x80) == 0) {
        if (i > 0 && byte == 0) return fail();  // not the shortest form
        *v = result;
        return true;
      }
    }
    return fail();
  }

  // A varint length, then that many bytes (a view into the input); length at most `max_bytes`.
  bool string(std::string_view* s, size_t max_bytes) {
    uint64_t n = 0;
    if (!varint(&n)) return false;
    if (n > max_bytes || n > remaining()) return fail();
    *s = bytes_.substr(pos_, size_t(n));
    pos_ += size_t(n);
    return true;
  }

  bool bytes(size_t n, std::string_view* s) {
    if (!ok_ || n > remaining()) return fail();
    *s = bytes_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  bool fail() {
    ok_ = false;
    return false;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace meridian::binary_io
