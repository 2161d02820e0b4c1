// The client side of the Meridian gRPC service: channels over mutual TLS (for tests and tools),
// and GrpcPeers, the region node's node::Peers over gRPC.
#pragma once

#include <grpcpp/channel.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "engine/node/node_env.h"
#include "engine/real/api/tls.h"
#include "engine/real/event_loop.h"
#include "proto/meridian.grpc.pb.h"

namespace meridian::real::api {

// A channel to `address` that presents `pem`'s certificate and verifies the server's against
// `pem`'s CA. `server_name`, if not empty, is the name checked in the server's certificate
// instead of the host in `address`.
std::shared_ptr<grpc::Channel> make_channel(const std::string& address, const TlsPem& pem,
                                            const std::string& server_name = "");
std::unique_ptr<v1::Meridian::Stub> make_stub(const std::string& address, const TlsPem& pem,
                                              const std::string& server_name = "");

// Forwards searches to peer regions (RegionNode's read repair and bounded-read fallback) with
// the Search RPC, no_forward set. Calls are asynchronous (gRPC's callback API); the answer is
// posted back onto the node's loop, so `done` runs on the engine's thread as node::Peers
// requires. A call fails (unavailable) after `timeout`, when the region is unknown, or when the
// peer answers with an error.
class GrpcPeers final : public node::Peers {
 public:
  // `addresses`: region name -> gRPC address of that region's node. Channels connect lazily.
  GrpcPeers(EventLoop& loop, std::map<std::string, std::string> addresses, TlsPem pem,
            std::string server_name, std::chrono::milliseconds timeout);
  void forward_search(const std::string& region, const node::SearchRequest& request,
                      std::function<void(node::SearchResponse)> done) override;
  // FetchShardDelta, with a longer deadline (a delta can be megabytes): 10 x timeout.
  void fetch_shard_delta(const std::string& region, const node::ShardDeltaRequest& request,
                         std::function<void(node::ShardDeltaResponse)> done) override;
  void fetch_shard_digest(const std::string& region, const node::ShardDigestRequest& request,
                          std::function<void(node::ShardDigestResponse)> done) override;

 private:
  EventLoop& loop_;
  std::chrono::milliseconds timeout_;
  std::map<std::string, std::unique_ptr<v1::Meridian::Stub>> stubs_;
};

}  // namespace meridian::real::api
