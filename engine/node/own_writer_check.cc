#include "engine/node/own_writer_check.h"

#include <cassert>

namespace meridian::node {

void OwnWriterCheck::issued(uint64_t sequence, uint32_t crc) {
  const uint64_t next = first_sequence_ + crcs_.size();
  assert(crcs_.empty() || sequence >= next);
  if (crcs_.empty() || sequence < next || sequence - next > window_) {
    // The first, or past a gap no re-send can reach back over: nothing before it matters.
    crcs_.clear();
    first_sequence_ = sequence;
  } else {
    // Sequences skipped (the node's numbering moved past ones it learnt of elsewhere, e.g. a
    // peer's snapshot): never issued here, so a record that carries one is someone else's.
    crcs_.insert(crcs_.end(), sequence - next, kNotIssued);
  }
  crcs_.push_back(crc);
}

std::string OwnWriterCheck::check(uint64_t offset, uint64_t sequence, uint32_t crc) {
  // An earlier incarnation's record (read at recovery), or one delivered again.
  if (offset < checked_until_) return "";
  checked_until_ = offset + 1;
  // Only a foreign record pays for its description.
  auto at = [&] {
    return "sequence " + std::to_string(sequence) + " (offset " + std::to_string(offset) +
           "), appended after this node started, ";
  };
  if (crcs_.empty() || sequence < first_sequence_) {
    return at() + "is not one this node issued (its earliest kept is " +
           (crcs_.empty() ? std::string("none") : std::to_string(first_sequence_)) + ")";
  }
  const uint64_t index = sequence - first_sequence_;
  if (index >= crcs_.size()) {
    return at() + "is past the last this node issued (" +
           std::to_string(first_sequence_ + crcs_.size() - 1) + ")";
  }
  uint64_t& entry = crcs_[index];
  if (entry == kNotIssued) return at() + "is one this node skipped and never issued";
  const bool mine = uint32_t(entry) == crc;
  entry |= mine ? kOwnReadBack : kForeignSeen;
  if ((entry & kOwnReadBack) != 0 && (entry & kForeignSeen) != 0 && (entry & kCounted) == 0) {
    entry |= kCounted;
    ++collisions_;
  }
  if (!mine) return at() + "holds another record than the one this node wrote";
  if (sequence > highest_read_) highest_read_ = sequence;
  // What no re-send can reach any more (see the header) is forgotten; the newest stays, as the
  // next issued sequence follows it.
  while (crcs_.size() > 1 && first_sequence_ + window_ < highest_read_) {
    crcs_.pop_front();
    ++first_sequence_;
  }
  return "";
}

}  // namespace meridian::node
