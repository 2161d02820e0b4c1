#include "engine/real/posix_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/real/thread_priority.h"

namespace meridian::real {

namespace {

Status io_error(const std::string& what, const std::string& path) {
  return Status::unavailable(what + " " + path + ": " + std::strerror(errno));
}

bool valid_name(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

constexpr char kLockFileName[] = "LOCK";

bool is_temporary(const std::string& name) {
  return name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0;
}

Status fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return io_error("open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::ok() : io_error("fsync", path);
}

// Locks `dir`/LOCK exclusively without waiting and writes this process's pid into it. Returns
// the locked descriptor; its owner closes it to unlock.
Result<int> lock_directory(const std::string& dir) {
  const std::string path = dir + "/" + kLockFileName;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("open", path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int lock_errno = errno;
    char owner[32] = {};
    const ssize_t n = ::pread(fd, owner, sizeof owner - 1, 0);
    ::close(fd);
    if (lock_errno != EWOULDBLOCK) {
      errno = lock_errno;
      return io_error("lock", path);
    }
    std::string pid = n > 0 ? std::string(owner, size_t(n)) : std::string("?");
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    return Status::unavailable("data directory " + dir + " is in use by another node (pid " + pid +
                               " holds " + path + ")");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != ssize_t(pid.size())) {
    Status status = io_error("write", path);
    ::close(fd);
    return status;
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<PosixFiles>> PosixFiles::open(EventLoop& loop, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    return Status::invalid_argument("data directory " + dir + " is not usable: " +
                                    (ec ? ec.message() : std::string("not a directory")));
  }
  // Locked first: the temporary files below are only leftovers if no other node owns them.
  Result<int> lock_fd = lock_directory(dir);
  if (!lock_fd.is_ok()) return lock_fd.status();
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (is_temporary(name)) std::filesystem::remove(entry.path(), ec);  // a crash's leftovers
  }
  return std::unique_ptr<PosixFiles>(new PosixFiles(loop, dir, lock_fd.value()));
}

PosixFiles::PosixFiles(EventLoop& loop, std::string dir, int lock_fd)
    : loop_(loop), dir_(std::move(dir)), lock_fd_(lock_fd), io_([this] { run(); }) {}

PosixFiles::~PosixFiles() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  wake_.notify_all();
  io_.join();
  ::close(lock_fd_);  // last: nothing of this process writes to the directory any more
}

void PosixFiles::write_atomically(const std::string& name, std::string contents, WriteDone done) {
  enqueue({name, std::move(contents), nullptr,
           [done = std::move(done)](Status status, uint64_t) { done(std::move(status)); }});
}

void PosixFiles::write_encoded(const std::string& name, Encode encode, EncodedWriteDone done) {
  enqueue({name, {}, std::move(encode), std::move(done)});
}

void PosixFiles::enqueue(Write w) {
  if (!valid_name(w.name)) {
    loop_.post([done = std::move(w.done), name = w.name] {
      done(Status::invalid_argument("bad file name '" + name + "'"), 0);
    });
    return;
  }
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(w));
  }
  wake_.notify_one();
}

void PosixFiles::run() {
  lower_this_threads_priority();
  for (;;) {
    Write w;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;  // closing, and everything queued is written
      w = std::move(queue_.front());
      queue_.pop_front();
    }
    if (!w.done) {  // a removal
      std::error_code ec;
      std::filesystem::remove(dir_ + "/" + w.name, ec);
      continue;
    }
    if (w.encode) w.contents = w.encode();
    const uint64_t bytes = w.contents.size();
    Status status = write_now(w.name, w.contents);
    loop_.post([done = std::move(w.done), status = std::move(status), bytes]() mutable {
      done(std::move(status), bytes);
    });
  }
}

Status PosixFiles::write_now(const std::string& name, const std::string& contents) const {
  const std::string path = dir_ + "/" + name;
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("create", tmp);
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = io_error("write", tmp);
      ::close(fd);
      return s;
    }
    written += size_t(n);
  }
  if (::fsync(fd) != 0) {
    Status s = io_error("fsync", tmp);
    ::close(fd);
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("rename", tmp);
  return fsync_path(dir_, O_RDONLY | O_DIRECTORY);  // make the rename itself durable
}

Result<std::string> PosixFiles::read(const std::string& name) const {
  if (!valid_name(name)) return Status::invalid_argument("bad file name '" + name + "'");
  const std::string path = dir_ + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::not_found("no file " + path);
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return io_error("read", path);
  return out.str();
}

std::vector<std::string> PosixFiles::list() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && !is_temporary(name) && name != kLockFileName) {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

void PosixFiles::remove(const std::string& name) {
  if (!valid_name(name)) return;
  {
    std::lock_guard lock(mu_);
    queue_.push_back({name, {}, nullptr, nullptr});
  }
  wake_.notify_one();
}

}  // namespace meridian::real
