// Hybrid logical clock (Kulkarni, Demirbas et al., "Logical Physical Clocks", 2014), as pure
// logic: the caller passes in its wall-clock reading; this class never reads a clock itself.
//
// Why HLC rather than a plain Lamport counter: an HLC timestamp stays within the clock skew of
// real time, so last-writer-wins picks the write a user would call "later", and bounded staleness
// can be stated in milliseconds ("replica is at most 200 ms behind"). It still captures causality
// like Lamport (if a happened before b, ts(a) < ts(b)), because every receive merges the sender's
// timestamp. And it tolerates skew: a region whose wall clock lags simply rides on the larger
// timestamps it observes (its logical counter grows) instead of issuing timestamps in the past.
//
// Encoding: one uint64_t = (physical_ms << 16) | logical. Comparing the integers compares
// (physical, logical) lexicographically. physical_ms is milliseconds since the Unix epoch and must
// fit in 48 bits (until the year 10889). 0 means "no timestamp" (see Stamp in mutation.h): a clock
// never returns it.
//
// Restart: the clock keeps no state on disk. A restarted node must observe() the largest timestamp
// in its log before its first tick(), so that it never reissues a timestamp.
#pragma once

#include <cstdint>

namespace meridian {

inline constexpr int kHlcLogicalBits = 16;
inline constexpr uint64_t kHlcMaxLogical = 0xFFFF;
inline constexpr uint64_t kHlcMaxPhysicalMs = (uint64_t{1} << 48) - 1;

// REQUIRES: physical_ms <= kHlcMaxPhysicalMs.
constexpr uint64_t hlc_make(uint64_t physical_ms, uint16_t logical) {
  return (physical_ms << kHlcLogicalBits) | logical;
}
constexpr uint64_t hlc_physical_ms(uint64_t timestamp) { return timestamp >> kHlcLogicalBits; }
constexpr uint16_t hlc_logical(uint64_t timestamp) {
  return static_cast<uint16_t>(timestamp & kHlcMaxLogical);
}

// How far ahead of the local wall clock a remote timestamp may be before it counts as a skew
// violation: well above NTP error, well below anything that would confuse bounded staleness.
inline constexpr uint64_t kDefaultMaxForwardSkewMs = 5000;

// One region's clock. Not thread-safe: the owner serialises calls (engine code is single-threaded).
class HybridLogicalClock {
 public:
  explicit HybridLogicalClock(uint64_t max_forward_skew_ms = kDefaultMaxForwardSkewMs)
      : max_forward_skew_ms_(max_forward_skew_ms) {}

  // A local event or a send, at wall-clock reading `physical_ms` (which may go backwards).
  // Returns max(last() + 1, hlc_make(physical_ms, 0)): strictly greater than every timestamp this
  // clock has returned or observed, and never 0. When the logical counter would pass 0xFFFF, the
  // +1 carries into the physical part (one ms ahead of it, logical reset to 0).
  // REQUIRES: physical_ms <= kHlcMaxPhysicalMs, and last() < UINT64_MAX.
  uint64_t tick(uint64_t physical_ms);

  // A receive of a message stamped `remote_timestamp`, at wall-clock reading `physical_ms`.
  // Returns max(last() + 1, remote_timestamp + 1, hlc_make(physical_ms, 0)), which is the paper's
  // receive rule (with the same logical-overflow carry as tick()): the result is greater than
  // both the previous last() and remote_timestamp.
  //
  // A remote physical part more than max_forward_skew_ms ahead of physical_ms is still merged:
  // the record is already committed in its origin's log, and rejecting it would lose data. It is
  // counted in skew_violations() so the node can report the misbehaving clock.
  // REQUIRES: physical_ms <= kHlcMaxPhysicalMs, and remote_timestamp, last() < UINT64_MAX.
  uint64_t observe(uint64_t remote_timestamp, uint64_t physical_ms);

  // The largest timestamp returned so far (0 before the first call). Observed remote timestamps
  // are always below it, since observe() returns something larger.
  uint64_t last() const { return last_; }

  uint64_t max_forward_skew_ms() const { return max_forward_skew_ms_; }
  // Number of observe() calls whose remote physical part exceeded physical_ms by more than
  // max_forward_skew_ms().
  uint64_t skew_violations() const { return skew_violations_; }
  // Largest amount, in ms, by which an observed remote physical part was ahead of the local
  // physical_ms passed with it (0 if none was ahead), whether or not it was a violation.
  uint64_t max_observed_forward_skew_ms() const { return max_observed_forward_skew_ms_; }

 private:
  uint64_t max_forward_skew_ms_;
  uint64_t last_ = 0;
  uint64_t skew_violations_ = 0;
  uint64_t max_observed_forward_skew_ms_ = 0;
};

}  // namespace meridian
