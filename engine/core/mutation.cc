#include "engine/core/mutation.h"

#include <cmath>
#include <cstdint>
#include <cstring>

namespace meridian {

const char* op_name(Op op) {
  switch (op) {
    case Op::kUpsert: return "upsert";
    case Op::kDelete: return "delete";
    case Op::kPatch: return "patch";
  }
  return "unknown";
}

namespace {

// Branch-free test on the exponent bits (all ones means Inf or NaN), which the compiler
// vectorises; std::isfinite in a loop with an early exit does not, and this runs on every decode.
bool all_finite(const std::vector<float>& v) {
  uint32_t non_finite = 0;
  for (float f : v) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    non_finite |= uint32_t((bits & 0x7f800000u) == 0x7f800000u);
  }
  return non_finite == 0;
}

bool is_valid_collection_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

Status check_string(const std::string& s, const char* what, size_t* payload_bytes) {
  if (s.size() > kMaxStringBytes) {
    return Status::too_large(std::string(what) + " is " + std::to_string(s.size()) +
                             " bytes; the limit is " + std::to_string(kMaxStringBytes));
  }
  *payload_bytes += s.size();
  return Status::ok();
}

Status check_payload(const Mutation& m) {
  size_t entries = m.payload.fields.size() + m.payload.tags.size() + m.unset_fields.size() +
                   m.removed_tags.size();
  if (entries > kMaxPayloadEntries) {
    return Status::too_large("payload has " + std::to_string(entries) + " entries; the limit is " +
                             std::to_string(kMaxPayloadEntries));
  }
  size_t bytes = 0;
  for (const auto& [key, value] : m.payload.fields) {
    if (key.empty()) return Status::invalid_argument("payload field name is empty");
    if (Status s = check_string(key, "payload field name", &bytes); !s.is_ok()) return s;
    if (Status s = check_string(value, "payload field value", &bytes); !s.is_ok()) return s;
  }
  for (const auto& tag : m.payload.tags) {
    if (tag.empty()) return Status::invalid_argument("tag is empty");
    if (Status s = check_string(tag, "tag", &bytes); !s.is_ok()) return s;
  }
  for (const auto& key : m.unset_fields) {
    if (Status s = check_string(key, "unset field name", &bytes); !s.is_ok()) return s;
  }
  for (const auto& tag : m.removed_tags) {
    if (Status s = check_string(tag, "removed tag", &bytes); !s.is_ok()) return s;
  }
  if (bytes > kMaxPayloadBytes) {
    return Status::too_large("payload is " + std::to_string(bytes) + " bytes; the limit is " +
                             std::to_string(kMaxPayloadBytes));
  }
  return Status::ok();
}

}  // namespace

Status validate(const Mutation& m) {
  if (m.op != Op::kUpsert && m.op != Op::kDelete && m.op != Op::kPatch) {
    return Status::invalid_argument("op " + std::to_string(static_cast<int>(m.op)) +
                                    " is not upsert(1), delete(2) or patch(3)");
  }
  if (m.collection.empty()) return Status::invalid_argument("collection name is empty");
  if (m.collection.size() > kMaxCollectionNameBytes) {
    return Status::too_large("collection name is " + std::to_string(m.collection.size()) +
                             " bytes; the limit is " + std::to_string(kMaxCollectionNameBytes));
  }
  for (char c : m.collection) {
    if (!is_valid_collection_char(c)) {
      return Status::invalid_argument("collection name '" + m.collection +
                                      "' may only contain A-Z a-z 0-9 _ - .");
    }
  }
  if (m.vector_id.empty()) return Status::invalid_argument("vector id is empty");
  if (m.vector_id.size() > kMaxVectorIdBytes) {
    return Status::too_large("vector id is " + std::to_string(m.vector_id.size()) +
                             " bytes; the limit is " + std::to_string(kMaxVectorIdBytes));
  }
  if (m.timestamp == 0) return Status::invalid_argument("timestamp is 0");
  if (m.origin_sequence == 0) return Status::invalid_argument("origin sequence is 0");

  if (m.op == Op::kUpsert) {
    if (m.embedding.empty()) return Status::invalid_argument("upsert has no embedding");
    if (m.embedding.size() > kMaxDimension) {
      return Status::too_large("embedding has " + std::to_string(m.embedding.size()) +
                               " dimensions; the limit is " + std::to_string(kMaxDimension));
    }
    if (!all_finite(m.embedding)) {
      for (size_t i = 0; i < m.embedding.size(); ++i) {
        if (!std::isfinite(m.embedding[i])) {
          return Status::invalid_argument("embedding[" + std::to_string(i) + "] is not finite");
        }
      }
    }
  } else if (!m.embedding.empty()) {
    return Status::invalid_argument(std::string(op_name(m.op)) + " must not carry an embedding");
  }
  if (m.op == Op::kDelete && !m.payload.empty()) {
    return Status::invalid_argument("delete must not carry a payload");
  }
  if (m.op == Op::kPatch && m.payload.empty() && m.unset_fields.empty() && m.removed_tags.empty()) {
    return Status::invalid_argument("patch changes nothing (no fields or tags to set or remove)");
  }
  if (m.op != Op::kPatch && (!m.unset_fields.empty() || !m.removed_tags.empty())) {
    return Status::invalid_argument("only a patch may unset fields or remove tags");
  }
  return check_payload(m);
}

}  // namespace meridian
