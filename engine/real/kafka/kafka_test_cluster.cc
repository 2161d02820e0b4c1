#include "engine/real/kafka/kafka_test_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

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

uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  close(fd);
  assert(ok);
  (void)ok;
  return ntohs(address.sin_port);
}

Result<std::unique_ptr<TestBroker>> TestBroker::start(const std::string& name) {
  Result<std::string> dir = make_temp_dir("meridian-kafka-" + name + "-");
  if (!dir.is_ok()) return dir.status();
  uint16_t port = free_port(), controller_port = free_port();
  while (controller_port == port) controller_port = free_port();
  std::unique_ptr<TestBroker> broker(new TestBroker(name, dir.value(), port, controller_port));
  Status status = broker->restart();
  if (!status.is_ok()) return status;
  return broker;
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
