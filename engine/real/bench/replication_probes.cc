#include "engine/real/bench/replication_probes.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace meridian::realbench {
namespace {

using namespace std::chrono_literals;

// A probe gives up this long after the write's acknowledgement.
constexpr auto kGiveUp = 5s;

// A write's acknowledgement and how long after it the reading node served it.
struct Lag {
  Clock::time_point acked_at;
  double ms = 0;
};

ProbeResults results_since(Clock::time_point t0, const std::vector<Lag>& lags, ProbeResults out) {
  for (const Lag& l : lags) out.lags.emplace_back(ms_since(t0, l.acked_at) / 1000, l.ms);
  return out;
}

class SessionSearchProber final : public Prober {
 public:
  SessionSearchProber(v1::Meridian::Stub& read, std::string collection, uint64_t calls_per_probe)
      : read_(read), collection_(std::move(collection)), calls_per_probe_(calls_per_probe) {}

  void acknowledged(const AckedWrite& w) override {
    if (w.call % calls_per_probe_ != 0) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (in_flight_ >= kMaxInFlight) {
        ++results_.skipped;
        return;
      }
      ++in_flight_;
    }
    auto probe = std::make_shared<Probe>();
    probe->acked_at = w.acked_at;
    v1::SearchRequest& r = probe->request;
    r.set_collection(collection_);
    r.mutable_query()->Assign(w.embedding, w.embedding + w.dim);
    r.set_k(1);
    r.set_consistency(v1::CONSISTENCY_SESSION);
    *r.mutable_session() = w.session;
    r.set_no_forward(true);  // the reading node answers from its own replica, never the origin's
    send(std::move(probe));
  }

  ProbeResults finish(Clock::time_point t0) override {
    std::unique_lock<std::mutex> lock(mu_);
    idle_.wait(lock, [this] { return in_flight_ == 0; });
    results_.calls = calls_.load();
    return results_since(t0, lags_, std::move(results_));
  }

 private:
  static constexpr int kMaxInFlight = 2000;

  struct Probe {
    v1::SearchRequest request;
    Clock::time_point acked_at;
  };
  struct Call {
    grpc::ClientContext context;
    v1::SearchResponse response;
    std::shared_ptr<Probe> probe;
  };

  void send(std::shared_ptr<Probe> probe) {
    auto* call = new Call;
    call->probe = std::move(probe);
    call->context.set_deadline(std::chrono::system_clock::now() + kGiveUp);
    calls_.fetch_add(1);
    read_.async()->Search(
        &call->context, &call->probe->request, &call->response,
        [this, call](grpc::Status s) { answered(std::unique_ptr<Call>(call), s); });
  }

  void answered(std::unique_ptr<Call> call, const grpc::Status& s) {
    const auto now = Clock::now();
    const bool served = s.ok() && call->response.session_satisfied() && !call->response.forwarded();
    if (!served && s.ok() && now < call->probe->acked_at + kGiveUp) {
      // The node's session wait ran out before its replica covered the write: ask again.
      send(std::move(call->probe));
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (served) {
      lags_.push_back(Lag{call->probe->acked_at, ms_since(call->probe->acked_at, now)});
    } else {
      ++results_.unseen;
    }
    if (--in_flight_ == 0) idle_.notify_all();
  }

  v1::Meridian::Stub& read_;
  const std::string collection_;
  const uint64_t calls_per_probe_;
  std::atomic<size_t> calls_{0};
  std::mutex mu_;
  std::condition_variable idle_;
  int in_flight_ = 0;      // guarded by mu_
  std::vector<Lag> lags_;  // guarded by mu_
  ProbeResults results_;   // guarded by mu_: unseen and skipped
};

class GetPoller final : public Prober {
 public:
  GetPoller(v1::Meridian::Stub& read, std::string collection, double poll_us)
      : read_(read),
        collection_(std::move(collection)),
        poll_(int64_t(poll_us * 1000)),
        thread_([this] { run(); }) {}

  ~GetPoller() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  void acknowledged(const AckedWrite& w) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!newest_ || w.call > newest_->call) newest_ = w;
  }

  ProbeResults finish(Clock::time_point t0) override {
    std::this_thread::sleep_for(300ms);  // let the probe of the last write finish
    stop_ = true;
    thread_.join();
    return results_since(t0, lags_, std::move(results_));
  }

 private:
  void run() {
    std::optional<uint64_t> last;
    while (!stop_.load()) {
      std::optional<AckedWrite> w;
      {
        std::lock_guard<std::mutex> lock(mu_);
        w = newest_;
      }
      if (!w || w->call == last) {
        std::this_thread::sleep_for(100us);
        continue;
      }
      last = w->call;
      if (std::optional<Clock::time_point> seen = poll(*w)) {
        lags_.push_back(Lag{w->acked_at, ms_since(w->acked_at, *seen)});
      } else {
        ++results_.unseen;
      }
    }
  }

  // When the reading node first returned `w` itself; nothing if not within kGiveUp of the ack.
  std::optional<Clock::time_point> poll(const AckedWrite& w) {
    v1::GetRequest req;
    req.set_collection(collection_);
    req.set_id(w.id);
    while (Clock::now() < w.acked_at + kGiveUp) {
      const auto sent = Clock::now();
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + kGiveUp);
      v1::GetResponse resp;
      ++results_.calls;
      const grpc::Status s = read_.Get(&context, req, &resp);
      if (s.ok() && resp.timestamp() == w.timestamp) return Clock::now();
      std::this_thread::sleep_until(sent + poll_);
    }
    return std::nullopt;
  }

  v1::Meridian::Stub& read_;
  const std::string collection_;
  const std::chrono::nanoseconds poll_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::optional<AckedWrite> newest_;  // guarded by mu_
  std::vector<Lag> lags_;             // the poller thread's until finish() joined it
  ProbeResults results_;              // likewise
  std::thread thread_;                // last: starts once everything above is built
};

}  // namespace

std::unique_ptr<Prober> make_session_search_prober(v1::Meridian::Stub& read, std::string collection,
                                                   uint64_t calls_per_probe) {
  return std::make_unique<SessionSearchProber>(read, std::move(collection),
                                               std::max<uint64_t>(1, calls_per_probe));
}

std::unique_ptr<Prober> make_get_poller(v1::Meridian::Stub& read, std::string collection,
                                        double poll_us) {
  return std::make_unique<GetPoller>(read, std::move(collection), poll_us);
}

v1::SessionToken token_of(uint32_t origin, uint32_t shard, uint64_t sequence) {
  v1::SessionToken token;
  v1::SessionToken::Entry* e = token.add_entries();
  e->set_origin(origin);
  e->set_shard(shard);
  e->set_sequence(sequence);
  return token;
}

}  // namespace meridian::realbench
