#include "engine/real/kafka/kafka_test_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <utility>

namespace meridian::real::testing {

namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

Result<std::string> make_temp_dir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/" + prefix + "XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return Status::unavailable("mkdtemp " + pattern + " failed");
  }
  return pattern;
}

void remove_dir(const std::string& dir) {
  const char* keep = std::getenv("MERIDIAN_KEEP_KAFKA_DIRS");
  if (keep != nullptr && std::string(keep) == "1") {
    std::fprintf(stderr, "kept %s (MERIDIAN_KEEP_KAFKA_DIRS=1)\n", dir.c_str());
    return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace

Status run_kafka_script(const std::vector<std::string>& args, std::string* out) {
  // The watchdog in scripts/kafka stops what we start once this process is gone.
  setenv("MERIDIAN_KAFKA_OWNER_PID", std::to_string(getpid()).c_str(), 1);
  std::string command = shell_quote(std::string(MERIDIAN_SOURCE_DIR) + "/scripts/kafka");
  for (const std::string& arg : args) command += " " + shell_quote(arg);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return Status::unavailable("popen failed: " + command);
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  while (!output.empty() && output.back() == '\n') output.pop_back();
  if (out != nullptr) *out = output;
  if (status != 0) {
    return Status::unavailable(command + " failed (status " + std::to_string(status) + ")");
  }
  return Status::ok();
}

namespace {

// Binds a socket to 127.0.0.1:port (0: the kernel picks) and closes it: the port it got, or 0
// if the bind failed.
uint16_t try_bind(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  socklen_t length = sizeof address;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  close(fd);
  return ok ? ntohs(address.sin_port) : 0;
}

// The kernel's ephemeral range, from which outgoing connections take their local ports.
std::pair<int, int> ephemeral_ports() {
  int low = 32768, high = 60999;  // Linux's default
  if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%d %d", &low, &high) != 2) low = 32768, high = 60999;
    std::fclose(f);
  }
  return {low, high};
}

}  // namespace

uint16_t free_port() {
  // Outside the ephemeral range: a port inside it that is free now can be taken by any
  // process's outgoing connection (three brokers starting at once connect to their
  // controllers) before the server binds it, and a broker then fails to start. Never the same
  // port twice in one process, so concurrent callers (brokers started in parallel) differ.
  static std::mutex mu;
  static std::set<uint16_t> handed_out;
  static std::minstd_rand rng(uint32_t(getpid()) * 2654435761u ^ uint32_t(time(nullptr)));
  std::lock_guard lock(mu);
  const auto [low, high] = ephemeral_ports();
  const int first = low > 12000 ? 10000 : high + 1;
  const int last = low > 12000 ? low - 1 : 65535;
  if (last > first) {
    for (int attempt = 0; attempt < 1000; ++attempt) {
      const auto port = uint16_t(first + int(rng() % uint32_t(last - first + 1)));
      if (!handed_out.count(port) && try_bind(port) == port) {
        handed_out.insert(port);
        return port;
      }
    }
  }
  // No free port outside the range (unexpected): let the kernel pick one inside it.
  const uint16_t port = try_bind(0);
  assert(port != 0);
  handed_out.insert(port);
  return port;
}

Result<std::unique_ptr<TestBroker>> TestBroker::start(const std::string& name) {
  Result<std::string> dir = make_temp_dir("meridian-kafka-" + name + "-");
  if (!dir.is_ok()) return dir.status();
  // A port can still be taken between free_port() and the broker's bind (by another test's
  // server, say): then the broker exits at start-up, and a fresh directory and fresh ports are
  // tried, three times in all.
  Status status;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (attempt > 0) {
      dir = make_temp_dir("meridian-kafka-" + name + "-");
      if (!dir.is_ok()) return dir.status();
    }
    const uint16_t port = free_port(), controller_port = free_port();
    std::unique_ptr<TestBroker> broker(new TestBroker(name, dir.value(), port, controller_port));
    status = broker->restart();
    if (status.is_ok()) return broker;
    std::fprintf(stderr, "[kafka_test_cluster] broker %s did not start (attempt %d): %s\n",
                 name.c_str(), attempt + 1, status.to_string().c_str());
  }
  return status;
}

Status TestBroker::restart() {
  Status status = run_kafka_script(
      {"start", name_, std::to_string(port_), std::to_string(controller_port_), dir_}, &bootstrap_);
  running_ = status.is_ok();
  return status;
}

Status TestBroker::kill() {
  running_ = false;
  return run_kafka_script({"kill", dir_});
}

Status TestBroker::stop() {
  running_ = false;
  return run_kafka_script({"stop", dir_});
}

TestBroker::~TestBroker() {
  if (running_) (void)stop();
  remove_dir(dir_);
}

Result<std::unique_ptr<TestMirror>> TestMirror::start(
    const std::vector<std::pair<std::string, std::string>>& clusters) {
  Result<std::string> dir = make_temp_dir("meridian-mm2-");
  if (!dir.is_ok()) return dir.status();
  std::unique_ptr<TestMirror> mirror(new TestMirror(dir.value()));
  std::vector<std::string> args = {"mm2", "start", mirror->dir_};
  for (const auto& [name, bootstrap] : clusters) args.push_back(name + "=" + bootstrap);
  Status status = run_kafka_script(args);
  if (!status.is_ok()) return status;
  mirror->running_ = true;
  return mirror;
}

TestMirror::~TestMirror() {
  if (running_) (void)run_kafka_script({"mm2", "stop", dir_});
  remove_dir(dir_);
}

}  // namespace meridian::real::testing
