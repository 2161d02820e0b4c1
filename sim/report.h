// Presenting a run: the human-readable summary `meridian-sim` prints and the JSON report it
// writes (same facts, machine-readable).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "sim/runner.h"

namespace meridian::sim {

// Multi-line summary: setup, faults, per-region search latency and throughput, replication lag
// per region pair, sessions, hot shards, coverage, checks, digest and the replay command.
std::string format_summary(const RunResult& result, const std::string& revision,
                           const std::string& replay_command);
nlohmann::json to_json(const RunResult& result, const std::string& revision);

}  // namespace meridian::sim
