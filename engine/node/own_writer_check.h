// Recognises records in a region's own log partition that this node incarnation did not write:
// the sign of a second live writer for the region (split brain).
//
// Why: a region has one writer per partition. The simulator's log fences an earlier incarnation's
// producer, but Kafka does not fence a *live* second node of the same region on another host
// (KafkaLog's producer is idempotent, not transactional: docs/kafka.md, "Fencing"). Two writers
// issue the same sequence numbers; every region keeps whichever copy comes first in the log (the
// version vector drops the other as a duplicate), so all regions agree, but the other writer's
// acknowledged write is gone without a trace. This check cannot prevent that (the write was
// acknowledged once the broker had it), but it makes it loud within one read-back of the own
// partition, so the node can stop taking writes instead of losing them for as long as both run.
//
// The rule: every record appended to the partition after this incarnation started (at or after
// the partition's end offset then) must be one this incarnation issued, i.e. a sequence it issued,
// carrying the same checksum (stored_record_crc(): CRC-32C of the rest, which includes
// its timestamp: another writer's record of the same sequence differs with probability 1 - 2^-32).
// Re-sends after a failed append repeat records (ShardProducer), but only records still pending,
// so a re-sent record's sequence is never more than `window` (the admission bound) below the
// highest sequence read back before it; checksums are kept that far back and no further.
//
// Which writer yields. Every record carries its producer's writer id (env::LogRecord::writer):
// the incarnation's epoch, one more than the newest epoch it found in its own log and heartbeats
// before its first write, and a random nonce that orders two nodes that chose the same epoch. The
// older of two live writers stops taking writes as soon as it reads a record or heartbeat of the
// newer one; the newer one keeps its writes going (a node restarted to replace one that was cut
// off is the one meant to write, as a newer Kafka producer epoch fences an older one). A record
// without a writer id (a build that predates it) stops the node that reads it, as before.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

namespace meridian::node {

// Writer ids as region nodes choose them: a larger id is a newer incarnation; 0 is none.
inline uint64_t make_writer_id(uint32_t epoch, uint32_t nonce) {
  return (uint64_t(epoch) << 32) | nonce;
}
inline uint32_t writer_epoch(uint64_t writer_id) { return uint32_t(writer_id >> 32); }

class OwnWriterCheck {
 public:
  // `window`: how far below the highest sequence read back a legitimate re-send can be (at least
  // the admission bound on pending writes).
  explicit OwnWriterCheck(uint64_t window = 0) : window_(window) {}

  // This incarnation owns the partition from `from_offset` (its end offset at start) on.
  void start(uint64_t from_offset) { checked_until_ = from_offset; }

  // This incarnation issued `sequence` (each one once, ascending; a sequence skipped is never
  // this node's) for a record with checksum `crc`.
  void issued(uint64_t sequence, uint32_t crc);

  // A record read back at `offset` with `sequence` and checksum `crc`. Returns "" if it is one
  // this incarnation wrote, was appended before it started, or was checked already (a consumer
  // may deliver a record twice), else why it cannot be this incarnation's.
  std::string check(uint64_t offset, uint64_t sequence, uint32_t crc);

  // Checksums kept (issued and not yet read back, plus the re-send window).
  size_t kept() const { return crcs_.size(); }

  // Sequences this node issued that another writer's record took as well, with other contents
  // (a "holds another record" from check(), whichever copy came first): every region keeps the
  // first copy and drops the second as a duplicate, so one of the two writes is lost. Counted
  // once per sequence, when both copies have been read back within the re-send window (a copy
  // read back after its sequence left the window is reported by check() but not counted; a copy
  // of this node's that never reaches the log lost nothing). The other reasons check() gives
  // are records that collided with nothing of this node's.
  uint64_t collisions() const { return collisions_; }

 private:
  uint64_t window_;
  uint64_t checked_until_ = 0;   // records at smaller offsets were checked (or predate start)
  uint64_t first_sequence_ = 0;  // the sequence of crcs_.front(); 0 = nothing issued yet
  uint64_t highest_read_ = 0;    // highest sequence read back that matched
  static constexpr uint64_t kNotIssued = ~uint64_t{0};
  // Flags next to the checksum (bits 0-31) of an issued sequence's entry.
  static constexpr uint64_t kOwnReadBack = uint64_t{1} << 32;  // this node's copy was read
  static constexpr uint64_t kForeignSeen = uint64_t{1} << 33;  // another writer's copy was read
  static constexpr uint64_t kCounted = uint64_t{1} << 34;      // counted in collisions_
  // By sequence, from first_sequence_: a checksum with flags, or kNotIssued.
  std::deque<uint64_t> crcs_;
  uint64_t collisions_ = 0;
};

}  // namespace meridian::node
