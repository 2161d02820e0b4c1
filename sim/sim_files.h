// A region node's files in the simulator (env::Files): contents in memory, timing from the
// region's SimDisk, and what a crash does to writes that were not durable yet.
//
// write_atomically() is one fsynced disk write of the contents; when it completes the file
// holds the new contents and `done(ok)` runs. crash(mode) models the node process (or machine)
// dying with writes still queued on the device:
//   kKeepUnsynced   the queued writes still land (the OS had them; only the process died);
//                   nobody is told.
//   kLoseUnsynced   they are lost: the files keep their old contents.
//   kTear           lost, except the oldest one, which the device was in the middle of: its
//                   file is left holding a prefix of the new contents (a device that made a
//                   rename durable before the data; LevelDB's FaultInjectionTestEnv models the
//                   same). Readers must detect it by checksum.
// Callbacks of writes pending at a crash never run (the process that asked is gone). Reads,
// lists and removes are immediate (start-up recovery reads are not timed).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/env/env.h"
#include "sim/rng.h"
#include "sim/scheduler.h"
#include "sim/sim_disk.h"

namespace meridian::sim {

struct SimFilesStats {
  uint64_t writes = 0;
  uint64_t writes_completed = 0;
  uint64_t writes_lost = 0;  // pending at a crash, dropped
  uint64_t writes_torn = 0;  // pending at a crash, left as a prefix
  uint64_t bytes_written = 0;
};

class SimFiles final : public env::Files {
 public:
  enum class CrashMode { kKeepUnsynced, kLoseUnsynced, kTear };

  // REQUIRES: the disk outlives this object and the events it scheduled.
  SimFiles(SimDisk& disk, Rng rng) : disk_(disk), rng_(std::move(rng)) {}
  SimFiles(const SimFiles&) = delete;
  SimFiles& operator=(const SimFiles&) = delete;

  void write_atomically(const std::string& name, std::string contents, WriteDone done) override;
  Result<std::string> read(const std::string& name) const override;
  std::vector<std::string> list() const override;
  void remove(const std::string& name) override;

  // The process using these files died (see the modes above).
  void crash(CrashMode mode);
  // A byte of a file flipped at rest (bit rot, a bad sector): for corruption tests.
  bool flip_byte(const std::string& name, size_t offset);

  const SimFilesStats& stats() const { return stats_; }
  size_t pending_writes() const { return pending_.size(); }

 private:
  struct Pending {
    std::string name;
    std::string contents;
    WriteDone done;  // null once the process that asked crashed
  };
  void complete(uint64_t id);

  SimDisk& disk_;
  Rng rng_;
  std::map<std::string, std::string> files_;
  std::map<uint64_t, Pending> pending_;  // by submission order
  uint64_t next_id_ = 1;
  SimFilesStats stats_;
};

}  // namespace meridian::sim
