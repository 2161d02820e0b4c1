// Errors at module borders, LevelDB style: no exceptions cross a public API of engine/core.
//
// `Status` says whether an operation succeeded and, if not, why (a code a caller can branch on and
// a message a human can read). `Result<T>` is a value or a Status; it is what decoders and
// validators return so that a caller cannot read a value that was never produced.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace meridian {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the caller's input is malformed (bad dimension, NaN, unknown enum, ...)
  kNotFound,         // the named thing does not exist
  kCorruption,       // bytes failed a checksum or a structural check
  kTruncated,        // bytes end before the structure they describe does
  kTooLarge,         // a size exceeds a documented limit
  kUnsupported,      // a known-but-unsupported variant (e.g. a future format version)
  kUnavailable,      // a dependency (log, peer region) cannot be reached now; retry later
};

// Stable lower-case name of a code, e.g. "corruption"; used in CLI output and JSON.
const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  static Status invalid_argument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status truncated(std::string m) { return {StatusCode::kTruncated, std::move(m)}; }
  static Status too_large(std::string m) { return {StatusCode::kTooLarge, std::move(m)}; }
  static Status unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
  static Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "corruption: record checksum mismatch (stored 0x..., computed 0x...)"
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value of type T, or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {
    assert(!std::get<Status>(v_).is_ok());
  }  // NOLINT

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }

  // REQUIRES: is_ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // Status::ok() when a value is present.
  Status status() const { return is_ok() ? Status::ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace meridian
