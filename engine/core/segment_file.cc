#include "engine/core/segment_file.h"

#include <algorithm>
#include <cassert>
#include <cinttypes>
#include <cstdio>
#include <utility>

#include "engine/core/binary_io.h"
#include "engine/core/crc32c.h"
#include "engine/core/record_codec.h"
#include "engine/core/routing.h"
#include "engine/core/shard_snapshot.h"

namespace meridian {

using binary_io::ByteReader;
using binary_io::load_fixed;
using binary_io::put_fixed;
using binary_io::put_string;
using binary_io::store_fixed;

namespace {

// Header: fixed part, then the collection string, then the header CRC.
constexpr size_t kVersionOffset = 8;
constexpr size_t kKindOffset = 10;
constexpr size_t kReservedOffset = 11;
constexpr size_t kHeaderLengthOffset = 12;
constexpr size_t kFixedHeaderBytes = 32;
constexpr size_t kMinHeaderBytes = kFixedHeaderBytes + 1 + 1 + 4;  // 1-byte collection name
// Footer: entry count, body bytes, block count, (no blocks), empty version vector (length 1).
constexpr size_t kMinFooterBytes = 8 + 8 + 4 + 4 + 1;
constexpr size_t kMinSegmentBytes = kMinHeaderBytes + kMinFooterBytes + kSegmentTrailerBytes;

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08" PRIx32, v);
  return buf;
}

std::string range(uint64_t begin, uint64_t end) {  // [begin, end) as "bytes b..e" inclusive
  return "bytes " + std::to_string(begin) + ".." + std::to_string(end == begin ? end : end - 1);
}

std::string checksum_mismatch(uint32_t stored, uint32_t computed) {
  return "checksum mismatch (stored " + hex32(stored) + ", computed " + hex32(computed) + ")";
}

struct CutCandidate {
  size_t offset;
  bool anchor;  // always cut here
};

// Block lengths covering [0, total): a cut at every anchor; a block that would exceed the maximum
// is cut at the last candidate inside it, or at the maximum when it has none.
std::vector<uint32_t> cut_blocks(size_t total, const std::vector<CutCandidate>& candidates) {
  std::vector<uint32_t> lengths;
  size_t start = 0, last = 0;
  auto push = [&](size_t cut) {
    lengths.push_back(uint32_t(cut - start));
    start = cut;
  };
  auto fit = [&](size_t end) {
    while (end - start > kSegmentMaxBlockBytes)
      push(last > start ? last : start + kSegmentMaxBlockBytes);
  };
  for (const CutCandidate& c : candidates) {
    if (c.offset <= start || c.offset >= total) continue;
    fit(c.offset);
    if (c.anchor) push(c.offset);
    last = c.offset;
  }
  fit(total);
  if (total > start) push(total);
  return lengths;
}

// Anchors one entry in `modulus` (by id hash) so that blocks average kSegmentTargetBlockBytes.
uint32_t anchor_modulus(uint32_t dimension) {
  const size_t entry_estimate = size_t(dimension) * sizeof(float) + 64;
  return uint32_t(std::max<size_t>(1, kSegmentTargetBlockBytes / entry_estimate));
}

void put_header(const SegmentHeader& h, std::string* out) {
  out->append(kSegmentMagic);
  put_fixed<uint16_t>(out, kSegmentFormatVersion);
  put_fixed<uint8_t>(out, uint8_t(h.kind));
  put_fixed<uint8_t>(out, 0);
  put_fixed<uint32_t>(out, 0);  // header length, stored below
  put_fixed<uint32_t>(out, h.shard_index);
  put_fixed<uint32_t>(out, h.num_shards);
  put_fixed<uint32_t>(out, h.dimension);
  put_fixed<uint32_t>(out, h.routing_seed);
  put_string(out, h.collection);
  store_fixed<uint32_t>(out, kHeaderLengthOffset, uint32_t(out->size() + 4));
  put_fixed<uint32_t>(out, crc32c(out->data(), out->size()));
}

// Appends footer and trailer to a file holding header + body.
void finish_segment(size_t header_bytes, uint64_t entry_count,
                    const std::vector<uint32_t>& block_lengths, const VersionVector& vv,
                    std::string* out) {
  const size_t footer_offset = out->size();
  put_fixed<uint64_t>(out, entry_count);
  put_fixed<uint64_t>(out, footer_offset - header_bytes);
  put_fixed<uint32_t>(out, uint32_t(block_lengths.size()));
  size_t block_start = header_bytes;
  for (uint32_t len : block_lengths) {
    put_fixed<uint32_t>(out, len);
    put_fixed<uint32_t>(out, crc32c(out->data() + block_start, len));
    block_start += len;
  }
  assert(block_start == footer_offset);
  std::string vv_bytes;
  encode_version_vector(vv, &vv_bytes);
  put_fixed<uint32_t>(out, uint32_t(vv_bytes.size()));
  out->append(vv_bytes);
  const uint32_t footer_crc = crc32c(out->data() + footer_offset, out->size() - footer_offset);
  put_fixed<uint64_t>(out, footer_offset);
  put_fixed<uint32_t>(out, footer_crc);
  put_fixed<uint32_t>(out, crc32c(out->data(), out->size()));
  out->append(kSegmentTrailerMagic);
}

// The result of the structural and checksum checks shared by verify and read.
struct Checked {
  size_t header_bytes = 0;
  uint64_t body_bytes = 0;
  std::vector<uint32_t> block_lengths;
  VersionVector vv;
};

Status check_header(std::string_view b, SegmentSummary* s, Checked* c) {
  const size_t magic_len = std::min(b.size(), kSegmentMagic.size());
  if (b.substr(0, magic_len) != kSegmentMagic.substr(0, magic_len)) {
    return Status::corruption("bad magic at offset 0: not a Meridian segment file");
  }
  if (b.size() < kMinSegmentBytes) {
    return Status::truncated("file is " + std::to_string(b.size()) +
                             " bytes; a segment file is at least " +
                             std::to_string(kMinSegmentBytes));
  }
  const uint16_t version = load_fixed<uint16_t>(b.data() + kVersionOffset);
  if (version != kSegmentFormatVersion) {
    return Status::unsupported("segment format version " + std::to_string(version) +
                               " at offset 8 (this build reads " +
                               std::to_string(kSegmentFormatVersion) + ")");
  }
  const uint32_t header_bytes = load_fixed<uint32_t>(b.data() + kHeaderLengthOffset);
  if (header_bytes < kMinHeaderBytes ||
      header_bytes > b.size() - kMinFooterBytes - kSegmentTrailerBytes) {
    return Status::corruption("header length " + std::to_string(header_bytes) +
                              " at offset 12 is out of range");
  }
  const uint32_t stored = load_fixed<uint32_t>(b.data() + header_bytes - 4);
  const uint32_t computed = crc32c(b.data(), header_bytes - 4);
  if (stored != computed) {
    return Status::corruption("header (" + range(0, header_bytes) +
                              "): " + checksum_mismatch(stored, computed));
  }
  SegmentHeader& h = s->header;
  const uint8_t kind = uint8_t(b[kKindOffset]);
  if (kind != uint8_t(SegmentKind::kShardSnapshot) &&
      kind != uint8_t(SegmentKind::kAppliedRecords)) {
    return Status::corruption("header: unknown segment kind " + std::to_string(kind) +
                              " at offset 10");
  }
  h.kind = SegmentKind(kind);
  h.shard_index = load_fixed<uint32_t>(b.data() + 16);
  h.num_shards = load_fixed<uint32_t>(b.data() + 20);
  h.dimension = load_fixed<uint32_t>(b.data() + 24);
  h.routing_seed = load_fixed<uint32_t>(b.data() + 28);
  ByteReader r(b.substr(kFixedHeaderBytes, header_bytes - 4 - kFixedHeaderBytes));
  std::string_view name;
  if (b[kReservedOffset] != 0 || !r.string(&name, kMaxCollectionNameBytes) || !r.at_end()) {
    return Status::corruption("header: malformed (reserved byte or collection name)");
  }
  h.collection = std::string(name);
  if (Status st = validate(h); !st.is_ok()) return Status::corruption("header: " + st.message());
  s->header_ok = true;
  c->header_bytes = header_bytes;
  return Status::ok();
}

Status check_footer(std::string_view b, SegmentSummary* s, Checked* c) {
  const size_t trailer = b.size() - kSegmentTrailerBytes;
  if (b.substr(b.size() - 8) != kSegmentTrailerMagic) {
    return Status::truncated("no trailing magic at offset " + std::to_string(b.size() - 8) +
                             ": the file is truncated or its tail is damaged");
  }
  const uint64_t footer_offset = load_fixed<uint64_t>(b.data() + trailer);
  if (footer_offset < c->header_bytes || footer_offset > trailer - kMinFooterBytes) {
    return Status::corruption("trailer at offset " + std::to_string(trailer) + ": footer offset " +
                              std::to_string(footer_offset) + " is out of range");
  }
  const std::string_view footer = b.substr(footer_offset, trailer - footer_offset);
  const uint32_t stored = load_fixed<uint32_t>(b.data() + trailer + 8);
  const uint32_t computed = crc32c(footer.data(), footer.size());
  if (stored != computed) {
    return Status::corruption("footer (" + range(footer_offset, trailer) +
                              "): " + checksum_mismatch(stored, computed));
  }
  ByteReader r(footer);
  uint64_t body_bytes = 0;
  uint32_t block_count = 0;
  r.fixed(&s->entry_count);
  r.fixed(&body_bytes);
  r.fixed(&block_count);
  const auto bad = [&](const std::string& what) {
    return Status::corruption("footer at offset " + std::to_string(footer_offset) + ": " + what);
  };
  if (!r.ok() || body_bytes != footer_offset - c->header_bytes || block_count > r.remaining() / 8) {
    return bad("body length or block count disagrees with the file layout");
  }
  uint64_t sum = 0;
  c->block_lengths.resize(block_count);
  for (uint32_t i = 0; i < block_count; ++i) {
    uint32_t len = 0, crc = 0;
    r.fixed(&len);
    r.fixed(&crc);
    if (len == 0 || len > kSegmentMaxBlockBytes) {
      return bad("block " + std::to_string(i) + " has length " + std::to_string(len));
    }
    c->block_lengths[i] = len;
    sum += len;
  }
  if (sum != body_bytes) return bad("block lengths do not add up to the body length");
  uint32_t vv_length = 0;
  std::string_view vv_bytes;
  if (!r.fixed(&vv_length) || !r.bytes(vv_length, &vv_bytes) || !r.at_end()) {
    return bad("malformed version vector field or trailing bytes");
  }
  Result<VersionVector> vv = decode_version_vector(vv_bytes);
  if (!vv.is_ok()) return bad(vv.status().message());
  c->vv = std::move(vv).value();
  c->body_bytes = body_bytes;
  s->block_count = block_count;
  s->body_bytes = body_bytes;
  s->version_vector = c->vv.to_string();
  s->footer_ok = true;
  return Status::ok();
}

Status check_blocks(std::string_view b, const SegmentSummary& s, const Checked& c) {
  const size_t table = c.header_bytes + c.body_bytes + 8 + 8 + 4;  // footer's block table
  size_t offset = c.header_bytes;
  for (size_t i = 0; i < c.block_lengths.size(); ++i) {
    const uint32_t len = c.block_lengths[i];
    const uint32_t stored = load_fixed<uint32_t>(b.data() + table + 8 * i + 4);
    const uint32_t computed = crc32c(b.data() + offset, len);
    if (stored != computed) {
      return Status::corruption("block " + std::to_string(i) + " of " +
                                std::to_string(s.block_count) + " (" + range(offset, offset + len) +
                                "): " + checksum_mismatch(stored, computed));
    }
    offset += len;
  }
  const size_t crc_at = b.size() - 12;
  const uint32_t stored = load_fixed<uint32_t>(b.data() + crc_at);
  const uint32_t computed = crc32c(b.data(), crc_at);
  if (stored != computed) {
    return Status::corruption("trailer at offset " + std::to_string(crc_at) + ": whole-file " +
                              checksum_mismatch(stored, computed));
  }
  return Status::ok();
}

SegmentSummary check_all(std::string_view b, Checked* c) {
  SegmentSummary s;
  s.file_bytes = b.size();
  s.status = check_header(b, &s, c);
  if (!s.status.is_ok()) return s;
  s.file_crc32c = load_fixed<uint32_t>(b.data() + b.size() - 12);
  s.status = check_footer(b, &s, c);
  if (!s.status.is_ok()) return s;
  s.status = check_blocks(b, s, *c);
  return s;
}

// Bytes the record at the start of `rest` claims (header + body_length), capped to `rest`.
size_t claimed_record_size(std::string_view rest) {
  if (rest.size() < kRecordHeaderBytes) return rest.size();
  const uint64_t total = kRecordHeaderBytes + uint64_t(load_fixed<uint32_t>(rest.data() + 24));
  return total > rest.size() ? rest.size() : size_t(total);
}

Status decode_records(std::string_view body, size_t body_offset, const SegmentHeader& h,
                      const VersionVector& vv, std::vector<Mutation>* out) {
  size_t pos = 0;
  while (pos < body.size()) {
    const std::string_view rest = body.substr(pos);
    const size_t size = claimed_record_size(rest);
    Result<Mutation> m = decode_mutation(rest.substr(0, size));
    const auto bad = [&](const std::string& what) {
      return Status::corruption("record " + std::to_string(out->size()) + " at offset " +
                                std::to_string(body_offset + pos) + ": " + what);
    };
    if (!m.is_ok()) return bad(m.status().to_string());
    if (m->collection != h.collection) return bad("names collection '" + m->collection + "'");
    if (shard_of(m->vector_id, h.num_shards, h.routing_seed) != h.shard_index) {
      return bad("id does not route to shard " + std::to_string(h.shard_index));
    }
    if (m->op == Op::kUpsert && m->embedding.size() != h.dimension) {
      return bad("embedding has " + std::to_string(m->embedding.size()) + " dimensions, not " +
                 std::to_string(h.dimension));
    }
    if (!vv.contains(m->origin_region, m->origin_sequence)) {
      return bad("(origin, sequence) is not in the footer's version vector");
    }
    out->push_back(std::move(m).value());
    pos += size;
  }
  return Status::ok();
}

// The snapshot in a checked segment's body, cross-checked against its header and footer.
Status decode_snapshot_body(std::string_view body, const Checked& c, const std::string& where,
                            Segment* seg) {
  SnapshotDecodeOptions options;
  options.dimension = seg->header.dimension;
  options.num_shards = seg->header.num_shards;
  options.routing_seed = seg->header.routing_seed;
  Result<ShardReplica> replica = decode_shard_snapshot(body, options);
  if (!replica.is_ok()) {
    return Status(replica.status().code(), where + replica.status().message());
  }
  if (replica->shard_index() != seg->header.shard_index) {
    return Status::corruption(where + "snapshot is of shard " +
                              std::to_string(replica->shard_index()) + ", header says " +
                              std::to_string(seg->header.shard_index));
  }
  if (replica->entry_count() != seg->entry_count) {
    return Status::corruption(where + "snapshot has " + std::to_string(replica->entry_count()) +
                              " entries, footer says " + std::to_string(seg->entry_count));
  }
  if (!(replica->version_vector() == c.vv)) {
    return Status::corruption(where + "snapshot version vector " +
                              replica->version_vector().to_string() + " differs from footer's " +
                              c.vv.to_string());
  }
  seg->replica.emplace(std::move(replica).value());
  return Status::ok();
}

}  // namespace

const char* segment_kind_name(SegmentKind kind) {
  switch (kind) {
    case SegmentKind::kShardSnapshot: return "shard-snapshot";
    case SegmentKind::kAppliedRecords: return "applied-records";
  }
  return "unknown";
}

Status validate(const SegmentHeader& h) {
  if (h.collection.empty() || h.collection.size() > kMaxCollectionNameBytes) {
    return Status::invalid_argument("collection name must be 1.." +
                                    std::to_string(kMaxCollectionNameBytes) + " bytes");
  }
  if (Status s = validate_num_shards(h.num_shards); !s.is_ok()) return s;
  if (h.shard_index >= h.num_shards) {
    return Status::invalid_argument("shard index " + std::to_string(h.shard_index) +
                                    " is not below num_shards " + std::to_string(h.num_shards));
  }
  if (h.dimension < 1 || h.dimension > kMaxDimension) {
    return Status::invalid_argument("dimension must be in 1.." + std::to_string(kMaxDimension));
  }
  return Status::ok();
}

std::string write_snapshot_segment(const SegmentHeader& header, const ShardReplica& replica) {
  assert(validate(header).is_ok() && header.kind == SegmentKind::kShardSnapshot);
  assert(header.shard_index == replica.shard_index());
  std::string out;
  put_header(header, &out);
  const size_t header_bytes = out.size();
  std::vector<SnapshotEntrySpan> spans;
  encode_shard_snapshot(replica, &out, &spans);
  // Cut before the first entry (the preamble holds the count), before every anchored entry and
  // before the version vector, which changes with every write.
  const uint32_t modulus = anchor_modulus(header.dimension);
  std::vector<CutCandidate> candidates;
  candidates.reserve(spans.size() + 1);
  for (size_t i = 0; i < spans.size(); ++i) {
    candidates.push_back(
        {spans[i].begin - header_bytes, i == 0 || spans[i].id_hash % modulus == 0});
  }
  const size_t vv_begin = spans.empty() ? 0 : spans.back().end - header_bytes;
  candidates.push_back({vv_begin, true});
  const std::vector<uint32_t> blocks = cut_blocks(out.size() - header_bytes, candidates);
  finish_segment(header_bytes, replica.entry_count(), blocks, replica.version_vector(), &out);
  return out;
}

std::string write_records_segment(const SegmentHeader& header, std::span<const Mutation> records,
                                  const VersionVector& version_vector) {
  assert(validate(header).is_ok() && header.kind == SegmentKind::kAppliedRecords);
  std::string out;
  put_header(header, &out);
  const size_t header_bytes = out.size();
  std::vector<CutCandidate> candidates;
  candidates.reserve(records.size());
  for (const Mutation& m : records) {
    assert(validate(m).is_ok() && m.collection == header.collection);
    assert(shard_of(m.vector_id, header.num_shards, header.routing_seed) == header.shard_index);
    assert(version_vector.contains(m.origin_region, m.origin_sequence));
    encode_mutation(m, &out);
    candidates.push_back({out.size() - header_bytes, false});
  }
  const std::vector<uint32_t> blocks = cut_blocks(out.size() - header_bytes, candidates);
  finish_segment(header_bytes, records.size(), blocks, version_vector, &out);
  return out;
}

SegmentSummary verify_segment(std::string_view bytes) {
  Checked c;
  return check_all(bytes, &c);
}

Result<Segment> read_segment(std::string_view bytes) {
  Checked c;
  SegmentSummary s = check_all(bytes, &c);
  if (!s.status.is_ok()) return s.status;
  Segment seg;
  seg.header = s.header;
  seg.entry_count = s.entry_count;
  seg.block_count = s.block_count;
  const std::string_view body = bytes.substr(c.header_bytes, c.body_bytes);
  const std::string where = "body (file offset " + std::to_string(c.header_bytes) + "): ";
  if (seg.header.kind == SegmentKind::kShardSnapshot) {
    if (Status st = decode_snapshot_body(body, c, where, &seg); !st.is_ok()) return st;
  } else {
    if (Status st = decode_records(body, c.header_bytes, seg.header, c.vv, &seg.records);
        !st.is_ok()) {
      return st;
    }
    if (seg.records.size() != seg.entry_count) {
      return Status::corruption(where + std::to_string(seg.records.size()) +
                                " records, footer says " + std::to_string(seg.entry_count));
    }
  }
  seg.version_vector = std::move(c.vv);
  return seg;
}

}  // namespace meridian
