// env::Files on a local directory: the real build's segment files and checkpoint manifests.
//
// write_atomically() runs on a background I/O thread, off the engine's loop: it writes
// "<name>.tmp", fsyncs it, renames it over <name> and fsyncs the directory, so after a crash
// the file holds either its old or its new contents, never a mix; then it posts `done` to the
// event loop. write_encoded() also runs the encoding there, and remove() unlinks there, after
// the writes issued before it (an unlink can wait for the file system's journal behind another
// file's fsync: never on the loop). Writes and removes are performed in submission order.
// The I/O thread runs at a lower CPU priority (nice +10) than the rest of the process:
// checkpoint work yields to the event loop and to searches when cores are scarce.
// Reads and lists are synchronous (recovery at start-up, and a directory listing). Leftover
// "*.tmp" files from a crash are not listed and are deleted when the directory is opened.
//
// One process per directory: open() takes an exclusive lock on "<dir>/LOCK" (flock, as LevelDB
// does) and holds it until destruction; the kernel drops it when the process dies, however it
// dies. A second node started on the same data_dir would otherwise delete the first one's
// in-flight "*.tmp" files at open and interleave its checkpoints with the first one's. The LOCK
// file holds the owner's pid (for the error message) and is never listed.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/env/env.h"
#include "engine/real/event_loop.h"

namespace meridian::real {

class PosixFiles final : public env::Files {
 public:
  // Creates `dir` if needed. Errors (not a directory, no permission) come back from open();
  // kUnavailable if another PosixFiles (in this process or another) holds the directory's lock.
  static Result<std::unique_ptr<PosixFiles>> open(EventLoop& loop, const std::string& dir);
  ~PosixFiles() override;  // finishes queued writes, then joins the I/O thread
  PosixFiles(const PosixFiles&) = delete;
  PosixFiles& operator=(const PosixFiles&) = delete;

  void write_atomically(const std::string& name, std::string contents, WriteDone done) override;
  void write_encoded(const std::string& name, Encode encode, EncodedWriteDone done) override;
  Result<std::string> read(const std::string& name) const override;
  std::vector<std::string> list() const override;
  void remove(const std::string& name) override;

  const std::string& dir() const { return dir_; }
  // write_atomically() on the calling thread, with its error: for start-up, before the engine
  // runs. Do not mix with asynchronous writes of the same name.
  Status write_now(const std::string& name, const std::string& contents) const;

 private:
  PosixFiles(EventLoop& loop, std::string dir, int lock_fd);
  struct Write {
    std::string name;
    std::string contents;  // unless `encode` makes them
    Encode encode;
    EncodedWriteDone done;  // null: a removal
  };
  void enqueue(Write w);
  void run();

  EventLoop& loop_;
  const std::string dir_;
  const int lock_fd_;  // "<dir>/LOCK", flock()ed exclusively; closing it releases the lock
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Write> queue_;  // guarded by mu_
  bool closing_ = false;     // guarded by mu_
  std::thread io_;
};

}  // namespace meridian::real
