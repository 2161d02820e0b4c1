#include "engine/real/api/json_mapping.h"

#include <cmath>
#include <initializer_list>
#include <string_view>

#include "engine/core/vector_index.h"
#include "engine/real/api/proto_mapping.h"

namespace meridian::real::api {

using nlohmann::json;

namespace {

Status check_keys(const json& object, std::initializer_list<std::string_view> allowed,
                  const std::string& where) {
  for (const auto& [key, value] : object.items()) {
    bool ok = false;
    for (std::string_view a : allowed) ok |= key == a;
    if (!ok) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return Status::invalid_argument(where + "unknown field '" + key + "' (allowed: " + list +
                                      ")");
    }
  }
  return Status::ok();
}

Status get_string(const json& object, const char* key, bool required, std::string* out) {
  auto it = object.find(key);
  if (it == object.end()) {
    return required ? Status::invalid_argument(std::string(key) + ": missing") : Status::ok();
  }
  if (!it->is_string()) return Status::invalid_argument(std::string(key) + ": must be a string");
  *out = it->get<std::string>();
  return Status::ok();
}

Status get_floats(const json& object, const char* key, std::vector<float>* out) {
  auto it = object.find(key);
  if (it == object.end()) return Status::invalid_argument(std::string(key) + ": missing");
  if (!it->is_array()) {
    return Status::invalid_argument(std::string(key) + ": must be an array of numbers");
  }
  if (it->size() > kMaxDimension) {
    return Status::too_large(std::string(key) + ": has " + std::to_string(it->size()) +
                             " numbers; the limit is " + std::to_string(kMaxDimension));
  }
  out->reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const json& v = (*it)[i];
    if (!v.is_number()) {
      return Status::invalid_argument(std::string(key) + "[" + std::to_string(i) +
                                      "]: must be a number");
    }
    out->push_back(float(v.get<double>()));  // out of float range becomes inf: rejected later
  }
  return Status::ok();
}

Status get_string_set(const json& object, const char* key, std::set<std::string>* out) {
  auto it = object.find(key);
  if (it == object.end()) return Status::ok();
  if (!it->is_array()) {
    return Status::invalid_argument(std::string(key) + ": must be an array of strings");
  }
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string()) {
      return Status::invalid_argument(std::string(key) + "[" + std::to_string(i) +
                                      "]: must be a string");
    }
    out->insert((*it)[i].get<std::string>());
  }
  return Status::ok();
}

Status get_string_map(const json& object, const char* key,
                      std::map<std::string, std::string>* out) {
  auto it = object.find(key);
  if (it == object.end()) return Status::ok();
  if (!it->is_object()) {
    return Status::invalid_argument(std::string(key) + ": must be an object of strings");
  }
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) {
      return Status::invalid_argument(std::string(key) + "." + k + ": must be a string");
    }
    (*out)[k] = v.get<std::string>();
  }
  return Status::ok();
}

Status get_session(const json& object, node::SessionToken* out) {
  std::string text;
  if (Status s = get_string(object, "session_token", false, &text); !s.is_ok()) return s;
  Result<node::SessionToken> token = parse_session_token(text);
  if (!token.is_ok()) return Status::invalid_argument("session_token: " + token.status().message());
  *out = std::move(token).value();
  return Status::ok();
}

json payload_json(const Payload& p) { return json{{"fields", p.fields}, {"tags", p.tags}}; }

const char* consistency_json(node::Consistency c) { return node::consistency_name(c); }

json staleness_json(const std::vector<OriginStaleness>& list) {
  json out = json::array();
  for (const OriginStaleness& o : list) {
    out.push_back(
        {{"region", o.region}, {"region_id", o.id}, {"staleness_ms", to_ms_ceil(o.staleness)}});
  }
  return out;
}

// Every engine counter (node_counters.h) under its own name.
json counters_json(const node::NodeCounters& counters) {
  json out = json::object();
  for (const node::NodeCounterField& f : node::kNodeCounterFields) out[f.name] = counters.*f.member;
  return out;
}

}  // namespace

Result<json> parse_json_object(const std::string& body) {
  json parsed;
  try {
    parsed = json::parse(body);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
    return Status::invalid_argument(std::string("malformed JSON: ") + e.what());
  }
  if (!parsed.is_object())
    return Status::invalid_argument("malformed JSON: body must be an object");
  return parsed;
}

namespace {

// id, embedding and payload of an upsert (a single upsert's body, or one item of a batch).
Status upsert_fields_from_json(const json& body, const std::string& collection,
                               node::WriteRequest* out) {
  out->op = Op::kUpsert;
  out->collection = collection;
  if (Status s = get_string(body, "id", true, &out->vector_id); !s.is_ok()) return s;
  if (Status s = get_floats(body, "embedding", &out->embedding); !s.is_ok()) return s;
  if (auto p = body.find("payload"); p != body.end()) {
    if (!p->is_object()) return Status::invalid_argument("payload: must be an object");
    if (Status s = check_keys(*p, {"fields", "tags"}, "payload: "); !s.is_ok()) return s;
    if (Status s = get_string_map(*p, "fields", &out->payload.fields); !s.is_ok()) {
      return Status::invalid_argument("payload." + s.message());
    }
    if (Status s = get_string_set(*p, "tags", &out->payload.tags); !s.is_ok()) {
      return Status::invalid_argument("payload." + s.message());
    }
  }
  return Status::ok();
}

}  // namespace

Status upsert_from_json(const json& body, const std::string& collection, node::WriteRequest* out,
                        node::SessionToken* session) {
  if (Status s = check_keys(body, {"id", "embedding", "payload", "session_token"}, "");
      !s.is_ok()) {
    return s;
  }
  if (Status s = upsert_fields_from_json(body, collection, out); !s.is_ok()) return s;
  return get_session(body, session);
}

Status upsert_batch_from_json(const json& body, const std::string& collection,
                              std::vector<node::WriteRequest>* out, node::SessionToken* session) {
  if (Status s = check_keys(body, {"items", "session_token"}, ""); !s.is_ok()) return s;
  auto items = body.find("items");
  if (items == body.end()) return Status::invalid_argument("items: missing");
  if (!items->is_array()) return Status::invalid_argument("items: must be an array of objects");
  if (items->size() > kMaxBatchItems) {
    return Status::too_large("items: " + std::to_string(items->size()) + " items; the limit is " +
                             std::to_string(kMaxBatchItems));
  }
  out->resize(items->size());
  for (size_t i = 0; i < items->size(); ++i) {
    const std::string item = "items[" + std::to_string(i) + "]";
    if (!(*items)[i].is_object()) return Status::invalid_argument(item + ": must be an object");
    if (Status s = check_keys((*items)[i], {"id", "embedding", "payload"}, item + ": ");
        !s.is_ok()) {
      return s;
    }
    if (Status s = upsert_fields_from_json((*items)[i], collection, &(*out)[i]); !s.is_ok()) {
      return Status(s.code(), item + "." + s.message());
    }
  }
  return get_session(body, session);
}

Status patch_from_json(const json& body, const std::string& collection, const std::string& id,
                       node::WriteRequest* out, node::SessionToken* session) {
  if (Status s = check_keys(body, {"set", "add_tags", "unset", "remove_tags", "session_token"}, "");
      !s.is_ok()) {
    return s;
  }
  out->op = Op::kPatch;
  out->collection = collection;
  out->vector_id = id;
  if (Status s = get_string_map(body, "set", &out->payload.fields); !s.is_ok()) return s;
  if (Status s = get_string_set(body, "add_tags", &out->payload.tags); !s.is_ok()) return s;
  if (Status s = get_string_set(body, "unset", &out->unset_fields); !s.is_ok()) return s;
  if (Status s = get_string_set(body, "remove_tags", &out->removed_tags); !s.is_ok()) return s;
  return get_session(body, session);
}

Status search_from_json(const json& body, const std::string& collection, node::SearchRequest* out) {
  if (Status s = check_keys(
          body, {"query", "k", "tag", "consistency", "session_token", "max_staleness_ms"}, "");
      !s.is_ok()) {
    return s;
  }
  out->collection = collection;
  if (Status s = get_floats(body, "query", &out->query); !s.is_ok()) return s;
  if (auto k = body.find("k"); k != body.end()) {
    if (!k->is_number_unsigned() || k->get<uint64_t>() < 1 || k->get<uint64_t>() > kMaxSearchK) {
      return Status::invalid_argument("k: must be an integer in 1.." + std::to_string(kMaxSearchK));
    }
    out->k = uint32_t(k->get<uint64_t>());
  }
  if (body.contains("tag")) {
    std::string tag;
    if (Status s = get_string(body, "tag", false, &tag); !s.is_ok()) return s;
    out->tag = std::move(tag);
  }
  std::string consistency = "eventual";
  if (Status s = get_string(body, "consistency", false, &consistency); !s.is_ok()) return s;
  if (consistency == "eventual") {
    out->consistency = node::Consistency::kEventual;
  } else if (consistency == "session") {
    out->consistency = node::Consistency::kSession;
  } else if (consistency == "bounded") {
    out->consistency = node::Consistency::kBounded;
  } else {
    return Status::invalid_argument("consistency: '" + consistency +
                                    "' is not one of eventual, session, bounded");
  }
  if (auto m = body.find("max_staleness_ms"); m != body.end()) {
    if (!m->is_number_unsigned() ||
        m->get<uint64_t>() > uint64_t(kMaxBoundedStaleness / env::kMillisecond)) {
      return Status::invalid_argument("max_staleness_ms: must be an integer in 1..86400000");
    }
    out->max_staleness = env::TimeNs(m->get<uint64_t>()) * env::kMillisecond;
  }
  if (out->consistency == node::Consistency::kBounded && !body.contains("max_staleness_ms")) {
    return Status::invalid_argument("max_staleness_ms: required with consistency 'bounded'");
  }
  return get_session(body, &out->session);
}

json to_json(const WriteResult& result) {
  const node::WriteResponse& r = result.response;
  return json{{"origin", r.origin},
              {"shard", r.shard},
              {"sequence", r.sequence},
              {"timestamp", r.timestamp},
              {"session_token", encode_session_token(result.session)}};
}

json to_json(const BatchWriteResult& result) {
  json acks = json::array();
  for (const node::WriteResponse& r : result.items) {
    acks.push_back({{"shard", r.shard}, {"sequence", r.sequence}, {"timestamp", r.timestamp}});
  }
  return json{{"origin", result.origin},
              {"acks", std::move(acks)},
              {"session_token", encode_session_token(result.session)}};
}

json to_json(const VectorView& view, const std::string& id) {
  return json{{"id", id},
              {"embedding", view.embedding},
              {"payload", payload_json(view.payload)},
              {"timestamp", view.stamp.timestamp},
              {"origin", view.stamp.region}};
}

json to_json(const SearchResult& result) {
  const node::SearchResponse& r = result.response;
  json hits = json::array();
  for (const SearchHit& h : r.hits) {
    hits.push_back({{"id", h.id}, {"score", h.score}, {"payload", payload_json(h.payload)}});
  }
  return json{{"hits", std::move(hits)},
              {"served_by", r.served_by},
              {"forwarded", r.forwarded},
              {"stale", r.stale},
              {"session_satisfied", r.session_satisfied},
              {"staleness_ms", to_ms_ceil(r.staleness)},
              {"staleness_per_origin", staleness_json(result.per_origin)},
              {"guarantee_met", consistency_json(result.guarantee_met)}};
}

json to_json(const NodeStatus& s) {
  json alerts = json::array();
  for (const node::RegionNode::LagAlert& a : s.lag_alerts) {
    alerts.push_back({{"collection", a.collection},
                      {"origin", a.origin},
                      {"shard", a.shard},
                      {"behind_ms", a.behind_for / env::kMillisecond}});
  }
  json collections = json::array();
  for (const CollectionStatus& cs : s.collections) {
    json shards = json::array();
    for (const ShardStatus& ss : cs.shards) {
      json origins = json::array();
      for (const OriginProgress& p : ss.origins) {
        origins.push_back({{"origin", p.origin},
                           {"region", p.region},
                           {"frontier", p.frontier},
                           {"max_sequence", p.max_sequence},
                           {"consumed_offset", p.consumed_offset},
                           {"end_offset", p.end_offset},
                           {"backlog", p.backlog()}});
      }
      shards.push_back({{"shard", ss.shard},
                        {"live_vectors", ss.live_vectors},
                        {"writes_accepted_here", ss.writes_accepted_here},
                        {"origins", std::move(origins)}});
    }
    collections.push_back({{"name", cs.config.name},
                           {"dimension", cs.config.index.dimension},
                           {"metric", metric_name(cs.config.index.metric)},
                           {"index", index_kind_name(cs.config.index.kind)},
                           {"num_shards", cs.config.num_shards},
                           {"live_vectors", cs.live_vectors},
                           {"shards", std::move(shards)}});
  }
  return json{{"region", s.self.name},
              {"region_id", s.self.id},
              {"recovered", s.recovered},
              {"writes_stopped", s.writes_stopped},
              {"writer_epoch", s.writer_epoch},
              {"max_staleness_ms", to_ms_ceil(s.max_staleness)},
              {"staleness", staleness_json(s.staleness)},
              {"pending_writes", s.pending_writes},
              {"counters", counters_json(s.counters)},
              {"lag_alerts", std::move(alerts)},
              {"collections", std::move(collections)}};
}

json error_json(const std::string& code, const std::string& message) {
  return json{{"error", {{"code", code}, {"message", message}}}};
}

}  // namespace meridian::real::api
