// RapidCheck generator for mutation *histories*: what a set of regions could really have written.
//
// gen_mutation() draws independent mutations; a history must also respect what origins promise:
// each origin's timestamps strictly increase (its HLC is monotonic), so no two writes share a
// (timestamp, region) stamp, and each origin numbers its writes per shard 1, 2, 3, ... so an
// (origin, shard, sequence) names exactly one write. Timestamps are drawn from a small range so
// that different regions often tie on timestamp and the region tie-break is exercised.
#pragma once

#include <map>
#include <tuple>
#include <vector>

#include "engine/core/mutation_gen.h"
#include "engine/core/routing.h"

namespace meridian {

struct HistoryGenOptions {
  std::string collection = "c";
  size_t dimension = 4;
  uint32_t num_shards = 1;  // sequences are numbered per (origin, shard_of(id, num_shards))
  uint32_t regions = 3;
  size_t max_length = 60;
  std::vector<std::string> ids = {"a", "b", "c", "d", "e", "f"};
  // Coordinates in [-coordinate_range, coordinate_range]; moderate so distances stay finite.
  int coordinate_range = 8;
};

inline rc::Gen<std::vector<Mutation>> gen_history(HistoryGenOptions o = {}) {
  return rc::gen::exec([o] {
    MutationGenOptions mo;
    mo.collection = o.collection;
    mo.dimension = o.dimension;
    mo.id_pool = o.ids;
    mo.region_count = o.regions;
    mo.max_timestamp = 6;
    mo.field_name_pool = {"lang", "owner", "ttl"};
    mo.tag_pool = {"red", "green", "blue"};
    mo.max_entries_per_section = 2;
    const size_t n = *gen_detail::uniform_in<size_t>(0, o.max_length);
    std::vector<Mutation> history;
    std::map<RegionId, uint64_t> last_timestamp;
    std::map<std::pair<RegionId, uint32_t>, uint64_t> last_sequence;
    while (history.size() < n) {
      Mutation m = *gen_mutation(mo);
      for (float& x : m.embedding) {
        x = float(*gen_detail::uniform_in<int>(-o.coordinate_range, o.coordinate_range));
      }
      // The origin's clock: at least one past its previous write.
      uint64_t& last = last_timestamp[m.origin_region];
      m.timestamp = std::max(m.timestamp, last + 1);
      last = m.timestamp;
      const uint32_t shard = shard_of(m.vector_id, o.num_shards);
      m.origin_sequence = ++last_sequence[{m.origin_region, shard}];
      history.push_back(std::move(m));
    }
    return history;
  });
}

// A delivery of `history`: every mutation at least once, some several times, in random order.
inline rc::Gen<std::vector<Mutation>> gen_delivery(const std::vector<Mutation>& history) {
  return rc::gen::exec([history] {
    std::vector<Mutation> out = history;
    if (!history.empty()) {
      const size_t extra = *gen_detail::uniform_in<size_t>(0, history.size());
      for (size_t i = 0; i < extra; ++i) {
        out.push_back(history[*gen_detail::uniform_in<size_t>(0, history.size() - 1)]);
      }
    }
    // Fisher-Yates with RapidCheck-drawn indexes, so a failing order shrinks and replays.
    for (size_t i = out.size(); i > 1; --i) {
      std::swap(out[i - 1], out[*gen_detail::uniform_in<size_t>(0, i - 1)]);
    }
    return out;
  });
}

}  // namespace meridian
