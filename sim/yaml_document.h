// Reading exactly one YAML document, safely. Internal to sim/ (the scenario loader).
//
// yaml-cpp 0.7's LoadAll loops forever, allocating, on a stray ',' outside a flow collection
// (jbeder/yaml-cpp#1040; fixed in 0.8.0 by #1319): its parser keeps reporting an empty document
// without consuming the token. So the loader never calls LoadAll: multiple_documents walks at
// most two documents with the event parser to reject a second one, then the loader reads the
// first with YAML::Load, which parses exactly one.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace meridian::sim::scenario_detail {

// Why `text` is not a single document (line, message), or nullopt. Syntax errors in the first
// two documents throw YAML::ParserException.
std::optional<std::pair<int, std::string>> multiple_documents(const std::string& text);

}  // namespace meridian::sim::scenario_detail
