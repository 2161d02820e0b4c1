// Translation between proto/meridian.proto messages and the engine's types (NodeService's
// vocabulary). Pure functions, no I/O; every field's meaning is documented in the .proto file.
//
// Requests: from_proto() fills engine types and fails (invalid_argument, naming the field) only
// where the proto admits values the engine type cannot hold (an unknown consistency value, a
// region id above 65535); everything else is NodeService's validation. Responses: to_proto().
// The peer client uses the reverse direction (to_proto(SearchRequest), from_proto(response)).
#pragma once

#include <vector>

#include "engine/core/status.h"
#include "engine/real/api/node_service.h"
#include "proto/meridian.pb.h"

namespace meridian::real::api {

Status from_proto(const v1::SessionToken& in, node::SessionToken* out);
void to_proto(const node::SessionToken& in, v1::SessionToken* out);

Status from_proto(const v1::UpsertRequest& in, node::WriteRequest* out,
                  node::SessionToken* session);
Status from_proto(const v1::DeleteRequest& in, node::WriteRequest* out,
                  node::SessionToken* session);
Status from_proto(const v1::PatchPayloadRequest& in, node::WriteRequest* out,
                  node::SessionToken* session);
// REQUIRES: result.response.status is ok.
void to_proto(const WriteResult& in, v1::WriteResponse* out);
// One upsert per item, each into in.collection().
Status from_proto(const v1::UpsertBatchRequest& in, std::vector<node::WriteRequest>* out,
                  node::SessionToken* session);
// REQUIRES: in.status is ok.
void to_proto(const BatchWriteResult& in, v1::UpsertBatchResponse* out);

void to_proto(const VectorView& in, const std::string& id, v1::GetResponse* out);

Status from_proto(const v1::SearchRequest& in, node::SearchRequest* out);
void to_proto(const node::SearchRequest& in, v1::SearchRequest* out);
// REQUIRES: result.response.status is ok.
void to_proto(const SearchResult& in, v1::SearchResponse* out);
// A peer's answer; status ok.
node::SearchResponse from_proto(const v1::SearchResponse& in);

void to_proto(const NodeStatus& in, v1::NodeStatusResponse* out);

// Milliseconds, rounded up (staleness bounds are never understated).
uint64_t to_ms_ceil(env::TimeNs ns);

}  // namespace meridian::real::api
