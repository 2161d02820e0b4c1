#include "engine/core/routing.h"

#include <murmurhash.h>

#include <limits>
#include <string>

namespace meridian {

uint32_t murmur3_32(std::string_view bytes, uint32_t seed) {
  assert(bytes.size() <= std::numeric_limits<unsigned int>::max());
  uint32_t out[1];
  // An empty string_view may carry a null pointer; hand the library a valid one regardless.
  const char* data = bytes.empty() ? "" : bytes.data();
  lmmh_x86_32(data, static_cast<unsigned int>(bytes.size()), seed, out);
  return out[0];
}

Status validate_num_shards(uint64_t num_shards) {
  if (num_shards == 0) {
    return Status::invalid_argument("num_shards must be at least 1 (allowed range 1.." +
                                    std::to_string(kMaxShards) + "), got 0");
  }
  if (num_shards > kMaxShards) {
    return Status::too_large("num_shards " + std::to_string(num_shards) + " exceeds the limit of " +
                             std::to_string(kMaxShards) + " (allowed range 1.." +
                             std::to_string(kMaxShards) + ")");
  }
  return Status::ok();
}

}  // namespace meridian
