// Translation between the HTTP gateway's JSON (schema in docs/api.md) and the engine's types.
//
// Parsing is strict: a body must be a JSON object; an unknown key, a value of the wrong type or
// out of range is invalid_argument naming the field (e.g. "embedding[2]: must be a number").
// Semantic checks (dimension, finiteness, limits) are NodeService's, shared with gRPC.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/core/status.h"
#include "engine/real/api/node_service.h"

namespace meridian::real::api {

// The body as JSON; invalid_argument "malformed JSON: ..." if it does not parse or is not an
// object.
Result<nlohmann::json> parse_json_object(const std::string& body);

// POST /v1/collections/{collection}/vectors
Status upsert_from_json(const nlohmann::json& body, const std::string& collection,
                        node::WriteRequest* out, node::SessionToken* session);
// POST /v1/collections/{collection}/vectors:batch: {"items": [upsert bodies without
// session_token], "session_token"}; a bad item's error names it ("items[3].embedding: ...").
Status upsert_batch_from_json(const nlohmann::json& body, const std::string& collection,
                              std::vector<node::WriteRequest>* out, node::SessionToken* session);
// PATCH /v1/collections/{collection}/vectors/{id}
Status patch_from_json(const nlohmann::json& body, const std::string& collection,
                       const std::string& id, node::WriteRequest* out, node::SessionToken* session);
// POST /v1/collections/{collection}/search
Status search_from_json(const nlohmann::json& body, const std::string& collection,
                        node::SearchRequest* out);

// REQUIRES: the result's status is ok.
nlohmann::json to_json(const WriteResult& result);
nlohmann::json to_json(const BatchWriteResult& result);
nlohmann::json to_json(const VectorView& view, const std::string& id);
nlohmann::json to_json(const SearchResult& result);
nlohmann::json to_json(const NodeStatus& status);
// {"error": {"code": "<status_code_name>", "message": "..."}}
nlohmann::json error_json(const std::string& code, const std::string& message);

}  // namespace meridian::real::api
