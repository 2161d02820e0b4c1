// NodeService::write_batch (UpsertBatch): many upserts in one call. What it saves against one
// Upsert per vector is per-call work, not per-write work: one RPC (one HTTP/2 stream, one TLS
// record train), one hop onto the loop and one reply for the lot. Each item is still its own
// write with its own timestamp, sequence and log record, acknowledged by the broker like any
// other, so a batch means exactly what the same upserts sent one by one in that order mean.
#include <memory>
#include <string>
#include <utility>

#include "engine/real/api/node_service.h"

namespace meridian::real::api {

namespace {

std::string item_name(size_t i, const std::string& vector_id) {
  constexpr size_t kShownIdBytes = 64;
  std::string id = vector_id.substr(0, kShownIdBytes);
  if (vector_id.size() > kShownIdBytes) id += "...";
  return "items[" + std::to_string(i) + "] (id '" + id + "')";
}

}  // namespace

Status NodeService::check_batch(const std::vector<node::WriteRequest>& items,
                                const node::SessionToken& session) const {
  if (items.empty()) {
    return Status::invalid_argument("items: empty; a batch has 1.." +
                                    std::to_string(kMaxBatchItems) + " items");
  }
  if (items.size() > kMaxBatchItems) {
    return Status::too_large("items: " + std::to_string(items.size()) + " items; the limit is " +
                             std::to_string(kMaxBatchItems));
  }
  const std::string& name = items.front().collection;
  const CollectionConfig* config = collection(name);
  if (config == nullptr) return Status::not_found("no collection '" + name + "'");
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].op != Op::kUpsert) {
      return Status::invalid_argument(item_name(i, items[i].vector_id) +
                                      ": only upserts can be batched");
    }
    if (items[i].collection != name) {
      return Status::invalid_argument(item_name(i, items[i].vector_id) + ": collection '" +
                                      items[i].collection + "' differs from the batch's '" + name +
                                      "'");
    }
    if (Status s = check_write(items[i], {}); !s.is_ok()) {
      return Status(s.code(), item_name(i, items[i].vector_id) + ": " + s.message());
    }
  }
  return check_session(*config, session);
}

void NodeService::write_batch(std::vector<node::WriteRequest> items, node::SessionToken session,
                              std::function<void(BatchWriteResult)> done) {
  // Shared by the items' callbacks, which all run on the loop thread (RegionNode answers there,
  // synchronously for a write it refuses), so it needs no lock.
  struct Pending {
    BatchWriteResult result;
    size_t unanswered = 0;
    std::vector<std::string> ids;  // for the failure message
    std::function<void(BatchWriteResult)> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->result.origin = self_.id;
  pending->result.session = std::move(session);
  pending->done = std::move(done);
  if (Status s = check_batch(items, pending->result.session); !s.is_ok()) {
    pending->result.status = std::move(s);
    pending->done(std::move(pending->result));
    return;
  }
  pending->unanswered = items.size();
  pending->result.items.resize(items.size());
  pending->ids.reserve(items.size());
  for (const node::WriteRequest& item : items) pending->ids.push_back(item.vector_id);

  const bool posted = hop([this, items = std::move(items), pending]() mutable {
    for (size_t i = 0; i < items.size(); ++i) {
      node_.write(std::move(items[i]), [pending, i](node::WriteResponse r) {
        BatchWriteResult& result = pending->result;
        if (r.status.is_ok()) {
          result.session.observe(r);
          ++result.acknowledged;
        }
        result.items[i] = std::move(r);
        if (--pending->unanswered > 0) return;
        for (size_t j = 0; j < result.items.size(); ++j) {
          const Status& s = result.items[j].status;
          if (s.is_ok()) continue;
          result.status =
              Status(s.code(), item_name(j, pending->ids[j]) + " not acknowledged: " + s.message() +
                                   "; " + std::to_string(result.acknowledged) + " of " +
                                   std::to_string(result.items.size()) + " items acknowledged");
          break;
        }
        pending->done(std::move(result));
      });
    }
  });
  if (!posted) {
    pending->result.items.clear();
    pending->result.status = Status::unavailable("node is shutting down");
    pending->done(std::move(pending->result));
  }
}

}  // namespace meridian::real::api
