// JSON view of a Mutation, for `meridian inspect-record` and other human-facing output.
//
// Shape (every key but vector_id_hex always present; nlohmann::json dumps keys sorted):
//   {
//     "op": "upsert" | "delete" | "patch",
//     "collection": "docs",
//     "vector_id": "v1",
//     "vector_id_hex": "7631ff",          // only when vector_id is not valid UTF-8 (see below)
//     "dimension": 2,                     // embedding.size(); 0 unless upsert
//     "embedding": [1.0, -2.5],
//     "payload": {"fields": {"lang": "en"}, "tags": ["news"]},
//     "unset_fields": [],
//     "removed_tags": [],
//     "timestamp": 111411200000000007,
//     "hlc": {"physical_ms": 1700000000000, "logical": 7},   // timestamp >> 16, timestamp & 0xFFFF
//     "origin_region": 3,
//     "origin_sequence": 42
//   }
//
// JSON strings must be UTF-8, but ids, field names, values and tags are arbitrary bytes. Strings
// that are valid UTF-8 appear unchanged; in any other string each byte that is not part of a valid
// UTF-8 sequence is shown as U+FFFD, so the result always dumps without throwing. That is lossy,
// hence "vector_id_hex" (lower-case hex of every byte) for the one string operators search by.
//
// Embedding values are written as the shortest decimal that reads back as the same float (1.1f
// prints as 1.1, not 1.100000023841858).
#pragma once

#include <nlohmann/json.hpp>

#include "engine/core/mutation.h"

namespace meridian::cli {

// The JSON object above. Never throws except on allocation failure; `m` need not be valid.
nlohmann::json mutation_to_json(const Mutation& m);

}  // namespace meridian::cli
