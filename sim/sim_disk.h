// A region's simulated disk: latency, throughput, stalls, slowdowns and crashes, no contents.
//
// The disk is one device with one FIFO queue: writes complete in the order they were submitted,
// each after its service time, so a later write never completes before an earlier one. What it
// models, per write of `bytes` submitted at virtual time `now`:
//
//   transfer   bytes occupy the device's bandwidth one write after another:
//                transfer_end = max(now, previous transfer_end) + bytes / throughput * slowdown
//   latency    the fixed costs overlap with other writes (NVMe queues are deep):
//                ready = transfer_end + (write_latency + (fsync ? fsync_latency : 0)) * slowdown
//   FIFO       complete = max(ready, previous write's completion, stalled_until)
//
// `done` runs at `complete`, on the scheduler, never synchronously inside write().
//
// Faults: stall_until(t) / set_stalled(true) (compaction stalls, a hung device: nothing
// completes until the stall ends, writes already queued included), set_slowdown(f) (writes
// submitted from now on take f times as long), crash() (the process using the disk dies: the
// callbacks of writes not yet completed are dropped, never run, and counted).
//
// What is not modelled: the bytes themselves (callers keep their own contents), read I/O, write
// amplification, partial writes and torn sectors. Durability is reported, not enforced: a write
// completed with fsync makes every earlier completed write durable (last_synced_write()); a
// caller modelling "lose unsynced data on crash" drops what it wrote after that id.
//
// Limits: at most `max_pending_writes` writes in the queue (asserted: the caller must apply
// back-pressure; pending_writes() tells it how full the queue is).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>

#include "sim/scheduler.h"

namespace meridian::sim {

struct SimDiskSpec {
  // Fixed cost of one (buffered) write; a data-centre NVMe drive takes ~10-30 µs.
  TimeNs write_latency_ns = 20 * env::kMicrosecond;
  // Extra cost of making the write durable (fsync / FUA); ~50-200 µs on NVMe with power-loss
  // protection, milliseconds on consumer drives.
  TimeNs fsync_latency_ns = 100 * env::kMicrosecond;
  // Sequential write throughput, bytes per second (> 0). 1 GB/s is a conservative NVMe figure.
  double throughput_bytes_per_s = 1e9;
  // Bound on queued (submitted, not completed) writes.
  size_t max_pending_writes = size_t{1} << 20;
};

struct SimDiskStats {
  uint64_t writes_submitted = 0;
  uint64_t writes_completed = 0;
  uint64_t fsyncs_completed = 0;
  uint64_t bytes_completed = 0;
  uint64_t callbacks_dropped_by_crash = 0;  // writes pending when crash() was called
  uint64_t crashes = 0;
};

class SimDisk {
 public:
  // Identifies a write: 1, 2, 3, ... in submission order, never reused (also across crashes).
  using WriteId = uint64_t;

  // REQUIRES: the scheduler outlives the disk; the disk outlives every event it scheduled (run
  // the scheduler only while the disk exists).
  SimDisk(Scheduler& scheduler, const SimDiskSpec& spec = {});
  SimDisk(const SimDisk&) = delete;
  SimDisk& operator=(const SimDisk&) = delete;

  // Queues a write of `bytes` (with fsync: durable on completion). `done` runs once when the
  // write completes (see the model above), or never if crash() is called first. Returns the
  // write's id. REQUIRES: pending_writes() < spec().max_pending_writes.
  WriteId write(size_t bytes, bool fsync, std::function<void()> done);

  // No write completes before `t` (absolute virtual time). Stalls extend, never shorten: a
  // later call with an earlier `t` has no effect. Applies to writes already queued.
  void stall_until(TimeNs t);
  // An open-ended stall (a hung device): while stalled nothing completes; set_stalled(false)
  // releases the queue (completions due in the past run now, in order). Composes with
  // stall_until: a write completes only when neither holds it.
  void set_stalled(bool stalled);
  bool stalled() const { return stalled_; }
  // Multiplies the service time of writes submitted from now on (1.0 = normal, > 0).
  // Writes already queued keep their times.
  void set_slowdown(double factor);
  double slowdown() const { return slowdown_; }

  // The process using the disk crashed: pending writes' callbacks are dropped (a dead process
  // never hears back) and counted. The device itself keeps working: whatever the process
  // writes after its restart is served normally (stalls and slowdowns stay). Returns the number
  // of callbacks dropped. Whether a dropped write reached the medium is unknown, as in reality;
  // callers treat it as not durable.
  size_t crash();

  // The id of the last completed write that had fsync set (0 if none since construction): it
  // and every write with a smaller id that completed are durable.
  WriteId last_synced_write() const { return last_synced_write_; }
  size_t pending_writes() const { return queue_.size(); }
  const SimDiskStats& stats() const { return stats_; }
  const SimDiskSpec& spec() const { return spec_; }

 private:
  struct Pending {
    WriteId id;
    TimeNs ready_at;  // completion time ignoring stalls
    size_t bytes;
    bool fsync;
    std::function<void()> done;
  };

  // (Re)arms the single completion timer for the queue's head, if any and not stalled.
  void arm();
  // Timer: completes the head write if it is due.
  void complete_head();

  Scheduler& scheduler_;
  SimDiskSpec spec_;
  double slowdown_ = 1.0;
  bool stalled_ = false;
  TimeNs stalled_until_ = 0;
  TimeNs transfer_free_at_ = 0;  // when the device's bandwidth is free again
  TimeNs last_ready_at_ = 0;     // FIFO: no write is ready before the previous one
  WriteId next_id_ = 1;
  WriteId last_synced_write_ = 0;
  std::deque<Pending> queue_;     // submission order == completion order
  Scheduler::TimerId timer_ = 0;  // 0 = no timer armed
  TimeNs timer_at_ = 0;
  SimDiskStats stats_;
};

}  // namespace meridian::sim
