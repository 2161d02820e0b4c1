#include "engine/real/api/grpc_server.h"

#include <grpc/grpc.h>
#include <grpcpp/server_builder.h>

#include <utility>

#include "engine/real/api/proto_mapping.h"
#include "engine/real/api/status_map.h"
#include "proto/meridian.grpc.pb.h"

namespace meridian::real::api {

class GrpcServer::Service final : public v1::Meridian::CallbackService {
 public:
  explicit Service(NodeService& node) : node_(node) {}

  grpc::ServerUnaryReactor* CreateCollection(grpc::CallbackServerContext* ctx,
                                             const v1::CreateCollectionRequest* request,
                                             v1::CreateCollectionResponse*) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status(
        grpc::StatusCode::FAILED_PRECONDITION,
        "collections are static configuration: add '" + request->name() +
            "' to the collections of every region's node config and restart the nodes"));
    return reactor;
  }

  grpc::ServerUnaryReactor* Upsert(grpc::CallbackServerContext* ctx,
                                   const v1::UpsertRequest* request,
                                   v1::WriteResponse* response) override {
    return write(ctx, *request, response);
  }
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* ctx,
                                   const v1::DeleteRequest* request,
                                   v1::WriteResponse* response) override {
    return write(ctx, *request, response);
  }
  grpc::ServerUnaryReactor* PatchPayload(grpc::CallbackServerContext* ctx,
                                         const v1::PatchPayloadRequest* request,
                                         v1::WriteResponse* response) override {
    return write(ctx, *request, response);
  }

  grpc::ServerUnaryReactor* UpsertBatch(grpc::CallbackServerContext* ctx,
                                        const v1::UpsertBatchRequest* request,
                                        v1::UpsertBatchResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    std::vector<node::WriteRequest> items;
    node::SessionToken session;
    if (Status s = from_proto(*request, &items, &session); !s.is_ok()) {
      reactor->Finish(to_grpc(s));
      return reactor;
    }
    node_.write_batch(std::move(items), std::move(session),
                      [reactor, response](BatchWriteResult result) {
                        if (result.status.is_ok()) to_proto(result, response);
                        reactor->Finish(to_grpc(result.status));
                      });
    return reactor;
  }

  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* ctx, const v1::GetRequest* request,
                                v1::GetResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    node_.get(request->collection(), request->id(),
              [reactor, response, id = request->id()](Result<VectorView> view) {
                if (view.is_ok()) to_proto(*view, id, response);
                reactor->Finish(to_grpc(view.status()));
              });
    return reactor;
  }

  grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* ctx,
                                   const v1::SearchRequest* request,
                                   v1::SearchResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    node::SearchRequest search;
    if (Status s = from_proto(*request, &search); !s.is_ok()) {
      reactor->Finish(to_grpc(s));
      return reactor;
    }
    node_.search(std::move(search), [reactor, response](SearchResult result) {
      if (result.response.status.is_ok()) to_proto(result, response);
      reactor->Finish(to_grpc(result.response.status));
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* NodeStatus(grpc::CallbackServerContext* ctx,
                                       const v1::NodeStatusRequest*,
                                       v1::NodeStatusResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    node_.status([reactor, response](api::NodeStatus status) {
      to_proto(status, response);
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* FetchShardDelta(grpc::CallbackServerContext* ctx,
                                            const v1::ShardDeltaRequest* request,
                                            v1::ShardDeltaResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    node::ShardDeltaRequest r{request->collection(), request->shard(), request->signature()};
    node_.shard_delta(std::move(r), [reactor, response](node::ShardDeltaResponse answer) {
      if (answer.status.is_ok()) {
        response->set_delta(std::move(answer.delta));
        response->set_digest_root(answer.digest_root);
        response->set_snapshot_bytes(answer.snapshot_bytes);
        response->set_served_by(answer.served_by);
        response->set_stable_frontier(answer.stable_frontier);
      }
      reactor->Finish(to_grpc(answer.status));
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* FetchShardDigest(grpc::CallbackServerContext* ctx,
                                             const v1::ShardDigestRequest* request,
                                             v1::ShardDigestResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    node_.shard_digest({request->collection(), request->shard(), request->stable_frontier(),
                        request->version_vector()},
                       [reactor, response](node::ShardDigestResponse answer) {
                         if (answer.status.is_ok()) {
                           response->set_version_vector(std::move(answer.version_vector));
                           response->set_digest_root(answer.digest_root);
                           response->set_served_by(answer.served_by);
                           response->set_stable_frontier(answer.stable_frontier);
                         }
                         reactor->Finish(to_grpc(answer.status));
                       });
    return reactor;
  }

 private:
  template <typename Request>
  grpc::ServerUnaryReactor* write(grpc::CallbackServerContext* ctx, const Request& request,
                                  v1::WriteResponse* response) {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    node::WriteRequest write;
    node::SessionToken session;
    if (Status s = from_proto(request, &write, &session); !s.is_ok()) {
      reactor->Finish(to_grpc(s));
      return reactor;
    }
    node_.write(std::move(write), std::move(session), [reactor, response](WriteResult result) {
      if (result.response.status.is_ok()) to_proto(result, response);
      reactor->Finish(to_grpc(result.response.status));
    });
    return reactor;
  }

  NodeService& node_;
};

GrpcServer::GrpcServer(NodeService& service) : service_(std::make_unique<Service>(service)) {}

GrpcServer::~GrpcServer() { shutdown(std::chrono::milliseconds(0)); }

Result<int> GrpcServer::start(const std::string& address, const TlsPem& pem) {
  if (server_ != nullptr) return Status::invalid_argument("gRPC server already started");
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, server_credentials(pem), &port);
  builder.RegisterService(service_.get());
  builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
  // gRPC sets SO_REUSEPORT by default on Linux: a second node on the same port would then
  // start "successfully" and share the traffic. Refuse to bind instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port == 0) {
    server_.reset();
    return Status::unavailable("cannot listen for gRPC on '" + address + "'");
  }
  return port;
}

void GrpcServer::shutdown(std::chrono::milliseconds grace) {
  if (server_ == nullptr) return;
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
}

}  // namespace meridian::real::api
