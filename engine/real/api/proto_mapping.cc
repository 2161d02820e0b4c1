#include "engine/real/api/proto_mapping.h"

#include <google/protobuf/descriptor.h>

#include "engine/core/vector_index.h"

namespace meridian::real::api {

namespace {

void payload_from_proto(const v1::Payload& in, Payload* out) {
  for (const auto& [k, v] : in.fields()) out->fields[k] = v;
  out->tags.insert(in.tags().begin(), in.tags().end());
}

void payload_to_proto(const Payload& in, v1::Payload* out) {
  for (const auto& [k, v] : in.fields) (*out->mutable_fields())[k] = v;
  for (const std::string& t : in.tags) out->add_tags(t);
}

v1::Consistency consistency_to_proto(node::Consistency c) {
  switch (c) {
    case node::Consistency::kEventual: return v1::CONSISTENCY_EVENTUAL;
    case node::Consistency::kSession: return v1::CONSISTENCY_SESSION;
    case node::Consistency::kBounded: return v1::CONSISTENCY_BOUNDED;
  }
  return v1::CONSISTENCY_UNSPECIFIED;
}

void staleness_to_proto(const OriginStaleness& in, v1::OriginStaleness* out) {
  out->set_region(in.region);
  out->set_region_id(in.id);
  out->set_staleness_ms(to_ms_ceil(in.staleness));
}

// Every engine counter (node_counters.h) into the proto field of the same name, by reflection:
// the list is written out once, in node_counters.h. proto_mapping_test checks that every
// counter has its field, so the skip below never drops one in a tested build.
void counters_to_proto(const node::NodeCounters& in, v1::NodeCounters* out) {
  const google::protobuf::Descriptor* descriptor = out->GetDescriptor();
  const google::protobuf::Reflection* reflection = out->GetReflection();
  for (const node::NodeCounterField& f : node::kNodeCounterFields) {
    const google::protobuf::FieldDescriptor* field = descriptor->FindFieldByName(f.name);
    if (field == nullptr ||
        field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_UINT64) {
      continue;
    }
    reflection->SetUInt64(out, field, in.*f.member);
  }
}

}  // namespace

uint64_t to_ms_ceil(env::TimeNs ns) {
  if (ns <= 0) return 0;
  return uint64_t((ns + env::kMillisecond - 1) / env::kMillisecond);
}

Status from_proto(const v1::SessionToken& in, node::SessionToken* out) {
  if (size_t(in.entries_size()) > kMaxSessionEntries) {
    return Status::invalid_argument("session has more than " + std::to_string(kMaxSessionEntries) +
                                    " entries");
  }
  for (const v1::SessionToken::Entry& e : in.entries()) {
    if (e.origin() > 0xFFFF) {
      return Status::invalid_argument("session entry origin " + std::to_string(e.origin()) +
                                      " is not a region id (0..65535)");
    }
    node::WriteResponse w;
    w.shard = e.shard();
    w.origin = RegionId(e.origin());
    w.sequence = e.sequence();
    out->observe(w);
  }
  return Status::ok();
}

void to_proto(const node::SessionToken& in, v1::SessionToken* out) {
  for (const auto& [key, sequence] : in.entries()) {
    v1::SessionToken::Entry* e = out->add_entries();
    e->set_shard(key.first);
    e->set_origin(key.second);
    e->set_sequence(sequence);
  }
}

Status from_proto(const v1::UpsertRequest& in, node::WriteRequest* out,
                  node::SessionToken* session) {
  out->op = Op::kUpsert;
  out->collection = in.collection();
  out->vector_id = in.id();
  out->embedding.assign(in.embedding().begin(), in.embedding().end());
  payload_from_proto(in.payload(), &out->payload);
  return from_proto(in.session(), session);
}

Status from_proto(const v1::UpsertBatchRequest& in, std::vector<node::WriteRequest>* out,
                  node::SessionToken* session) {
  out->resize(size_t(in.items_size()));
  for (int i = 0; i < in.items_size(); ++i) {
    const v1::UpsertBatchRequest::Item& item = in.items(i);
    node::WriteRequest& w = (*out)[size_t(i)];
    w.op = Op::kUpsert;
    w.collection = in.collection();
    w.vector_id = item.id();
    w.embedding.assign(item.embedding().begin(), item.embedding().end());
    payload_from_proto(item.payload(), &w.payload);
  }
  return from_proto(in.session(), session);
}

void to_proto(const BatchWriteResult& in, v1::UpsertBatchResponse* out) {
  out->set_origin(in.origin);
  out->mutable_acks()->Reserve(int(in.items.size()));
  for (const node::WriteResponse& r : in.items) {
    v1::UpsertBatchResponse::Ack* ack = out->add_acks();
    ack->set_shard(r.shard);
    ack->set_sequence(r.sequence);
    ack->set_timestamp(r.timestamp);
  }
  to_proto(in.session, out->mutable_session());
}

Status from_proto(const v1::DeleteRequest& in, node::WriteRequest* out,
                  node::SessionToken* session) {
  out->op = Op::kDelete;
  out->collection = in.collection();
  out->vector_id = in.id();
  return from_proto(in.session(), session);
}

Status from_proto(const v1::PatchPayloadRequest& in, node::WriteRequest* out,
                  node::SessionToken* session) {
  out->op = Op::kPatch;
  out->collection = in.collection();
  out->vector_id = in.id();
  for (const auto& [k, v] : in.set_fields()) out->payload.fields[k] = v;
  out->payload.tags.insert(in.add_tags().begin(), in.add_tags().end());
  out->unset_fields.insert(in.unset_fields().begin(), in.unset_fields().end());
  out->removed_tags.insert(in.remove_tags().begin(), in.remove_tags().end());
  return from_proto(in.session(), session);
}

void to_proto(const WriteResult& in, v1::WriteResponse* out) {
  out->set_origin(in.response.origin);
  out->set_shard(in.response.shard);
  out->set_sequence(in.response.sequence);
  out->set_timestamp(in.response.timestamp);
  to_proto(in.session, out->mutable_session());
}

void to_proto(const VectorView& in, const std::string& id, v1::GetResponse* out) {
  out->set_id(id);
  out->mutable_embedding()->Add(in.embedding.begin(), in.embedding.end());
  payload_to_proto(in.payload, out->mutable_payload());
  out->set_timestamp(in.stamp.timestamp);
  out->set_origin(in.stamp.region);
}

Status from_proto(const v1::SearchRequest& in, node::SearchRequest* out) {
  out->collection = in.collection();
  out->query.assign(in.query().begin(), in.query().end());
  out->k = in.k() == 0 ? 10 : in.k();
  if (in.has_tag()) out->tag = in.tag();
  switch (int(in.consistency())) {
    case v1::CONSISTENCY_UNSPECIFIED:
    case v1::CONSISTENCY_EVENTUAL: out->consistency = node::Consistency::kEventual; break;
    case v1::CONSISTENCY_SESSION: out->consistency = node::Consistency::kSession; break;
    case v1::CONSISTENCY_BOUNDED: out->consistency = node::Consistency::kBounded; break;
    default:
      return Status::invalid_argument("consistency " + std::to_string(int(in.consistency())) +
                                      " is not one of EVENTUAL, SESSION, BOUNDED");
  }
  if (in.max_staleness_ms() > uint64_t(kMaxBoundedStaleness / env::kMillisecond)) {
    return Status::invalid_argument("max_staleness_ms must be in 1..86400000");
  }
  out->max_staleness = env::TimeNs(in.max_staleness_ms()) * env::kMillisecond;
  out->may_forward = !in.no_forward();
  return from_proto(in.session(), &out->session);
}

void to_proto(const node::SearchRequest& in, v1::SearchRequest* out) {
  out->set_collection(in.collection);
  out->mutable_query()->Add(in.query.begin(), in.query.end());
  out->set_k(in.k);
  if (in.tag) out->set_tag(*in.tag);
  out->set_consistency(consistency_to_proto(in.consistency));
  to_proto(in.session, out->mutable_session());
  out->set_max_staleness_ms(to_ms_ceil(in.max_staleness));
  out->set_no_forward(!in.may_forward);
}

void to_proto(const SearchResult& in, v1::SearchResponse* out) {
  const node::SearchResponse& r = in.response;
  for (const SearchHit& hit : r.hits) {
    v1::SearchHit* h = out->add_hits();
    h->set_id(hit.id);
    h->set_score(hit.score);
    payload_to_proto(hit.payload, h->mutable_payload());
  }
  out->set_served_by(r.served_by);
  out->set_forwarded(r.forwarded);
  out->set_stale(r.stale);
  out->set_session_satisfied(r.session_satisfied);
  out->set_staleness_ms(to_ms_ceil(r.staleness));
  for (const OriginStaleness& o : in.per_origin) {
    staleness_to_proto(o, out->add_staleness_per_origin());
  }
  out->set_guarantee_met(consistency_to_proto(in.guarantee_met));
}

node::SearchResponse from_proto(const v1::SearchResponse& in) {
  node::SearchResponse r;
  for (const v1::SearchHit& h : in.hits()) {
    SearchHit hit;
    hit.id = h.id();
    hit.score = h.score();
    payload_from_proto(h.payload(), &hit.payload);
    r.hits.push_back(std::move(hit));
  }
  r.served_by = in.served_by();
  r.forwarded = in.forwarded();
  r.stale = in.stale();
  r.session_satisfied = in.session_satisfied();
  r.staleness = env::TimeNs(in.staleness_ms()) * env::kMillisecond;
  return r;
}

void to_proto(const NodeStatus& in, v1::NodeStatusResponse* out) {
  out->set_region(in.self.name);
  out->set_region_id(in.self.id);
  out->set_max_staleness_ms(to_ms_ceil(in.max_staleness));
  for (const OriginStaleness& o : in.staleness) staleness_to_proto(o, out->add_staleness());
  out->set_pending_writes(in.pending_writes);
  counters_to_proto(in.counters, out->mutable_counters());
  for (const node::RegionNode::LagAlert& a : in.lag_alerts) {
    v1::LagAlert* alert = out->add_lag_alerts();
    alert->set_collection(a.collection);
    alert->set_origin(a.origin);
    alert->set_shard(a.shard);
    alert->set_behind_ms(uint64_t(a.behind_for / env::kMillisecond));
  }
  out->set_recovered(in.recovered);
  out->set_writes_stopped(in.writes_stopped);
  out->set_writer_epoch(in.writer_epoch);
  for (const CollectionStatus& cs : in.collections) {
    v1::CollectionStatus* pc = out->add_collections();
    pc->set_name(cs.config.name);
    pc->set_dimension(cs.config.index.dimension);
    pc->set_metric(metric_name(cs.config.index.metric));
    pc->set_index(index_kind_name(cs.config.index.kind));
    pc->set_num_shards(cs.config.num_shards);
    pc->set_live_vectors(cs.live_vectors);
    for (const ShardStatus& ss : cs.shards) {
      v1::ShardStatus* ps = pc->add_shards();
      ps->set_shard(ss.shard);
      ps->set_live_vectors(ss.live_vectors);
      ps->set_writes_accepted_here(ss.writes_accepted_here);
      for (const OriginProgress& p : ss.origins) {
        v1::OriginProgress* pp = ps->add_origins();
        pp->set_origin(p.origin);
        pp->set_region(p.region);
        pp->set_frontier(p.frontier);
        pp->set_max_sequence(p.max_sequence);
        pp->set_consumed_offset(p.consumed_offset);
        pp->set_end_offset(p.end_offset);
        pp->set_backlog(p.backlog());
      }
    }
  }
}

}  // namespace meridian::real::api
