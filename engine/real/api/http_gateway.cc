#include "engine/real/api/http_gateway.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

#include "engine/real/api/json_mapping.h"
#include "engine/real/api/metrics.h"
#include "engine/real/api/status_map.h"

namespace meridian::real::api {

using nlohmann::json;

namespace {

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void reply_error(httplib::Response& res, const Status& status) {
  reply(res, to_http(status.code()), error_json(status_code_name(status.code()), status.message()));
}

// The session token of a request without a body (DELETE): header X-Session-Token.
Status header_session(const httplib::Request& req, node::SessionToken* out) {
  if (!req.has_header("X-Session-Token")) return Status::ok();
  Result<node::SessionToken> token = parse_session_token(req.get_header_value("X-Session-Token"));
  if (!token.is_ok()) {
    return Status::invalid_argument("X-Session-Token: " + token.status().message());
  }
  *out = std::move(token).value();
  return Status::ok();
}

const char* reason_code(int status) {
  switch (status) {
    case 400: return "invalid_argument";
    case 404: return "not_found";
    case 413: return "too_large";
    case 414: return "too_large";
    case 503: return "unavailable";
    default: return status >= 500 ? "internal" : "bad_request";
  }
}

}  // namespace

HttpGateway::HttpGateway(NodeService& service, HttpOptions options)
    : service_(service), options_(std::move(options)) {}

HttpGateway::~HttpGateway() { stop(); }

Result<int> HttpGateway::start(const std::string& host, int port) {
  if (server_ != nullptr) return Status::invalid_argument("HTTP gateway already started");
  if (options_.tls) {
    auto ssl = std::make_unique<httplib::SSLServer>(options_.tls_files.cert.c_str(),
                                                    options_.tls_files.key.c_str(),
                                                    options_.tls_files.ca.c_str());
    if (!ssl->is_valid()) {
      return Status::invalid_argument("TLS: cannot load tls.cert / tls.key / tls.ca");
    }
    server_ = std::move(ssl);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  const size_t threads = options_.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_payload_max_length(options_.max_body_bytes);
  server_->set_keep_alive_timeout(options_.keep_alive_timeout_s);
  server_->set_keep_alive_max_count(options_.keep_alive_max_requests);
  // httplib sends a response's headers and body in separate writes; with Nagle's algorithm on,
  // the body waits for the client's (delayed) ACK of the headers: tens of ms per request on a
  // keep-alive connection (grpc_bench's BM_HttpSearch: 26-61 ms a search; curl and k6 set
  // TCP_NODELAY on their side, which hides it only in part).
  server_->set_tcp_nodelay(true);
  // httplib sets SO_REUSEPORT by default: a second node on the same port would then start
  // "successfully" and share the traffic. SO_REUSEADDR only (fast restarts), so binding fails.
  auto reuse_address_only = [](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  };
  socket_t listener = INVALID_SOCKET;
  server_->set_socket_options([&](socket_t sock) {  // runs inside bind_to_*port
    reuse_address_only(sock);
    listener = sock;
  });
  install_routes();
  int bound = -1;
  if (port == 0) {
    bound = server_->bind_to_any_port(host);
  } else if (server_->bind_to_port(host, port)) {
    bound = port;
  }
  server_->set_socket_options(reuse_address_only);  // `listener` goes out of scope
  if (bound <= 0) {
    server_.reset();
    return Status::unavailable("cannot listen for HTTP on " + host + ":" + std::to_string(port));
  }
  // Debian's httplib (a compiled 0.11) listens with a backlog of 5. When its accept thread falls
  // behind on a busy machine, the kernel drops further SYNs and each such client retries after
  // 1 s (bench-real search over HTTP: 7 drops in 2 x 15 s at 5,000/s, p99 0.9-1.2 s). Linux
  // lets listen() on a listening socket set a new backlog.
  if (listener != INVALID_SOCKET && ::listen(listener, SOMAXCONN) != 0) {
    const int err = errno;
    server_.reset();
    return Status::unavailable("HTTP listen backlog on " + host + ":" + std::to_string(bound) +
                               ": " + std::strerror(err));
  }
  thread_ = std::thread([server = server_.get()] { server->listen_after_bind(); });
  // httplib's stop() does nothing until the listening thread has set is_running(): wait for it,
  // so that a stop() right after start() cannot leave that thread blocked in accept().
  for (int i = 0; i < 5000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return bound;
}

void HttpGateway::stop() {
  if (server_ == nullptr) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

void HttpGateway::install_routes() {
  install_operations_routes();
  if (!options_.operations_only) install_data_routes();
  install_error_handlers();
}

void HttpGateway::install_operations_routes() {
  httplib::Server& s = *server_;
  NodeService& node = service_;
  s.Get("/metrics", [&node](const httplib::Request&, httplib::Response& res) {
    Result<NodeStatus> status = node.status_sync();
    if (!status.is_ok()) return reply_error(res, status.status());
    res.status = 200;
    res.set_content(render_prometheus_metrics(*status), kPrometheusContentType);
  });
  s.Get("/healthz", [&node](const httplib::Request&, httplib::Response& res) {
    Status alive = node.ping_sync(std::chrono::seconds(1));
    if (!alive.is_ok()) return reply_error(res, alive);
    reply(res, 200, json{{"status", "ok"}, {"region", node.self().name}});
  });
}

void HttpGateway::install_error_handlers() {
  httplib::Server& s = *server_;
  // Errors httplib produces itself (no route, body too large, ...) get the same JSON shape.
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string message = res.status == 404 ? "no route for " + req.method + " " + req.path
                                : res.status == 413
                                    ? "request body is larger than the gateway's limit"
                                    : "HTTP status " + std::to_string(res.status);
    reply(res, res.status, error_json(reason_code(res.status), message));
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    reply(res, 500, error_json("internal", "unexpected error while serving the request"));
  });
}

void HttpGateway::install_data_routes() {
  httplib::Server& s = *server_;
  NodeService& node = service_;

  s.Post(R"(/v1/collections/([^/]+)/vectors)",
         [&node](const httplib::Request& req, httplib::Response& res) {
           Result<json> body = parse_json_object(req.body);
           if (!body.is_ok()) return reply_error(res, body.status());
           node::WriteRequest write;
           node::SessionToken session;
           if (Status st = upsert_from_json(*body, req.matches[1], &write, &session); !st.is_ok()) {
             return reply_error(res, st);
           }
           WriteResult r = node.write_sync(std::move(write), std::move(session));
           if (!r.response.status.is_ok()) return reply_error(res, r.response.status);
           reply(res, 200, to_json(r));
         });

  s.Post(R"(/v1/collections/([^/]+)/vectors:batch)", [&node](const httplib::Request& req,
                                                             httplib::Response& res) {
    Result<json> body = parse_json_object(req.body);
    if (!body.is_ok()) return reply_error(res, body.status());
    std::vector<node::WriteRequest> items;
    node::SessionToken session;
    if (Status st = upsert_batch_from_json(*body, req.matches[1], &items, &session); !st.is_ok()) {
      return reply_error(res, st);
    }
    BatchWriteResult r = node.write_batch_sync(std::move(items), std::move(session));
    if (!r.status.is_ok()) return reply_error(res, r.status);
    reply(res, 200, to_json(r));
  });

  s.Get(R"(/v1/collections/([^/]+)/vectors/(.+))",
        [&node](const httplib::Request& req, httplib::Response& res) {
          const std::string id = req.matches[2];
          Result<VectorView> view = node.get_sync(req.matches[1], id);
          if (!view.is_ok()) return reply_error(res, view.status());
          reply(res, 200, to_json(*view, id));
        });

  s.Patch(R"(/v1/collections/([^/]+)/vectors/(.+))", [&node](const httplib::Request& req,
                                                             httplib::Response& res) {
    Result<json> body = parse_json_object(req.body);
    if (!body.is_ok()) return reply_error(res, body.status());
    node::WriteRequest write;
    node::SessionToken session;
    if (Status st = patch_from_json(*body, req.matches[1], req.matches[2], &write, &session);
        !st.is_ok()) {
      return reply_error(res, st);
    }
    WriteResult r = node.write_sync(std::move(write), std::move(session));
    if (!r.response.status.is_ok()) return reply_error(res, r.response.status);
    reply(res, 200, to_json(r));
  });

  s.Delete(R"(/v1/collections/([^/]+)/vectors/(.+))",
           [&node](const httplib::Request& req, httplib::Response& res) {
             node::WriteRequest write;
             write.op = Op::kDelete;
             write.collection = req.matches[1];
             write.vector_id = req.matches[2];
             node::SessionToken session;
             if (Status st = header_session(req, &session); !st.is_ok())
               return reply_error(res, st);
             WriteResult r = node.write_sync(std::move(write), std::move(session));
             if (!r.response.status.is_ok()) return reply_error(res, r.response.status);
             reply(res, 200, to_json(r));
           });

  s.Post(R"(/v1/collections/([^/]+)/search)",
         [&node](const httplib::Request& req, httplib::Response& res) {
           Result<json> body = parse_json_object(req.body);
           if (!body.is_ok()) return reply_error(res, body.status());
           node::SearchRequest search;
           if (Status st = search_from_json(*body, req.matches[1], &search); !st.is_ok()) {
             return reply_error(res, st);
           }
           SearchResult r = node.search_sync(std::move(search));
           if (!r.response.status.is_ok()) return reply_error(res, r.response.status);
           reply(res, 200, to_json(r));
         });

  s.Post("/v1/collections", [](const httplib::Request&, httplib::Response& res) {
    reply(res, 409,
          error_json("failed_precondition",
                     "collections are static configuration: add the collection to every "
                     "region's node config and restart the nodes"));
  });

  s.Get("/v1/status", [&node](const httplib::Request&, httplib::Response& res) {
    Result<NodeStatus> status = node.status_sync();
    if (!status.is_ok()) return reply_error(res, status.status());
    reply(res, 200, to_json(*status));
  });
}

}  // namespace meridian::real::api
