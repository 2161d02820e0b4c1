// Terse builders for mutations in unit tests.
#pragma once

#include <string>
#include <vector>

#include "engine/core/mutation.h"

namespace meridian::testing {

inline Mutation upsert(std::string id, std::vector<float> embedding, uint64_t ts, RegionId region,
                       uint64_t seq, Payload payload = {}, std::string collection = "c") {
  Mutation m;
  m.op = Op::kUpsert;
  m.collection = std::move(collection);
  m.vector_id = std::move(id);
  m.embedding = std::move(embedding);
  m.payload = std::move(payload);
  m.timestamp = ts;
  m.origin_region = region;
  m.origin_sequence = seq;
  return m;
}

inline Mutation erase(std::string id, uint64_t ts, RegionId region, uint64_t seq,
                      std::string collection = "c") {
  Mutation m;
  m.op = Op::kDelete;
  m.collection = std::move(collection);
  m.vector_id = std::move(id);
  m.timestamp = ts;
  m.origin_region = region;
  m.origin_sequence = seq;
  return m;
}

inline Mutation patch(std::string id, Payload set, std::set<std::string> unset_fields,
                      std::set<std::string> removed_tags, uint64_t ts, RegionId region,
                      uint64_t seq, std::string collection = "c") {
  Mutation m;
  m.op = Op::kPatch;
  m.collection = std::move(collection);
  m.vector_id = std::move(id);
  m.payload = std::move(set);
  m.unset_fields = std::move(unset_fields);
  m.removed_tags = std::move(removed_tags);
  m.timestamp = ts;
  m.origin_region = region;
  m.origin_sequence = seq;
  return m;
}

}  // namespace meridian::testing
