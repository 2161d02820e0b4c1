#include "tests/integration/real_clients.h"

#include <grpcpp/client_context.h>

#include <cassert>
#include <chrono>
#include <memory>
#include <utility>

#include "engine/real/api/proto_mapping.h"
#include "engine/real/api/status_map.h"

namespace meridian::itest {

namespace {

// One asynchronous unary call: context, request and response live until the callback has run.
template <typename Request, typename Response>
struct Call {
  grpc::ClientContext context;
  Request request;
  Response response;
};

// A write call whose request names the collection and vector id of `w`.
template <typename Request>
std::shared_ptr<Call<Request, v1::WriteResponse>> write_call(const node::WriteRequest& w) {
  auto call = std::make_shared<Call<Request, v1::WriteResponse>>();
  call->request.set_collection(w.collection);
  call->request.set_id(w.vector_id);
  return call;
}

void fill_payload(const Payload& in, v1::Payload* out) {
  for (const auto& [key, value] : in.fields) (*out->mutable_fields())[key] = value;
  for (const std::string& tag : in.tags) out->add_tags(tag);
}

node::WriteResponse write_response(const grpc::Status& status, const v1::WriteResponse& r) {
  node::WriteResponse out;
  if (!status.ok()) {
    out.status = real::api::from_grpc(status);
    return out;
  }
  out.origin = RegionId(r.origin());
  out.shard = r.shard();
  out.sequence = r.sequence();
  out.timestamp = r.timestamp();
  return out;
}

// The stub's asynchronous write methods (each has a callback and a reactor overload, so they are
// named through lambdas).
constexpr auto kUpsert = [](auto* async, auto... args) { async->Upsert(std::move(args)...); };
constexpr auto kDelete = [](auto* async, auto... args) { async->Delete(std::move(args)...); };
constexpr auto kPatch = [](auto* async, auto... args) { async->PatchPayload(std::move(args)...); };

}  // namespace

RealClients::RealClients(const sim::Scenario& scenario, uint64_t seed, real::EventLoop& loop,
                         std::vector<v1::Meridian::Stub*> stubs)
    : scenario_(scenario), seed_(seed), loop_(loop), stubs_(std::move(stubs)) {
  assert(stubs_.size() == scenario_.regions.size());
}

void RealClients::at(sim::TimeNs at, std::function<void()> fn) {
  loop_.after(at - now(), std::move(fn));  // a negative delay runs it at the next iteration
}

// Sends `call` with `method(stub->async(), context, request, response, callback)` and hands the
// outcome, translated by `translate` on the gRPC thread, to `done` on the loop.
template <typename C, typename Method, typename Translate, typename Done>
void send(real::EventLoop& loop, std::atomic<uint64_t>& in_flight, v1::Meridian::Stub* stub,
          std::shared_ptr<C> call, sim::TimeNs timeout_ns, Method method, Translate translate,
          Done done) {
  call->context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::nanoseconds(timeout_ns));
  ++in_flight;
  method(stub->async(), &call->context, &call->request, &call->response,
         [&loop, &in_flight, call, translate = std::move(translate),
          done = std::move(done)](grpc::Status status) mutable {
           auto answer = translate(status, call->response);
           loop.post([&in_flight, done = std::move(done), answer = std::move(answer)]() mutable {
             done(std::move(answer));
             --in_flight;
           });
         });
}

void RealClients::client_write(sim::RegionIndex, sim::RegionIndex target,
                               node::WriteRequest request,
                               std::function<void(node::WriteResponse)> done) {
  auto send_write = [&](auto call, auto method) {
    send(loop_, in_flight_, stubs_.at(target), std::move(call),
         scenario_.workload.request_timeout_ns, method, write_response, std::move(done));
  };
  switch (request.op) {
    case Op::kUpsert: {
      auto call = write_call<v1::UpsertRequest>(request);
      call->request.mutable_embedding()->Add(request.embedding.begin(), request.embedding.end());
      fill_payload(request.payload, call->request.mutable_payload());
      send_write(std::move(call), kUpsert);
      return;
    }
    case Op::kDelete: send_write(write_call<v1::DeleteRequest>(request), kDelete); return;
    case Op::kPatch: {
      auto call = write_call<v1::PatchPayloadRequest>(request);
      for (const auto& [key, value] : request.payload.fields) {
        (*call->request.mutable_set_fields())[key] = value;
      }
      for (const std::string& tag : request.payload.tags) call->request.add_add_tags(tag);
      for (const std::string& field : request.unset_fields) call->request.add_unset_fields(field);
      for (const std::string& tag : request.removed_tags) call->request.add_remove_tags(tag);
      send_write(std::move(call), kPatch);
      return;
    }
  }
  assert(false && "unknown write op");
}

void RealClients::client_search(sim::RegionIndex, sim::RegionIndex target,
                                node::SearchRequest request, bool,
                                std::function<void(node::SearchResponse)> done) {
  auto call = std::make_shared<Call<v1::SearchRequest, v1::SearchResponse>>();
  real::api::to_proto(request, &call->request);
  send(
      loop_, in_flight_, stubs_.at(target), call, scenario_.workload.request_timeout_ns,
      [](auto* async, auto... args) { async->Search(std::move(args)...); },
      [](const grpc::Status& status, const v1::SearchResponse& r) {
        if (status.ok()) return real::api::from_proto(r);
        node::SearchResponse failed;
        failed.status = real::api::from_grpc(status);
        return failed;
      },
      std::move(done));
}

}  // namespace meridian::itest
