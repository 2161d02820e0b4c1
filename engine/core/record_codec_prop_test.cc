// Properties of the record codec over generated Mutations and generated damage.
//
// The central ones: an encoding decodes to the same Mutation; whatever the bytes, decoding never
// crashes and never accepts a record that is not exactly some valid Mutation's encoding.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstring>
#include <string>

#include "engine/core/crc32c.h"
#include "engine/core/mutation_gen.h"
#include "engine/core/record_codec.h"

namespace meridian {
namespace {

std::string encode(const Mutation& m) {
  std::string out;
  encode_mutation(m, &out);
  return out;
}

// Rewrites body_length and the CRC so that only the body's structure decides acceptance.
void reframe(std::string* record) {
  const uint32_t body_length = static_cast<uint32_t>(record->size() - kRecordHeaderBytes);
  std::memcpy(record->data() + 24, &body_length, 4);
  const uint32_t crc = crc32c(record->data() + 4, record->size() - 4);
  std::memcpy(record->data(), &crc, 4);
}

// The promise every decode must keep: a rejection, or a valid Mutation whose encoding is exactly
// the input (the format is canonical, so no two inputs decode to the same record).
void check_decode_is_sound(const std::string& bytes) {
  Result<Mutation> decoded = decode_mutation(bytes);
  RC_CLASSIFY(decoded.is_ok(), "accepted");
  if (decoded.is_ok()) {
    RC_ASSERT(validate(*decoded).is_ok());
    RC_ASSERT(encode(*decoded) == bytes);
  }
}

RC_GTEST_PROP(RecordCodecProp, DecodeInvertsEncode, ()) {
  const Mutation m = *gen_mutation();
  const std::string bytes = encode(m);
  RC_ASSERT(bytes.size() == encoded_mutation_size(m));
  Result<Mutation> decoded = decode_mutation(bytes);
  RC_ASSERT(decoded.is_ok());
  RC_ASSERT(*decoded == m);
}

RC_GTEST_PROP(RecordCodecProp, DecodeIntoAReusedMutationMatchesAFreshDecode, ()) {
  const auto first = *gen_mutation();
  const auto second = *gen_mutation();
  Mutation reused;
  RC_ASSERT(decode_mutation_into(encode(first), &reused).is_ok());
  RC_ASSERT(decode_mutation_into(encode(second), &reused).is_ok());
  RC_ASSERT(reused == second);
}

RC_GTEST_PROP(RecordCodecProp, ArbitraryBytesNeverCrashOrDecodeToAnotherEncoding, ()) {
  check_decode_is_sound(*gen_bytes(0, 300));
}

// Random bytes almost never get past the CRC, so also frame them with a correct header: this
// drives the body parser and validate() with garbage.
RC_GTEST_PROP(RecordCodecProp, ArbitraryBodyBehindAValidHeaderIsSound, ()) {
  std::string record(kRecordHeaderBytes, '\0');
  record[4] = static_cast<char>(kRecordFormatVersion);
  record[5] = static_cast<char>(*rc::gen::inRange(0, 5));
  record += *gen_bytes(0, 200);
  reframe(&record);
  check_decode_is_sound(record);
}

// Damage to a real encoding with the CRC repaired: the inputs closest to valid records, where
// a parser is most likely to accept something it should not.
RC_GTEST_PROP(RecordCodecProp, DamagedBodyWithRepairedChecksumIsSound, ()) {
  std::string record = encode(*gen_mutation({.max_dimension = 4}));
  const size_t edits = *rc::gen::inRange(1, 4);
  for (size_t i = 0; i < edits; ++i) {
    const size_t body_size = record.size() - kRecordHeaderBytes;
    const size_t at = kRecordHeaderBytes + *rc::gen::inRange<size_t>(0, body_size + 1);
    switch (*rc::gen::inRange(0, 3)) {
      case 0:  // overwrite a byte
        if (at < record.size()) record[at] = *gen_detail::gen_byte();
        break;
      case 1:  // insert a byte
        record.insert(record.begin() + static_cast<std::ptrdiff_t>(at), *gen_detail::gen_byte());
        break;
      default:  // delete a byte
        if (at < record.size()) record.erase(at, 1);
        break;
    }
  }
  reframe(&record);
  check_decode_is_sound(record);
}

// Damage without repair: the CRC must catch it, so a damaged record is either rejected or decodes
// to the original (when the "damage" rewrote bytes with their own values). Accepting a changed
// record would need a CRC collision, which is 2^-32 per case.
RC_GTEST_PROP(RecordCodecProp, CorruptedRecordIsRejectedOrUnchanged, ()) {
  const Mutation m = *gen_mutation();
  const std::string good = encode(m);
  std::string bad = good;
  const size_t edits = *rc::gen::inRange(1, 5);
  for (size_t i = 0; i < edits; ++i) {
    bad[*rc::gen::inRange<size_t>(0, bad.size())] = *gen_detail::gen_byte();
  }
  RC_CLASSIFY(bad == good, "no-op damage");
  Result<Mutation> decoded = decode_mutation(bad);
  if (decoded.is_ok()) RC_ASSERT(*decoded == m);
}

}  // namespace
}  // namespace meridian
