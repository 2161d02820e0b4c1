// Open-loop searches over the node's HTTP/JSON gateway (POST /v1/collections/{c}/search), for
// comparing the two data-plane transports under the same offered load as the gRPC sweep.
//
// `connections` threads, each with one keep-alive connection (TCP_NODELAY, as curl and k6 set
// it): send i belongs to thread i % connections and leaves at its scheduled time t0 + i / rate,
// or as soon as that thread's previous answer is back (the constant-arrival-rate model of k6
// with preallocated VUs). Latency counts from the scheduled time, so a node that falls behind
// is charged for it, as in the gRPC sweep.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "engine/real/bench/bench_support.h"

namespace meridian::realbench {

struct HttpSearchLoad {
  std::string address;  // host:port of the gateway (plain HTTP); REQUIRES: split_address accepts it
  std::string collection;
  int k = 10;
  double rate = 1000;    // searches per second offered
  double duration = 10;  // seconds
  size_t connections = 8;
};

struct HttpSearchOutcome {
  size_t ok = 0;
  size_t failed = 0;
  std::string first_error;  // empty if none failed
};

// Splits "host:port" (port 1..65535); false if `address` is not of that form.
bool split_address(const std::string& address, std::string* host, int* port);

// Runs `load` with `queries` (row-major, `dim` floats each, cycled); adds each answered search's
// latency (ms) to `latencies`. Request bodies are built before the clock starts.
HttpSearchOutcome run_http_searches(const HttpSearchLoad& load, const std::vector<float>& queries,
                                    uint32_t dim, Latencies& latencies);

}  // namespace meridian::realbench
