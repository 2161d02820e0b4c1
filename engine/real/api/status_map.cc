#include "engine/real/api/status_map.h"

namespace meridian::real::api {

namespace {
grpc::StatusCode grpc_code(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return grpc::StatusCode::OK;
    case StatusCode::kInvalidArgument: return grpc::StatusCode::INVALID_ARGUMENT;
    case StatusCode::kTooLarge: return grpc::StatusCode::INVALID_ARGUMENT;
    case StatusCode::kNotFound: return grpc::StatusCode::NOT_FOUND;
    case StatusCode::kUnsupported: return grpc::StatusCode::UNIMPLEMENTED;
    case StatusCode::kUnavailable: return grpc::StatusCode::UNAVAILABLE;
    case StatusCode::kCorruption: return grpc::StatusCode::INTERNAL;
    case StatusCode::kTruncated: return grpc::StatusCode::INTERNAL;
    // Codes added to engine/core/status.h later land here until mapped above.
    default: return grpc::StatusCode::UNKNOWN;
  }
}
}  // namespace

grpc::Status to_grpc(const Status& status) {
  if (status.is_ok()) return grpc::Status::OK;
  return grpc::Status(grpc_code(status.code()), status.message());
}

int to_http(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kTooLarge: return 413;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kUnsupported: return 501;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kCorruption: return 500;
    case StatusCode::kTruncated: return 500;
    default: return 500;  // codes added to engine/core/status.h later, until mapped above
  }
}

Status from_grpc(const grpc::Status& status) {
  const std::string& m = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::OK: return Status::ok();
    case grpc::StatusCode::INVALID_ARGUMENT: return Status::invalid_argument(m);
    case grpc::StatusCode::NOT_FOUND: return Status::not_found(m);
    case grpc::StatusCode::UNIMPLEMENTED: return Status::unsupported(m);
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::DATA_LOSS: return Status::corruption(m);
    default:
      return Status::unavailable(
          "peer: " +
          std::string(grpc::StatusCode(status.error_code()) == grpc::StatusCode::DEADLINE_EXCEEDED
                          ? "deadline exceeded"
                          : "rpc failed") +
          (m.empty() ? "" : ": " + m));
  }
}

}  // namespace meridian::real::api
