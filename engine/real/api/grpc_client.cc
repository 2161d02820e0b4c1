#include "engine/real/api/grpc_client.h"

#include <grpcpp/create_channel.h>

#include <utility>

#include "engine/real/api/proto_mapping.h"
#include "engine/real/api/status_map.h"

namespace meridian::real::api {

std::shared_ptr<grpc::Channel> make_channel(const std::string& address, const TlsPem& pem,
                                            const std::string& server_name) {
  grpc::ChannelArguments args;
  if (!server_name.empty()) args.SetSslTargetNameOverride(server_name);
  args.SetMaxReceiveMessageSize(64 << 20);  // status of a large deployment
  return grpc::CreateCustomChannel(address, channel_credentials(pem), args);
}

std::unique_ptr<v1::Meridian::Stub> make_stub(const std::string& address, const TlsPem& pem,
                                              const std::string& server_name) {
  return v1::Meridian::NewStub(make_channel(address, pem, server_name));
}

GrpcPeers::GrpcPeers(EventLoop& loop, std::map<std::string, std::string> addresses, TlsPem pem,
                     std::string server_name, std::chrono::milliseconds timeout)
    : loop_(loop), timeout_(timeout) {
  for (const auto& [region, address] : addresses) {
    stubs_.emplace(region, make_stub(address, pem, server_name));
  }
}

void GrpcPeers::forward_search(const std::string& region, const node::SearchRequest& request,
                               std::function<void(node::SearchResponse)> done) {
  auto stub = stubs_.find(region);
  if (stub == stubs_.end()) {
    loop_.post([done = std::move(done), region] {
      node::SearchResponse r;
      r.status = Status::unavailable("no gRPC address configured for region '" + region + "'");
      done(std::move(r));
    });
    return;
  }
  struct Call {
    grpc::ClientContext context;
    v1::SearchRequest request;
    v1::SearchResponse response;
  };
  auto call = std::make_shared<Call>();
  call->context.set_deadline(std::chrono::system_clock::now() + timeout_);
  to_proto(request, &call->request);
  call->request.set_no_forward(true);
  stub->second->async()->Search(
      &call->context, &call->request, &call->response,
      [loop = &loop_, call, done = std::move(done)](grpc::Status status) mutable {
        // On a gRPC thread: translate here, then hand the answer to the engine's thread.
        node::SearchResponse r;
        if (status.ok()) {
          r = from_proto(call->response);
        } else {
          r.status = from_grpc(status);
        }
        loop->post([done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
      });
}

void GrpcPeers::fetch_shard_delta(const std::string& region, const node::ShardDeltaRequest& request,
                                  std::function<void(node::ShardDeltaResponse)> done) {
  auto stub = stubs_.find(region);
  if (stub == stubs_.end()) {
    loop_.post([done = std::move(done), region] {
      node::ShardDeltaResponse r;
      r.status = Status::unavailable("no gRPC address configured for region '" + region + "'");
      done(std::move(r));
    });
    return;
  }
  struct Call {
    grpc::ClientContext context;
    v1::ShardDeltaRequest request;
    v1::ShardDeltaResponse response;
  };
  auto call = std::make_shared<Call>();
  call->context.set_deadline(std::chrono::system_clock::now() + 10 * timeout_);
  call->request.set_collection(request.collection);
  call->request.set_shard(request.shard);
  call->request.set_signature(request.signature);
  stub->second->async()->FetchShardDelta(
      &call->context, &call->request, &call->response,
      [loop = &loop_, call, region, done = std::move(done)](grpc::Status status) mutable {
        node::ShardDeltaResponse r;
        r.served_by = region;
        if (status.ok()) {
          r.delta = std::move(*call->response.mutable_delta());
          r.digest_root = call->response.digest_root();
          r.snapshot_bytes = call->response.snapshot_bytes();
          r.stable_frontier = call->response.stable_frontier();
        } else {
          r.status = from_grpc(status);
        }
        loop->post([done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
      });
}

void GrpcPeers::fetch_shard_digest(const std::string& region,
                                   const node::ShardDigestRequest& request,
                                   std::function<void(node::ShardDigestResponse)> done) {
  auto stub = stubs_.find(region);
  if (stub == stubs_.end()) {
    loop_.post([done = std::move(done), region] {
      node::ShardDigestResponse r;
      r.status = Status::unavailable("no gRPC address configured for region '" + region + "'");
      done(std::move(r));
    });
    return;
  }
  struct Call {
    grpc::ClientContext context;
    v1::ShardDigestRequest request;
    v1::ShardDigestResponse response;
  };
  auto call = std::make_shared<Call>();
  call->context.set_deadline(std::chrono::system_clock::now() + timeout_);
  call->request.set_collection(request.collection);
  call->request.set_shard(request.shard);
  call->request.set_stable_frontier(request.stable_frontier);
  call->request.set_version_vector(request.version_vector);
  stub->second->async()->FetchShardDigest(
      &call->context, &call->request, &call->response,
      [loop = &loop_, call, region, done = std::move(done)](grpc::Status status) mutable {
        node::ShardDigestResponse r;
        r.served_by = region;
        if (status.ok()) {
          r.version_vector = std::move(*call->response.mutable_version_vector());
          r.digest_root = call->response.digest_root();
          r.stable_frontier = call->response.stable_frontier();
        } else {
          r.status = from_grpc(status);
        }
        loop->post([done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
      });
}

}  // namespace meridian::real::api
