// The gRPC front end: proto/meridian.proto's Meridian service over mutual TLS.
//
// Uses gRPC's callback API: a handler translates the request (proto_mapping.h), hands it to
// NodeService, which hops onto the node's event loop, and the node's completion finishes the
// RPC from the loop thread. No gRPC thread ever blocks on the engine, so a session read waiting
// for its token, or a search forwarded to another region, holds no server thread.
//
// Limits: request messages above kMaxRequestBytes are refused by gRPC (RESOURCE_EXHAUSTED)
// before any handler runs. CreateCollection always answers FAILED_PRECONDITION (collections are
// static configuration; see proto/meridian.proto).
#pragma once

#include <grpcpp/server.h>

#include <chrono>
#include <memory>
#include <string>

#include "engine/core/status.h"
#include "engine/real/api/node_service.h"
#include "engine/real/api/tls.h"

namespace meridian::real::api {

inline constexpr int kMaxRequestBytes = 1 << 20;

class GrpcServer {
 public:
  // REQUIRES: `service` outlives the server.
  explicit GrpcServer(NodeService& service);
  ~GrpcServer();  // shutdown() with no grace if still running
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // Listens on `address` ("127.0.0.1:7001"; port 0 picks a free one) with mutual TLS and
  // starts serving; returns the bound port, or unavailable if the address cannot be bound.
  Result<int> start(const std::string& address, const TlsPem& pem);
  // Stops accepting new calls and waits for calls in flight, at most `grace`, then cancels the
  // rest. The node's event loop must keep running until this returns (calls in flight finish
  // on it). Idempotent.
  void shutdown(std::chrono::milliseconds grace);

 private:
  class Service;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace meridian::real::api
