// The one place where engine Status codes become gRPC status codes and HTTP statuses.
//
//   engine            gRPC                 HTTP
//   ok                OK                   200
//   invalid_argument  INVALID_ARGUMENT     400
//   too_large         INVALID_ARGUMENT     413  (a payload, id or name over the engine's limits)
//   not_found         NOT_FOUND            404
//   unsupported       UNIMPLEMENTED        501
//   unavailable       UNAVAILABLE          503  (log or peer unreachable now: retry)
//   corruption        INTERNAL             500
//   truncated         INTERNAL             500
//
// and back (for answers from peer regions): a gRPC status becomes the engine code a caller
// branches on, with transport failures (UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, ...) as
// unavailable.
#pragma once

#include <grpcpp/support/status.h>

#include "engine/core/status.h"

namespace meridian::real::api {

grpc::Status to_grpc(const Status& status);
int to_http(StatusCode code);
Status from_grpc(const grpc::Status& status);

}  // namespace meridian::real::api
