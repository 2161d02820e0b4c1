#include "engine/node/coverage.h"

namespace meridian {

std::map<std::string, uint64_t>& Coverage::counts() {
  static std::map<std::string, uint64_t> counts;
  return counts;
}

uint64_t Coverage::count(const std::string& name) {
  auto it = counts().find(name);
  return it == counts().end() ? 0 : it->second;
}

}  // namespace meridian
