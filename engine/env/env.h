// The environment seam (DESIGN.md §1): everything nondeterministic the engine needs.
//
// Engine code above this seam (engine/node) never reads a clock, sleeps, spawns a thread, opens
// a socket or a file, or draws randomness by itself: it asks an Env. Two environments implement
// it: engine/real (librdkafka, gRPC, files, steady clock) and sim/ (virtual time, simulated
// network, Kafka-semantics log, disk). Everything is driven from one thread: an Env calls back
// into the engine only from its event loop, never concurrently.
//
// Interfaces here are small and virtual (cold path, LevelDB's Env idea); hot loops live in
// engine/core and take plain data.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/status.h"

namespace meridian::env {

// Nanoseconds. Monotonic time is measured from the environment's start.
using TimeNs = int64_t;
inline constexpr TimeNs kMicrosecond = 1'000;
inline constexpr TimeNs kMillisecond = 1'000'000;
inline constexpr TimeNs kSecond = 1'000'000'000;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time for timeouts, latencies and lag; never goes backwards.
  virtual TimeNs monotonic_ns() const = 0;
  // This region's wall clock, ms since the Unix epoch. It may be skewed against other regions'
  // clocks and may even step backwards; it only feeds the hybrid logical clock.
  virtual uint64_t wall_ms() const = 0;
};

class Timers {
 public:
  using TimerId = uint64_t;
  virtual ~Timers() = default;
  // Runs `fn` once, `delay` from now (delay >= 0), on the engine's thread. Never calls `fn`
  // synchronously from inside after().
  virtual TimerId after(TimeNs delay, std::function<void()> fn) = 0;
  // Cancels a timer that has not fired; unknown or fired ids are ignored.
  virtual void cancel(TimerId id) = 0;
};

class Random {
 public:
  virtual ~Random() = default;
  // Uniform 64-bit value. Seeded by the environment; the simulator derives it from the run seed.
  virtual uint64_t next_u64() = 0;
  // Uniform in [0, 1).
  double next_unit() { return double(next_u64() >> 11) * 0x1.0p-53; }
};

// One record read back from a log partition.
struct LogRecord {
  std::string topic;
  uint32_t partition = 0;
  uint64_t offset = 0;
  std::string key;
  std::string value;
  // Which node incarnation produced it: the id it gave Log::set_writer (a Kafka record header),
  // 0 if none (a producer that never set one, e.g. an older build).
  uint64_t writer = 0;
};

// This region's log cluster, with Kafka semantics: topics of numbered partitions, each an
// append-only sequence of records with offsets 0, 1, 2, ...; records of other regions appear in
// this cluster as mirrored topics named "<origin>.<topic>" (MirrorMaker 2's naming), in the
// origin's per-partition order.
class Log {
 public:
  using ProduceDone = std::function<void(Status status, uint64_t offset)>;
  using RecordFn = std::function<void(const LogRecord& record)>;
  virtual ~Log() = default;

  // Appends one record. `done` runs exactly once: with ok and the record's offset when the
  // record is durable in the cluster's in-sync quorum (acks=all), or with an error (cluster
  // unreachable, producer buffer full, timeout). An error means the record may or may not be
  // in the log; the caller must not acknowledge the write as durable.
  virtual void produce(const std::string& topic, uint32_t partition, std::string key,
                       std::string value, ProduceDone done) = 0;

  // Stamps every record produced from now on with `writer` (LogRecord::writer), so that whoever
  // reads the log can tell which node incarnation appended a record: the region node's defence
  // against a second live node of its region (own_writer_check.h). 0 (the default) stamps none.
  // A log that cannot carry it may ignore it: records then read back with writer 0.
  virtual void set_writer(uint64_t writer) { (void)writer; }

  // Delivers the records of topic/partition in offset order, starting at `from_offset`, as they
  // become available, until the process ends. Creating a subscription for a topic that does not
  // exist yet is allowed (mirrored topics appear later). One subscription per partition.
  virtual void subscribe(const std::string& topic, uint32_t partition, uint64_t from_offset,
                         RecordFn on_record) = 0;

  // Runs `ready` once the subscription of topic/partition (subscribe() first) is reading: a record
  // appended from now on reaches it within the log's normal delivery time, without waiting for
  // the subscription to be set up first. A node takes writes only once its own partitions are
  // reading, so that a session's read right after its first acknowledged write does not wait for
  // a consumer that is still connecting (a real log finds the partition's leader and completes
  // a first fetch; that can take longer than a session read waits). May run synchronously
  // (the default: a log whose subscriptions read from the moment they exist); otherwise on the
  // engine's thread, like every other callback. A partition that never becomes readable (its
  // cluster unreachable) never runs it.
  virtual void when_reading(const std::string& topic, uint32_t partition,
                            std::function<void()> ready) {
    (void)topic;
    (void)partition;
    ready();
  }

  // One past the last offset the cluster has for topic/partition (its high watermark); 0 if
  // unknown. Used for lag reporting, not for correctness.
  virtual uint64_t end_offset(const std::string& topic, uint32_t partition) const = 0;

  // The first offset the cluster still holds for topic/partition: records before it were
  // deleted (retention, DeleteRecords), and start_offset() == end_offset() means none is left.
  // 0 if unknown. Records before it will never be delivered: the node reads it at start-up (its
  // own partitions), and counts no backlog and waits for nothing below it (lag, anti-entropy).
  // The default (unknown) is safe: lag is then overstated, never understated.
  virtual uint64_t start_offset(const std::string& topic, uint32_t partition) const {
    (void)topic;
    (void)partition;
    return 0;
  }
};

// The node's own directory of files (its shard segments and manifest): whole files written
// atomically, which is all the node needs (LevelDB's Env, reduced to that).
//
// The real build uses a directory on local disk (write a temporary file, fsync, rename over the
// old one, fsync the directory); the simulator keeps contents in memory and models the disk's
// latency, crashes that lose writes not yet durable, and torn files (a device that acknowledged
// a rename before the data). Readers must therefore verify what they read (segment files carry
// checksums) and never trust a file just because it exists.
class Files {
 public:
  using WriteDone = std::function<void(Status status)>;
  virtual ~Files() = default;

  // Replaces the file `name` (a plain file name: letters, digits, '-', '_', '.') with
  // `contents`. `done` runs once, on the engine's thread, never synchronously: ok once the new
  // contents are durable; an error otherwise, in which case the file holds its old contents or
  // the new ones. A write still pending when the process crashes may be lost.
  virtual void write_atomically(const std::string& name, std::string contents, WriteDone done) = 0;

  // Makes a file's contents away from the engine's loop.
  using Encode = std::function<std::string()>;
  using EncodedWriteDone = std::function<void(Status status, uint64_t bytes)>;
  // write_atomically() of the contents `encode` returns. The real environment runs `encode` on
  // its I/O thread, at a lower CPU priority than the loop and the searches, so that encoding a
  // large shard snapshot (tens of ms) neither holds the engine nor competes with queries as an
  // equal; the simulator runs it at once (it models the disk, not CPU time). `encode` must
  // therefore only read what it owns (captured copies). `done` runs once, on the engine's
  // thread, never synchronously, with the write's status and the encoded size in bytes.
  virtual void write_encoded(const std::string& name, Encode encode, EncodedWriteDone done) {
    std::string contents = encode();
    const uint64_t bytes = contents.size();
    write_atomically(name, std::move(contents), [done = std::move(done), bytes](Status status) {
      done(std::move(status), bytes);
    });
  }
  // The file's contents, or not_found. Blocking; meant for recovery at start-up.
  virtual Result<std::string> read(const std::string& name) const = 0;
  // Every file's name, in ascending byte order.
  virtual std::vector<std::string> list() const = 0;
  // Deletes a file if it exists: at once or in order with the writes already issued (so a file
  // written again later keeps its new contents), not necessarily durable before the next write.
  virtual void remove(const std::string& name) = 0;
};

// Runs CPU-heavy, self-contained work (a digest of a shard's copy) away from the engine's
// loop, so that requests and replication go on meanwhile. The real environment runs `work` on a
// worker thread; an environment without one (the simulator, which models no CPU time here) runs
// it on the loop. `work` must only read what it owns (captured copies: vector_entry.h says why
// a copy of a replica may be read on another thread). `done` runs once, on the engine's thread,
// never synchronously, with work's result, or with nothing if the work was dropped (the
// environment is shutting down, or too much work is queued).
class Offload {
 public:
  using Work = std::function<std::string()>;
  using Done = std::function<void(std::optional<std::string> result)>;
  virtual ~Offload() = default;
  virtual void run(Work work, Done done) = 0;
};

}  // namespace meridian::env
