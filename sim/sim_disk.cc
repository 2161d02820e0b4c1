// The simulated disk (see sim_disk.h for the model).
//
// One completion timer at a time: it is armed for the head of the queue at
// max(head.ready_at, stalled_until_) and re-armed after each completion, after a stall changes
// and after a crash. Completing one write per event keeps callbacks free to submit new writes.
#include "sim/sim_disk.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <utility>

namespace meridian::sim {

namespace {

// `t * factor` rounded to the nearest nanosecond; exact when factor is 1.
TimeNs scaled(TimeNs t, double factor) {
  if (factor == 1.0) return t;
  const double v = std::round(double(t) * factor);
  assert(v >= 0 && v < 0x1.0p62);
  return TimeNs(v);
}

}  // namespace

SimDisk::SimDisk(Scheduler& scheduler, const SimDiskSpec& spec)
    : scheduler_(scheduler), spec_(spec) {
  assert(spec_.write_latency_ns >= 0 && spec_.fsync_latency_ns >= 0);
  assert(spec_.throughput_bytes_per_s > 0 && std::isfinite(spec_.throughput_bytes_per_s));
  assert(spec_.max_pending_writes >= 1);
}

SimDisk::WriteId SimDisk::write(size_t bytes, bool fsync, std::function<void()> done) {
  assert(queue_.size() < spec_.max_pending_writes && "disk queue full: apply back-pressure");
  const TimeNs now = scheduler_.now();
  const double transfer_ns = std::ceil(double(bytes) * 1e9 / spec_.throughput_bytes_per_s);
  assert(transfer_ns < 0x1.0p62);
  transfer_free_at_ = std::max(now, transfer_free_at_) + scaled(TimeNs(transfer_ns), slowdown_);
  const TimeNs fixed_ns = spec_.write_latency_ns + (fsync ? spec_.fsync_latency_ns : 0);
  const TimeNs ready_at = std::max(transfer_free_at_ + scaled(fixed_ns, slowdown_), last_ready_at_);
  last_ready_at_ = ready_at;

  const WriteId id = next_id_++;
  queue_.push_back(Pending{id, ready_at, bytes, fsync, std::move(done)});
  ++stats_.writes_submitted;
  if (queue_.size() == 1) arm();
  return id;
}

void SimDisk::stall_until(TimeNs t) {
  if (t <= stalled_until_) return;
  stalled_until_ = t;
  arm();
}

void SimDisk::set_stalled(bool stalled) {
  if (stalled == stalled_) return;
  stalled_ = stalled;
  arm();
}

void SimDisk::set_slowdown(double factor) {
  assert(factor > 0 && std::isfinite(factor));
  slowdown_ = factor;
}

size_t SimDisk::crash() {
  const size_t dropped = queue_.size();
  // The device keeps serving the dropped writes' bytes (transfer_free_at_ and last_ready_at_
  // stay): the writes were issued, only their completions go nowhere.
  queue_.clear();
  stats_.callbacks_dropped_by_crash += dropped;
  ++stats_.crashes;
  arm();
  return dropped;
}

void SimDisk::arm() {
  const bool want = !queue_.empty() && !stalled_;
  const TimeNs at = want ? std::max(queue_.front().ready_at, stalled_until_) : 0;
  if (timer_ != 0 && want && timer_at_ == at) return;
  if (timer_ != 0) {
    scheduler_.cancel(timer_);
    timer_ = 0;
  }
  if (!want) return;
  timer_at_ = at;
  timer_ = scheduler_.at(at, [this] { complete_head(); });
}

void SimDisk::complete_head() {
  timer_ = 0;
  assert(!queue_.empty() && !stalled_);
  assert(scheduler_.now() >= queue_.front().ready_at && scheduler_.now() >= stalled_until_);
  Pending head = std::move(queue_.front());
  queue_.pop_front();
  ++stats_.writes_completed;
  stats_.bytes_completed += head.bytes;
  if (head.fsync) {
    ++stats_.fsyncs_completed;
    last_synced_write_ = head.id;
  }
  // Arm for the next write before the callback, which may submit more writes or crash.
  arm();
  if (head.done) head.done();
}

}  // namespace meridian::sim
