#include "engine/core/record_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/core/crc32c.h"

namespace meridian {
namespace {

using ::testing::HasSubstr;

// ---- Helpers -------------------------------------------------------------------------------

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : bytes) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 0xF];
  }
  return hex;
}

std::string from_hex(std::string_view hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return bytes;
}

Mutation make_upsert() {
  Mutation m;
  m.op = Op::kUpsert;
  m.collection = "docs";
  m.vector_id = "v1";
  m.embedding = {1.0f, -2.5f};
  m.payload.fields = {{"lang", "en"}};
  m.payload.tags = {"news"};
  m.timestamp = (uint64_t{1700000000000} << 16) | 7;
  m.origin_region = 3;
  m.origin_sequence = 42;
  return m;
}

Mutation make_delete() {
  Mutation m;
  m.op = Op::kDelete;
  m.collection = "images.v2";
  m.vector_id = std::string("id\0with\xffnul", 11);
  m.timestamp = 99;
  m.origin_region = 65535;
  m.origin_sequence = std::numeric_limits<uint64_t>::max();
  return m;
}

Mutation make_patch() {
  Mutation m;
  m.op = Op::kPatch;
  m.collection = "docs";
  m.vector_id = "\xc3\xa9t\xc3\xa9";                               // "été"
  m.payload.fields = {{"a", ""}, {"ttl", std::string(300, 'x')}};  // 300: a 2-byte varint
  m.payload.tags = {"hot", "new"};
  m.unset_fields = {"", "lang"};
  m.removed_tags = {"old"};
  m.timestamp = 1;
  m.origin_region = 0;
  m.origin_sequence = 1;
  return m;
}

std::string encode(const Mutation& m) {
  std::string out;
  encode_mutation(m, &out);
  return out;
}

// Builders for hand-made records, independent of the encoder, so that the decoder can be fed
// bodies the encoder would never produce.
std::string varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}

std::string str(std::string_view s) { return varint(s.size()) + std::string(s); }

template <typename T>
std::string fixed(T v) {
  std::string out(sizeof v, '\0');
  std::memcpy(out.data(), &v, sizeof v);
  return out;
}

struct Header {
  uint8_t version = 1;
  uint8_t op = 1;
  uint16_t region = 1;
  uint64_t timestamp = 1;
  uint64_t sequence = 1;
};

// A record with the given body, a correct body_length and a correct CRC.
std::string frame(std::string_view body, Header h = {}) {
  std::string rest = fixed(h.version) + fixed(h.op) + fixed(h.region) + fixed(h.timestamp) +
                     fixed(h.sequence) + fixed(static_cast<uint32_t>(body.size())) +
                     std::string(body);
  return fixed(crc32c(rest.data(), rest.size())) + rest;
}

// The body of a valid one-dimensional upsert with no payload, from `dim` on.
const std::string kEmptyPayload = varint(0) + varint(0) + varint(0) + varint(0);
const std::string kOneFloat = varint(1) + fixed(0.5f);

void fix_crc(std::string* record) {
  uint32_t crc = crc32c(record->data() + 4, record->size() - 4);
  std::memcpy(record->data(), &crc, 4);
}

Status decode_status(std::string_view bytes) { return decode_mutation(bytes).status(); }

// ---- CRC-32C -------------------------------------------------------------------------------

TEST(Crc32cTest, KnownVectors) {
  const std::string check = "123456789";
  const std::string zeros(32, '\0');
  const std::string ones(32, '\xff');
  for (auto* f : {&crc32c, &crc32c_portable}) {
    EXPECT_EQ(f(check.data(), check.size(), 0), 0xE3069283u);
    EXPECT_EQ(f(zeros.data(), zeros.size(), 0), 0x8A9136AAu);
    EXPECT_EQ(f(ones.data(), ones.size(), 0), 0x62A8AB43u);
    EXPECT_EQ(f(nullptr, 0, 0), 0u);
  }
}

TEST(Crc32cTest, ExtendingEqualsOneShot) {
  const std::string data = "The quick brown fox jumps over the lazy dog, twice or more times.";
  const uint32_t whole = crc32c(data.data(), data.size());
  for (size_t split = 0; split <= data.size(); ++split) {
    EXPECT_EQ(crc32c(data.data() + split, data.size() - split, crc32c(data.data(), split)), whole);
    EXPECT_EQ(crc32c_portable(data.data() + split, data.size() - split,
                              crc32c_portable(data.data(), split)),
              whole);
  }
}

TEST(Crc32cTest, FastMatchesPortableOnRandomData) {
  std::mt19937_64 rng(20240611);
  std::vector<unsigned char> buffer(4096 + 64);
  for (auto& b : buffer) b = static_cast<unsigned char>(rng());
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 300; ++n) lengths.push_back(n);
  for (size_t n : {511, 512, 513, 1000, 1024, 4095, 4096}) lengths.push_back(n);
  for (size_t n : lengths) {
    for (size_t offset = 0; offset < 16; ++offset) {  // every alignment of the start
      const uint32_t seed = static_cast<uint32_t>(rng());
      ASSERT_EQ(crc32c(buffer.data() + offset, n, seed),
                crc32c_portable(buffer.data() + offset, n, seed))
          << "length " << n << " offset " << offset;
    }
  }
  std::cout << "crc32c hardware accelerated: " << crc32c_is_hardware_accelerated() << "\n";
}

// ---- Round trips and golden bytes ----------------------------------------------------------

TEST(RecordCodecTest, RoundTripEachOp) {
  for (const Mutation& m : {make_upsert(), make_delete(), make_patch()}) {
    ASSERT_TRUE(validate(m).is_ok()) << validate(m).to_string();
    const std::string bytes = encode(m);
    EXPECT_EQ(bytes.size(), encoded_mutation_size(m));
    Result<Mutation> decoded = decode_mutation(bytes);
    ASSERT_TRUE(decoded.is_ok()) << op_name(m.op) << ": " << decoded.status().to_string();
    EXPECT_EQ(*decoded, m) << op_name(m.op);
  }
}

TEST(RecordCodecTest, RoundTripsLargestValidEmbedding) {
  Mutation m = make_upsert();
  m.embedding.assign(kMaxDimension, -0.0f);
  m.embedding.back() = std::numeric_limits<float>::max();
  m.embedding.front() = std::numeric_limits<float>::denorm_min();
  Result<Mutation> decoded = decode_mutation(encode(m));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, m);
  EXPECT_TRUE(std::signbit(decoded->embedding[1]));  // -0.0 keeps its sign bit
}

TEST(RecordCodecTest, EncodeAppends) {
  std::string out = "prefix";
  encode_mutation(make_upsert(), &out);
  encode_mutation(make_delete(), &out);
  EXPECT_EQ(out.substr(0, 6), "prefix");
  const size_t first = encoded_mutation_size(make_upsert());
  EXPECT_EQ(*decode_mutation(std::string_view(out).substr(6, first)), make_upsert());
  EXPECT_EQ(*decode_mutation(std::string_view(out).substr(6 + first)), make_delete());
}

// The exact bytes of make_upsert(), written out independently of the encoder (crc, version 1,
// op 1, region 3, timestamp, sequence 42, body length 34, "docs", "v1", [1.0, -2.5],
// {lang: en}, {news}, no unset fields, no removed tags). If this test fails, the format changed:
// bump kRecordFormatVersion and keep a decoder for version 1.
// clang-format off
constexpr char kGoldenUpsertHex[] =
    "a8bd86f8"                           // crc32c 0xf886bda8
    "01" "01" "0300"                     // format version 1, op upsert, origin region 3
    "07000068e5cf8b01"                   // timestamp (1700000000000 << 16) | 7
    "2a00000000000000"                   // origin sequence 42
    "22000000"                           // body length 34
    "04646f6373" "027631"                // "docs", "v1"
    "02" "0000803f" "000020c0"           // dim 2: 1.0, -2.5
    "01" "046c616e67" "02656e"           // 1 field: "lang" = "en"
    "01" "046e657773"                    // 1 tag: "news"
    "00" "00";                           // no unset fields, no removed tags
// clang-format on

TEST(RecordCodecTest, GoldenBytes) {
  EXPECT_EQ(to_hex(encode(make_upsert())), kGoldenUpsertHex);
  Result<Mutation> decoded = decode_mutation(from_hex(kGoldenUpsertHex));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, make_upsert());
}

TEST(RecordCodecTest, DecodeIntoReusedMutationLeavesNothingBehind) {
  Mutation reused;
  for (const Mutation& m : {make_patch(), make_upsert(), make_delete(), make_patch()}) {
    ASSERT_TRUE(decode_mutation_into(encode(m), &reused).is_ok());
    EXPECT_EQ(reused, m);
  }
}

// ---- Header errors, in the order the decoder checks them -----------------------------------

TEST(RecordCodecTest, ShorterThanHeaderIsTruncated) {
  const std::string bytes = encode(make_upsert());
  for (size_t n = 0; n < kRecordHeaderBytes; ++n) {
    Status s = decode_status(std::string_view(bytes).substr(0, n));
    EXPECT_EQ(s.code(), StatusCode::kTruncated) << n;
    EXPECT_THAT(s.message(), HasSubstr("28-byte header"));
  }
}

TEST(RecordCodecTest, OverTheSizeLimitIsTooLarge) {
  std::string bytes = encode(make_upsert());
  bytes.resize(kMaxRecordBytes + 1);
  Status s = decode_status(bytes);
  EXPECT_EQ(s.code(), StatusCode::kTooLarge);
  EXPECT_THAT(s.message(), HasSubstr("1048577 bytes; the limit is 1048576"));
}

TEST(RecordCodecTest, HeaderDeclaringMoreThanTheLimitIsTooLarge) {
  std::string bytes = encode(make_upsert());
  const uint32_t huge = 0xFFFFFFFF;
  std::memcpy(bytes.data() + 24, &huge, 4);
  Status s = decode_status(bytes);
  EXPECT_EQ(s.code(), StatusCode::kTooLarge);
  EXPECT_THAT(s.message(), HasSubstr("declares a 4294967295-byte body"));
}

TEST(RecordCodecTest, MissingBodyBytesAreTruncated) {
  const std::string bytes = encode(make_upsert());
  Status s = decode_status(std::string_view(bytes).substr(0, bytes.size() - 1));
  EXPECT_EQ(s.code(), StatusCode::kTruncated);
  EXPECT_THAT(s.message(), HasSubstr("declares a 34-byte body but only 33 bytes follow"));
}

TEST(RecordCodecTest, TrailingBytesAreCorruption) {
  Status s = decode_status(encode(make_upsert()) + "zz");
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_THAT(s.message(), HasSubstr("2 trailing bytes after its 34-byte body"));
}

TEST(RecordCodecTest, ChecksumMismatchReportsBothValuesInHex) {
  std::string bytes = encode(make_upsert());
  bytes[30] ^= 0x01;  // inside the collection name
  char stored[16], computed[16];
  std::snprintf(stored, sizeof stored, "0x%08x", 0xf886bda8u);  // from the golden record
  std::snprintf(computed, sizeof computed, "0x%08x", crc32c(bytes.data() + 4, bytes.size() - 4));
  Status s = decode_status(bytes);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_THAT(s.message(), HasSubstr("checksum mismatch"));
  EXPECT_THAT(s.message(), HasSubstr(std::string("stored ") + stored));
  EXPECT_THAT(s.message(), HasSubstr(std::string("computed ") + computed));
}

TEST(RecordCodecTest, UnknownFormatVersionIsUnsupported) {
  for (uint8_t version : {0, 2, 255}) {
    std::string bytes = encode(make_upsert());
    bytes[4] = static_cast<char>(version);
    fix_crc(&bytes);
    Status s = decode_status(bytes);
    EXPECT_EQ(s.code(), StatusCode::kUnsupported);
    EXPECT_THAT(s.message(), HasSubstr("format version " + std::to_string(version)));
  }
}

// ---- Structural errors in the body (all with a correct CRC) --------------------------------

struct BodyCase {
  const char* name;
  std::string body;
  const char* expected_message;
};

TEST(RecordCodecTest, StructuralErrorsNameTheField) {
  const std::string ids = str("docs") + str("v1");
  const std::vector<BodyCase> cases = {
      {"empty body", "", "varint for collection name runs past the end"},
      {"varint cut", "\x84", "varint for collection name runs past the end"},
      {"overlong varint", std::string("\x84\x00", 2) + "docs",
       "collection name is not in shortest form"},
      {"varint overflow", std::string(9, '\xff') + "\x02", "collection name overflows 64 bits"},
      {"11-byte varint", std::string(10, '\x80') + "\x01", "collection name overflows 64 bits"},
      {"string past end", varint(100) + "docs", "collection name length 100 exceeds the 4 bytes"},
      {"id past end", str("docs") + varint(3) + "v", "vector id length 3 exceeds the 1 bytes"},
      {"dim over limit", ids + varint(4097), "embedding dimension 4097 exceeds the limit 4096"},
      {"huge dim", ids + varint(uint64_t{1} << 62), "exceeds the limit 4096"},
      {"dim past end", ids + varint(100) + fixed(1.0f), "100 floats needs 400 bytes; 4 are left"},
      {"field count", ids + kOneFloat + varint(1000), "payload field count 1000 exceeds"},
      {"fields unsorted", ids + kOneFloat + varint(2) + str("b") + str("") + str("a") + str(""),
       "payload field names are not strictly increasing"},
      {"fields repeated", ids + kOneFloat + varint(2) + str("a") + str("1") + str("a") + str("2"),
       "payload field names are not strictly increasing"},
      {"value past end", ids + kOneFloat + varint(1) + str("a") + varint(9),
       "payload field value length 9 exceeds the 0 bytes"},
      {"tags repeated", ids + kOneFloat + varint(0) + varint(2) + str("x") + str("x"),
       "tag entries are not strictly increasing"},
      {"tag count cut", ids + kOneFloat + varint(0) + "\xff", "varint for tag count runs past"},
      {"removed tags", ids + kOneFloat + varint(0) + varint(0) + varint(0) + varint(300),
       "removed tag count 300 exceeds the limit 256"},
      {"unparsed bytes", ids + kOneFloat + kEmptyPayload + "!!",
       "2 unparsed bytes after the last field"},
  };
  for (const BodyCase& c : cases) {
    Status s = decode_status(frame(c.body));
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << c.name << ": " << s.to_string();
    EXPECT_THAT(s.message(), HasSubstr(c.expected_message)) << c.name;
  }
  // The well-formed version of the same body decodes, so the cases above fail for their reason.
  EXPECT_TRUE(decode_status(frame(ids + kOneFloat + kEmptyPayload)).is_ok());
}

TEST(RecordCodecTest, DecodedButInvalidMutationIsCorruption) {
  const std::string body = str("docs") + str("v1") + kOneFloat + kEmptyPayload;
  const std::string nan = str("docs") + str("v1") + varint(1) +
                          fixed(std::numeric_limits<float>::quiet_NaN()) + kEmptyPayload;
  const std::vector<std::pair<std::string, const char*>> cases = {
      {frame(body, {.op = 9}), "op 9 is not upsert(1)"},
      {frame(body, {.timestamp = 0}), "timestamp is 0"},
      {frame(body, {.sequence = 0}), "origin sequence is 0"},
      {frame(body, {.op = 2}), "delete must not carry an embedding"},
      {frame(nan), "embedding[0] is not finite"},
      {frame(str("bad name!") + str("v1") + kOneFloat + kEmptyPayload), "collection name"},
      {frame(str("docs") + str("") + kOneFloat + kEmptyPayload), "vector id is empty"},
  };
  for (const auto& [bytes, expected] : cases) {
    Status s = decode_status(bytes);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << expected;
    EXPECT_THAT(s.message(), HasSubstr("invalid mutation"));
    EXPECT_THAT(s.message(), HasSubstr(expected));
  }
}

// ---- Exhaustive damage to a small record ---------------------------------------------------

TEST(RecordCodecTest, StoredCrcReadsTheFirstFourBytesLittleEndian) {
  EXPECT_EQ(stored_record_crc(std::string("\x78\x56\x34\x12rest", 8)), 0x12345678u);
  EXPECT_EQ(stored_record_crc("abc"), 0u);
}

TEST(RecordCodecTest, EveryFlippedBitIsRejected) {
  for (const Mutation& m : {make_upsert(), make_delete()}) {
    const std::string good = encode(m);
    for (size_t bit = 0; bit < good.size() * 8; ++bit) {
      std::string bad = good;
      bad[bit / 8] ^= static_cast<char>(1 << (bit % 8));
      Mutation out;
      EXPECT_FALSE(decode_mutation_into(bad, &out).is_ok()) << op_name(m.op) << " bit " << bit;
    }
  }
}

TEST(RecordCodecTest, EveryTruncationIsRejectedAsTruncated) {
  for (const Mutation& m : {make_upsert(), make_patch()}) {
    const std::string good = encode(m);
    for (size_t n = 0; n < good.size(); ++n) {
      EXPECT_EQ(decode_status(std::string_view(good).substr(0, n)).code(), StatusCode::kTruncated)
          << op_name(m.op) << " cut to " << n << " bytes";
    }
  }
}

}  // namespace
}  // namespace meridian
