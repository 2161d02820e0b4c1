#include "engine/real/bench/http_search.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

namespace meridian::realbench {
namespace {

std::string search_body(const float* query, uint32_t dim, int k) {
  std::string body = "{\"k\":" + std::to_string(k) + ",\"query\":[";
  char number[32];
  for (uint32_t j = 0; j < dim; ++j) {
    // %.9g round-trips a float exactly, like the protobuf's binary floats.
    std::snprintf(number, sizeof(number), j == 0 ? "%.9g" : ",%.9g", double(query[j]));
    body += number;
  }
  return body + "]}";
}

}  // namespace

bool split_address(const std::string& address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  const std::string digits = address.substr(colon + 1);
  if (digits.empty() || digits.size() > 5 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  *port = std::stoi(digits);
  *host = address.substr(0, colon);
  return *port >= 1 && *port <= 65535;
}

HttpSearchOutcome run_http_searches(const HttpSearchLoad& load, const std::vector<float>& queries,
                                    uint32_t dim, Latencies& latencies) {
  const size_t nq = queries.size() / dim;
  std::vector<std::string> bodies;
  bodies.reserve(nq);
  for (size_t q = 0; q < nq; ++q) bodies.push_back(search_body(&queries[q * dim], dim, load.k));
  const std::string path = "/v1/collections/" + load.collection + "/search";
  std::string host;
  int port = 0;
  if (!split_address(load.address, &host, &port)) {
    return {0, 0, "not a host:port address: '" + load.address + "'"};
  }

  const size_t total = size_t(load.rate * load.duration);
  std::atomic<size_t> ok{0}, failed{0};
  std::mutex error_mu;
  std::string first_error;
  // The schedule starts now, as the gRPC sweep's does (the caller's served rate divides by the
  // time from here): thread start-up and each connection's set-up count as latency.
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (size_t t = 0; t < load.connections; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client client(host, port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      client.set_read_timeout(10, 0);
      for (size_t i = t; i < total; i += load.connections) {
        const auto scheduled = scheduled_time(t0, i, load.rate);
        std::this_thread::sleep_until(scheduled);
        httplib::Result r = client.Post(path, bodies[i % nq], "application/json");
        if (r && r->status == 200) {
          latencies.add(ms_since(scheduled, Clock::now()));
          ok.fetch_add(1);
          continue;
        }
        failed.fetch_add(1);
        std::lock_guard lock(error_mu);
        if (first_error.empty()) {
          first_error = r ? "HTTP " + std::to_string(r->status) + ": " + r->body
                          : "request failed: " + httplib::to_string(r.error());
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  return {ok.load(), failed.load(), first_error};
}

}  // namespace meridian::realbench
