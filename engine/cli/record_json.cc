#include "engine/cli/record_json.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "engine/core/hlc.h"

namespace meridian::cli {

namespace {

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 if there is none. The same rules as nlohmann's
// serializer, so whatever passes here dumps without an exception.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = at(i);
  if (lead < 0x80) return 1;
  size_t length = 0;
  unsigned char second_min = 0x80, second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;  // below: overlong
    if (lead == 0xED) second_max = 0x9F;  // above: UTF-16 surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;  // below: overlong
    if (lead == 0xF4) second_max = 0x8F;  // above: beyond U+10FFFF
  } else {
    return 0;  // a continuation byte, an overlong lead (C0, C1) or F5..FF
  }
  if (i + length > s.size()) return 0;
  if (at(i + 1) < second_min || at(i + 1) > second_max) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (!is_continuation(at(i + k))) return 0;
  }
  return length;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// `s` unchanged if it is valid UTF-8; otherwise each stray byte replaced by U+FFFD.
std::string displayable(std::string_view s) {
  if (is_valid_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * bytes.size());
  for (unsigned char c : bytes) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 0xF];
  }
  return hex;
}

// JSON numbers are doubles; converting a float directly would print every digit of its binary
// value (1.1f -> 1.100000023841858). Going through the float's shortest decimal gives the double
// that prints as that decimal and still reads back as the same float.
double shortest_double(float f) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f);
  if (ec != std::errc()) return f;
  double d = f;
  if (std::from_chars(buf, end, d).ec != std::errc()) return f;
  return d;
}

nlohmann::json string_array(const std::set<std::string>& strings) {
  nlohmann::json array = nlohmann::json::array();
  for (const auto& s : strings) array.push_back(displayable(s));
  return array;
}

}  // namespace

nlohmann::json mutation_to_json(const Mutation& m) {
  nlohmann::json j;
  j["op"] = op_name(m.op);
  j["collection"] = displayable(m.collection);
  j["vector_id"] = displayable(m.vector_id);
  if (!is_valid_utf8(m.vector_id)) j["vector_id_hex"] = to_hex(m.vector_id);

  j["dimension"] = m.embedding.size();
  nlohmann::json embedding = nlohmann::json::array();
  embedding.get_ref<nlohmann::json::array_t&>().reserve(m.embedding.size());
  for (float f : m.embedding) embedding.push_back(shortest_double(f));
  j["embedding"] = std::move(embedding);

  nlohmann::json fields = nlohmann::json::object();
  for (const auto& [key, value] : m.payload.fields) fields[displayable(key)] = displayable(value);
  j["payload"] = {{"fields", std::move(fields)}, {"tags", string_array(m.payload.tags)}};
  j["unset_fields"] = string_array(m.unset_fields);
  j["removed_tags"] = string_array(m.removed_tags);

  j["timestamp"] = m.timestamp;
  j["hlc"] = {{"physical_ms", hlc_physical_ms(m.timestamp)}, {"logical", hlc_logical(m.timestamp)}};
  j["origin_region"] = m.origin_region;
  j["origin_sequence"] = m.origin_sequence;
  return j;
}

}  // namespace meridian::cli
