// The HTTP/JSON gateway: the data plane's operations over plain HTTP/1.1 (cpp-httplib), with
// the same semantics as gRPC because both call NodeService. Routes and JSON schema: docs/api.md.
//
//   POST   /v1/collections/{c}/vectors        upsert
//   GET    /v1/collections/{c}/vectors/{id}   get
//   PATCH  /v1/collections/{c}/vectors/{id}   patch payload
//   DELETE /v1/collections/{c}/vectors/{id}   delete (token in header X-Session-Token)
//   POST   /v1/collections/{c}/search         search
//   POST   /v1/collections                    create: always 409 (static configuration)
//   GET    /v1/status                         node status (replication, lag, staleness)
//   GET    /metrics                           the same as Prometheus metrics (metrics.h)
//   GET    /healthz                           200 when the node's event loop answers in 1 s
//
// With HttpOptions::operations_only, only the last two (a metrics listener).
//
// Errors are JSON {"error": {"code", "message"}} with the HTTP status of status_map.h (400, 404,
// 413, 503, ...). Bodies above max_body_bytes get 413 before any parsing. Requests are served
// by a fixed pool of `threads` threads, each blocking on NodeService's *_sync calls.
//
// Transport: plain HTTP by default, meant for loopback or behind a TLS-terminating proxy (gRPC
// is the authenticated interface). With `tls`, HTTPS with the same mutual TLS as gRPC: the
// client must present a certificate signed by the cluster CA.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "engine/core/status.h"
#include "engine/real/api/node_service.h"
#include "engine/real/api/tls.h"

namespace httplib {
class Server;
}

namespace meridian::real::api {

struct HttpOptions {
  size_t threads = 8;
  size_t max_body_bytes = 1 << 20;
  // How long an idle keep-alive connection is kept open. httplib's stop() waits for every
  // connection's worker, and an idle one only notices after this timeout: it bounds how long a
  // SIGTERM waits for clients that keep connections open (httplib's default, 5 s, made every
  // such shutdown take ~5 s). Whole seconds; clients reconnect after a longer pause.
  int keep_alive_timeout_s = 1;
  // Requests served on one keep-alive connection before the server closes it. Each connection
  // holds one of the `threads` while it is open, so this bounds how long a busy client can keep
  // a worker from others; httplib's default (5) made clients reconnect every fifth request
  // (grpc_bench BM_HttpSearch: see docs/benchmarks.md).
  size_t keep_alive_max_requests = 100;
  bool tls = false;
  TlsFiles tls_files;  // with tls
  // Serve GET /metrics and GET /healthz only (meridian-node's listen.metrics): nothing that
  // reads or writes vectors, so it can be left without client certificates for a scraper.
  bool operations_only = false;
};

class HttpGateway {
 public:
  // REQUIRES: `service` outlives the gateway.
  HttpGateway(NodeService& service, HttpOptions options);
  ~HttpGateway();  // stop()
  HttpGateway(const HttpGateway&) = delete;
  HttpGateway& operator=(const HttpGateway&) = delete;

  // Binds `host`:`port` (port 0 picks a free one) and serves on a background thread; returns the
  // bound port, or unavailable / invalid_argument (bad TLS files) if it cannot.
  Result<int> start(const std::string& host, int port);
  // Stops accepting, lets requests in flight finish, joins the threads. Idempotent.
  void stop();

 private:
  void install_routes();
  void install_operations_routes();  // /metrics, /healthz
  void install_data_routes();        // /v1/...
  void install_error_handlers();

  NodeService& service_;
  HttpOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace meridian::real::api
