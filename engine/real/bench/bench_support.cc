#include "engine/real/bench/bench_support.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace meridian::realbench {
namespace {

using namespace std::chrono_literals;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "meridian-bench: cannot read " << path << "\n";
    std::exit(2);
  }
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

double ms_since(Clock::time_point t0, Clock::time_point t1) {
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

double client_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + "," + b + "," + c;
}

Tls::Tls(const std::string& dir) {
  options.pem_root_certs = read_all(dir + "/ca.pem");
  options.pem_cert_chain = read_all(dir + "/client.pem");
  options.pem_private_key = read_all(dir + "/client.key");
}

std::vector<std::unique_ptr<v1::Meridian::Stub>> make_stubs(const std::string& address,
                                                            const Tls& tls, int n) {
  std::vector<std::unique_ptr<v1::Meridian::Stub>> out;
  for (int i = 0; i < n; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("meridian.bench.channel", i);
    auto channel = grpc::CreateCustomChannel(address, grpc::SslCredentials(tls.options), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + 10s)) {
      std::cerr << "meridian-bench: cannot connect to " << address << "\n";
      std::exit(1);
    }
    out.push_back(v1::Meridian::NewStub(channel));
  }
  // A node listens before it takes writes (it reads its own log and waits for its consumer
  // first; NodeStatus.recovered): measure the node, not its start.
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    v1::NodeStatusResponse status;
    if (out.empty() || (out[0]->NodeStatus(&context, {}, &status).ok() && status.recovered()))
      break;
    if (std::chrono::steady_clock::now() >= give_up) {
      std::cerr << "meridian-bench: " << address << " still recovering after 60 s\n";
      std::exit(1);
    }
    std::this_thread::sleep_for(20ms);
  }
  return out;
}

uint64_t live_vectors(v1::Meridian::Stub& stub, const std::string& collection) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  v1::NodeStatusResponse status;
  if (!stub.NodeStatus(&context, {}, &status).ok()) return 0;
  for (const auto& col : status.collections()) {
    if (col.name() == collection) return col.live_vectors();
  }
  return 0;
}

void Window::acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return in_flight_ < max_; });
  ++in_flight_;
}

bool Window::try_acquire() {
  std::lock_guard<std::mutex> lock(mu_);
  if (in_flight_ >= max_) return false;
  ++in_flight_;
  return true;
}

void Window::release() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
  }
  cv_.notify_all();
}

void Window::drain() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return in_flight_ == 0; });
}

Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, size_t(q * double(v.size())))]; };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.p999 = at(0.999);
  p.max = v.back();
  return p;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void Latencies::add(double ms) {
  std::lock_guard<std::mutex> lock(mu_);
  v_.push_back(ms);
}

std::vector<double> Latencies::take() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::move(v_);
}

bench::GaussianMixture mixture(uint32_t dim) {
  bench::MixtureSpec spec;
  spec.dim = dim;
  return bench::GaussianMixture(spec);
}

void fill_upsert(v1::UpsertRequest* req, const std::string& collection, const std::string& id,
                 const float* v, uint32_t dim) {
  req->set_collection(collection);
  req->set_id(id);
  req->mutable_embedding()->Assign(v, v + dim);
}

UpsertRun run_upserts(std::vector<std::unique_ptr<v1::Meridian::Stub>>& stubs,
                      const std::string& collection, uint32_t dim, const std::vector<float>& pool,
                      const std::vector<uint64_t>& numbers, int inflight, int threads,
                      const std::string& prefix, size_t batch) {
  batch = std::max<size_t>(1, batch);
  UpsertRun run;
  Window window(inflight);
  Latencies lat;
  std::mutex failed_mu;
  std::atomic<size_t> acked{0};
  const size_t pool_n = pool.size() / dim;
  std::atomic<size_t> next{0};
  auto id_of = [&](uint64_t n) {
    return prefix.empty() ? bench::vector_id(n) : prefix + std::to_string(n);
  };
  // The answer to a call carrying numbers[first, last).
  auto answered = [&](const grpc::Status& status, Clock::time_point start, size_t first,
                      size_t last) {
    const auto end = Clock::now();
    if (status.ok()) {
      lat.add(ms_since(start, end));
      acked.fetch_add(last - first);
      return;
    }
    std::lock_guard<std::mutex> lock(failed_mu);
    run.failed_ids.insert(run.failed_ids.end(), numbers.begin() + long(first),
                          numbers.begin() + long(last));
    if (run.first_error.empty()) {
      run.first_error = std::to_string(int(status.error_code())) + " " + status.error_message();
    }
  };
  const auto t0 = Clock::now();
  std::vector<std::thread> issuers;
  for (int t = 0; t < threads; ++t) {
    issuers.emplace_back([&, t] {
      size_t call_no = 0;
      for (;;) {
        const size_t first = next.fetch_add(batch);
        if (first >= numbers.size()) break;
        const size_t last = std::min(numbers.size(), first + batch);
        window.acquire();
        auto& stub = stubs[(size_t(t) + call_no++ * size_t(threads)) % stubs.size()];
        const auto deadline = std::chrono::system_clock::now() + 30s;
        if (batch == 1) {
          auto* call = new UpsertCall;
          const uint64_t n = numbers[first];
          fill_upsert(&call->request, collection, id_of(n), &pool[(n % pool_n) * dim], dim);
          call->context.set_deadline(deadline);
          call->start = Clock::now();
          stub->async()->Upsert(&call->context, &call->request, &call->response,
                                [&, call, first, last](grpc::Status status) {
                                  answered(status, call->start, first, last);
                                  delete call;
                                  window.release();
                                });
          continue;
        }
        auto* call = new UpsertBatchCall;
        call->request.set_collection(collection);
        for (size_t i = first; i < last; ++i) {
          v1::UpsertBatchRequest::Item* item = call->request.add_items();
          item->set_id(id_of(numbers[i]));
          const float* v = &pool[(numbers[i] % pool_n) * dim];
          item->mutable_embedding()->Assign(v, v + dim);
        }
        call->context.set_deadline(deadline);
        call->start = Clock::now();
        stub->async()->UpsertBatch(&call->context, &call->request, &call->response,
                                   [&, call, first, last](grpc::Status status) {
                                     answered(status, call->start, first, last);
                                     delete call;
                                     window.release();
                                   });
      }
    });
  }
  for (auto& t : issuers) t.join();
  window.drain();
  run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  run.acked = acked.load();
  run.failed = run.failed_ids.size();
  run.latencies = lat.take();
  return run;
}

}  // namespace meridian::realbench
