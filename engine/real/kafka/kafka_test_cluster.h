// Real Kafka for integration tests: brokers and MirrorMaker 2 started through scripts/kafka.
//
// Each broker is a single-node KRaft cluster on 127.0.0.1, on free ports, with its data in a
// fresh directory under $TMPDIR (removed when the object is destroyed, unless
// MERIDIAN_KEEP_KAFKA_DIRS=1). Every process started here is stopped by the destructor, and also
// (by scripts/kafka's watchdog, MERIDIAN_KAFKA_OWNER_PID) when the test process dies without
// running destructors (a crash or a ctest timeout).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/status.h"

namespace meridian::real::testing {

// Runs scripts/kafka with `args`; its stdout (trailing newline removed) goes to `*out`, its
// stderr to ours. kUnavailable with the exit status if it fails.
Status run_kafka_script(const std::vector<std::string>& args, std::string* out = nullptr);

// A TCP port on 127.0.0.1 that nothing listens on right now: outside the kernel's ephemeral
// range (where any outgoing connection may take it before the server binds it) when it can be,
// and never the same twice in one process.
uint16_t free_port();

class TestBroker {
 public:
  // Starts broker `name` (waits until it serves, at most 60 s).
  static Result<std::unique_ptr<TestBroker>> start(const std::string& name);
  ~TestBroker();  // stops the broker (SIGTERM, then SIGKILL) and removes its directory
  TestBroker(const TestBroker&) = delete;
  TestBroker& operator=(const TestBroker&) = delete;

  const std::string& name() const { return name_; }
  const std::string& bootstrap() const { return bootstrap_; }  // "127.0.0.1:<port>"
  const std::string& dir() const { return dir_; }

  Status kill();     // SIGKILL: no clean shutdown; the data stays
  Status stop();     // SIGTERM, SIGKILL after 20 s
  Status restart();  // starts again on the same ports and data directory

 private:
  TestBroker(std::string name, std::string dir, uint16_t port, uint16_t controller_port)
      : name_(std::move(name)),
        dir_(std::move(dir)),
        port_(port),
        controller_port_(controller_port) {}

  std::string name_;
  std::string dir_;
  uint16_t port_ = 0;
  uint16_t controller_port_ = 0;
  std::string bootstrap_;
  bool running_ = false;
};

// MirrorMaker 2 in dedicated mode between `clusters` (name, bootstrap), every direction,
// topics "wal\..*|heartbeat" (scripts/kafka mm2).
class TestMirror {
 public:
  static Result<std::unique_ptr<TestMirror>> start(
      const std::vector<std::pair<std::string, std::string>>& clusters);
  ~TestMirror();  // stops MirrorMaker 2, removes its directory
  TestMirror(const TestMirror&) = delete;
  TestMirror& operator=(const TestMirror&) = delete;
  const std::string& dir() const { return dir_; }

 private:
  explicit TestMirror(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  bool running_ = false;
};

}  // namespace meridian::real::testing
