// The simulated MirrorMaker 2 flow of one topic (see sim_mirror.h for the model).
//
// One cycle at a time, numbered by attempt_: cycle() sends the request and arms the timeout;
// on_response() cancels the timeout and produces the records; on_appended() counts the
// acknowledgements; end_cycle() commits positions and starts the next cycle. A timeout bumps
// attempt_, so anything still in flight for the old cycle is ignored when it arrives.
#include "sim/sim_mirror.h"

#include <algorithm>
#include <cassert>
#include <memory>
#include <utility>

namespace meridian::sim {

SimMirror::SimMirror(Scheduler& scheduler, Network& network, SimLogCluster& source,
                     RegionIndex source_region, SimLogCluster& target, RegionIndex target_region,
                     std::string topic, const SimMirrorSpec& spec, Rng rng)
    : scheduler_(scheduler),
      network_(network),
      source_(source),
      source_region_(source_region),
      target_(target),
      target_region_(target_region),
      topic_(std::move(topic)),
      target_topic_(source.name() + "." + topic_),
      spec_(spec),
      rng_(rng),
      producer_(target.new_producer(spec.producer_buffer_records)) {
  assert(&source_ != &target_);
  assert(spec_.fetch_max_records_per_partition >= 1 && spec_.producer_buffer_records >= 1);
  assert(spec_.backoff_initial_ns > 0 && spec_.backoff_max_ns >= spec_.backoff_initial_ns);
  assert(spec_.retry_timeout_floor_ns > 0);
}

void SimMirror::start() {
  if (started_) return;
  started_ = true;
  schedule_cycle(0);
}

void SimMirror::restart(TimeNs downtime_ns) {
  assert(started_ && downtime_ns >= 0);
  ++stats_.restarts;
  ++attempt_;  // whatever the old process had in flight is never heard of again
  if (timeout_ != 0) scheduler_.cancel(timeout_);
  timeout_ = 0;
  if (next_cycle_ != 0) scheduler_.cancel(next_cycle_);
  next_cycle_ = 0;
  appends_outstanding_ = 0;
  consecutive_failures_ = 0;
  positions_ = committed_;  // from the offsets topic: possibly far behind
  schedule_cycle(downtime_ns);
}

void SimMirror::schedule_cycle(TimeNs delay_ns) {
  assert(next_cycle_ == 0);
  next_cycle_ = scheduler_.after(delay_ns, [this] {
    next_cycle_ = 0;
    cycle();
  });
}

uint64_t SimMirror::position(uint32_t partition) const {
  return partition < positions_.size() ? positions_[partition] : 0;
}

void SimMirror::cycle() {
  const uint64_t attempt = ++attempt_;
  ++stats_.cycles;
  const TimeNs rtt = network_.expected_latency(target_region_, source_region_) +
                     network_.expected_latency(source_region_, target_region_);
  // A full response's serialisation on a bandwidth-limited link, so a large answer on a thin
  // link is not mistaken for a lost one (which would retry it forever).
  const double bandwidth = network_.link(source_region_, target_region_).bandwidth_bytes_per_s;
  const TimeNs transfer =
      bandwidth > 0 ? TimeNs(double(spec_.fetch_max_bytes + spec_.request_bytes) * 1e9 / bandwidth)
                    : 0;
  const TimeNs timeout =
      2 * rtt + source_.spec().fetch_wait_ns + transfer + spec_.retry_timeout_floor_ns;
  timeout_ = scheduler_.after(timeout, [this, attempt] { on_timeout(attempt); });
  network_.send(target_region_, source_region_, spec_.request_bytes,
                [this, attempt, positions = positions_] {
                  // At the source: a long-poll fetch; its answer travels back over the network.
                  source_.remote_fetch(topic_, positions, spec_.fetch_max_records_per_partition,
                                       spec_.fetch_max_bytes,
                                       [this, attempt](SimLogCluster::FetchResult result) {
                                         on_fetched(attempt, std::move(result));
                                       });
                });
}

void SimMirror::on_fetched(uint64_t attempt, SimLogCluster::FetchResult result) {
  const size_t bytes = spec_.request_bytes + result.bytes;
  auto shared = std::make_shared<const SimLogCluster::FetchResult>(std::move(result));
  network_.send(source_region_, target_region_, bytes,
                [this, attempt, shared] { on_response(attempt, *shared); });
}

void SimMirror::on_timeout(uint64_t attempt) {
  if (attempt != attempt_) return;
  timeout_ = 0;
  ++stats_.timeouts;
  ++attempt_;  // whatever is still in flight for this cycle is now stale
  end_cycle(/*ok=*/false);
}

void SimMirror::on_response(uint64_t attempt, const SimLogCluster::FetchResult& result) {
  if (attempt != attempt_) {
    ++stats_.stale_responses;
    return;
  }
  scheduler_.cancel(timeout_);
  timeout_ = 0;
  ++stats_.responses;
  if (result.partitions == 0) {  // the source topic does not exist yet; the fetch waited
    end_cycle(/*ok=*/true);
    return;
  }
  if (positions_.size() < result.partitions) positions_.resize(result.partitions, 0);
  const Status created = target_.create_topic(target_topic_, result.partitions);
  assert(created.is_ok() && "source partition count changed: not supported");
  (void)created;

  acked_to_ = positions_;
  append_failed_ = false;
  appends_outstanding_ = 0;
  size_t budget = spec_.producer_buffer_records;
  for (uint32_t p = 0; p < result.partitions && p < result.records.size(); ++p) {
    const std::vector<env::LogRecord>& records = result.records[p];
    if (records.empty()) continue;
    assert(records.front().offset >= positions_[p]);
    if (records.front().offset > positions_[p]) {  // deleted by the source's retention
      stats_.skipped_by_retention += records.front().offset - positions_[p];
      positions_[p] = acked_to_[p] = records.front().offset;
    }
    for (const env::LogRecord& r : records) {
      if (budget == 0) break;  // the rest is fetched again next cycle
      --budget;
      ++stats_.records_fetched;
      ++appends_outstanding_;
      target_.produce_as(
          producer_, target_topic_, p, r.key, r.value,
          [this, attempt, p, offset = r.offset](Status status, uint64_t) {
            on_appended(attempt, p, offset, status.is_ok());
          },
          r.writer);
    }
  }
  if (appends_outstanding_ == 0) end_cycle(/*ok=*/true);  // nothing new: the fetch waited
}

void SimMirror::on_appended(uint64_t attempt, uint32_t partition, uint64_t source_offset, bool ok) {
  if (attempt != attempt_) return;  // sent by a process that has restarted since
  // Every produce reports exactly once, and a cycle with appends never times out.
  assert(appends_outstanding_ > 0);
  --appends_outstanding_;
  if (ok) {
    ++stats_.records_appended;
    // Gapless target lanes: a partition's acknowledgements arrive in produce order and none
    // follows a failure of the same partition, so they extend the acknowledged prefix.
    assert(acked_to_[partition] == source_offset);
    acked_to_[partition] = source_offset + 1;
  } else {
    ++stats_.records_failed;
    append_failed_ = true;
  }
  if (appends_outstanding_ > 0) return;
  positions_ = acked_to_;  // commit: only acknowledged prefixes
  end_cycle(/*ok=*/!append_failed_);
}

TimeNs SimMirror::backoff() {
  TimeNs b = spec_.backoff_initial_ns;
  for (uint32_t i = 1; i < consecutive_failures_ && b < spec_.backoff_max_ns; ++i) b *= 2;
  b = std::min(b, spec_.backoff_max_ns);
  return TimeNs(double(b) * rng_.uniform(0.5, 1.0));
}

void SimMirror::end_cycle(bool ok) {
  if (scheduler_.now() >= last_commit_at_ + spec_.offset_commit_interval_ns) {
    committed_ = positions_;
    last_commit_at_ = scheduler_.now();
  }
  if (ok) {
    consecutive_failures_ = 0;
    schedule_cycle(0);
    return;
  }
  ++consecutive_failures_;
  schedule_cycle(backoff());
}

}  // namespace meridian::sim
