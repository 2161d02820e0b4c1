// Binary encoding of a Mutation: the bytes of a log record (format version 1).
//
// Layout (all integers little-endian; docs/record-format.md has the full description):
//
//   offset size  field
//   0      4     crc32c         CRC-32C (crc32c.h) of bytes 4..end (header rest + body)
//   4      1     format_version 1
//   5      1     op             1 upsert, 2 delete, 3 patch (Op)
//   6      2     origin_region  u16
//   8      8     timestamp      u64 hybrid logical timestamp
//   16     8     origin_sequence u64
//   24     4     body_length    u32, exact number of bytes after this 28-byte header
//   28     ...   body:
//     string collection            (a "string" is a varint byte length, then the bytes)
//     string vector_id
//     varint dim, then dim x f32   (IEEE-754 binary32 little-endian; dim is 0 unless upsert)
//     varint n, then n x (string key, string value)   payload.fields, keys strictly increasing
//     varint n, then n x string                       payload.tags, strictly increasing
//     varint n, then n x string                       unset_fields, strictly increasing
//     varint n, then n x string                       removed_tags, strictly increasing
//
// A varint is unsigned LEB128 (7 bits per byte, low group first, high bit = "more follows") in
// its shortest form. The encoding is canonical: one Mutation has exactly one encoding, and the
// decoder rejects any other spelling (overlong varints, unsorted or repeated keys), so a record
// that decodes re-encodes to the same bytes.
//
// Decoding never trusts the input: every length is checked against the bytes that remain before
// anything is allocated or copied, and a record is returned only if it passes validate().
// Rejections, in the order they are checked:
//   kTruncated    fewer than 28 bytes (no complete header)
//   kTooLarge     more than kMaxRecordBytes bytes, or a header declaring a larger record
//   kTruncated    body_length says more bytes than are present (a cut-off record)
//   kCorruption   bytes present after the declared body ("trailing bytes")
//   kCorruption   CRC mismatch; the message has the stored and computed values in hex
//   kUnsupported  format_version is not 1
//   kCorruption   a structural error in the body (overlong varint, a length past the end, a
//                 dimension over kMaxDimension, unsorted keys, ...); the message names the field
//   kCorruption   the decoded mutation fails validate(); the message includes validate()'s
// The CRC is checked before the body is parsed, so a damaged record is reported as a checksum
// mismatch rather than as whatever structural error the damage happens to produce.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/core/mutation.h"
#include "engine/core/status.h"

namespace meridian {

inline constexpr uint8_t kRecordFormatVersion = 1;
inline constexpr size_t kRecordHeaderBytes = 28;
// No record, header included, is larger than this. The largest valid Mutation (every limit in
// mutation.h at its maximum) encodes to under 90 KiB, so the limit leaves room for new fields.
inline constexpr size_t kMaxRecordBytes = 1 << 20;

// The exact number of bytes encode_mutation(m, ...) appends.
// REQUIRES: validate(m).is_ok().
size_t encoded_mutation_size(const Mutation& m);

// Appends the encoding of `m` to `*out` (existing contents are kept; nothing else is touched).
// Cannot fail. REQUIRES: validate(m).is_ok(). Only the checks that keep the output well-formed
// (known op, no embedding on a non-upsert, sizes within the limits) are asserted here, to keep the
// hot path cheap; anything else validate() would reject makes a record that every decoder
// rejects, so an invalid mutation can never be applied.
void encode_mutation(const Mutation& m, std::string* out);

// Decodes one record that occupies all of `bytes`. On success the Mutation is valid (validate()
// returns ok) and equal to the one that was encoded. On failure returns the status described
// above and no Mutation.
Result<Mutation> decode_mutation(std::string_view bytes);

// Like decode_mutation, but decodes into `*out`, reusing its string and vector capacity (the
// hot-path form: decoding into the same Mutation repeatedly allocates little or nothing for the
// collection, id and embedding). On success `*out` holds the record. On failure returns the error
// and leaves `*out` valid but unspecified; do not use its contents.
Status decode_mutation_into(std::string_view bytes, Mutation* out);

// The crc32c field of an encoded record as stored (not verified); 0 if `bytes` is shorter than
// that field. Two encodings of different mutations differ in it with probability 1 - 2^-32.
uint32_t stored_record_crc(std::string_view bytes);

}  // namespace meridian
