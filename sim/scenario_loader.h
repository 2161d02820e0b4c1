// Reads scenario files (YAML, schema in docs/scenarios.md) into sim::Scenario, strictly.
//
// Strict means a file either describes exactly one sensible scenario or is rejected with a
// message a person can act on. Every error is a kInvalidArgument (kNotFound for a missing file)
// whose message names the file, the 1-based line and the field path:
//
//   scenarios/x.yaml:14: faults[2].duration_s: must be > 0 (got 0)
//
// Rejected: YAML syntax errors, more than one YAML document, unknown keys (with a "did you
// mean" hint for near misses), duplicate keys, wrong types (a quoted "5" is a string, not a
// number; booleans are true/false), out-of-range values, missing required fields, references
// to undeclared regions or collections, duplicate region names or ids, a directed link given
// twice, region pairs with no link and no default_link, faults outside the faulty phase, and
// faults that contradict each other (two of a kind on the same target at the same time, a
// crash during an outage of the same region). A missing field's line is the line of the block
// that should contain it.
//
// Neither function throws or crashes on any input; both are deterministic.
#pragma once

#include <string>

#include "engine/core/status.h"
#include "sim/scenario.h"

namespace meridian::sim {

// Reads and parses the file at `path`; messages name the file as `path`.
Result<Scenario> load_scenario_file(const std::string& path);

// Parses `yaml_text`; messages name the file as `source_name`, which also becomes
// Scenario::source.
Result<Scenario> parse_scenario(const std::string& yaml_text, const std::string& source_name);

}  // namespace meridian::sim
