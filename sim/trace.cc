#include "sim/trace.h"

#include <cstdio>

namespace meridian::sim {

namespace {

class Folder {
 public:
  explicit Folder(uint64_t* digest) : d_(digest) {}
  Folder& bytes(const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) {
      *d_ ^= b[i];
      *d_ *= 0x100000001b3ull;
    }
    return *this;
  }
  Folder& u64(uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
    return bytes(b, 8);
  }
  Folder& str(const std::string& s) { return u64(s.size()).bytes(s.data(), s.size()); }

 private:
  uint64_t* d_;
};

}  // namespace

void Trace::write_acked(const AckedWrite& w) {
  Folder(&digest_)
      .u64(1)
      .str(w.collection)
      .str(w.vector_id)
      .u64(w.origin)
      .u64(w.shard)
      .u64(w.sequence)
      .u64(w.timestamp)
      .u64(uint64_t(w.acked_at))
      .str(w.client_region);
  acked_.push_back(w);
}

void Trace::request(const RequestSample& r) {
  Folder(&digest_)
      .u64(2)
      .u64(uint64_t(r.kind))
      .str(r.client_region)
      .str(r.served_region)
      .u64(uint64_t(r.sent_at))
      .u64(uint64_t(r.latency))
      .u64(r.ok)
      .u64(r.stale)
      .u64(r.cost_modelled);
  requests_.push_back(r);
}

void Trace::session_read(const SessionReadSample& s) {
  Folder(&digest_)
      .u64(3)
      .str(s.client_region)
      .str(s.served_region)
      .str(s.expected_id)
      .u64(s.satisfied_claimed)
      .u64(s.found)
      .u64(s.forwarded)
      .u64(uint64_t(s.at));
  session_reads_.push_back(s);
}

void Trace::applied(const std::string& region, const std::string& collection, RegionId origin,
                    uint32_t shard, uint64_t sequence, TimeNs at) {
  if (!applied_.emplace(ApplyKey{region, collection, origin, shard, sequence}, at).second) return;
  Folder(&digest_)
      .u64(4)
      .str(region)
      .str(collection)
      .u64(origin)
      .u64(shard)
      .u64(sequence)
      .u64(uint64_t(at));
}

void Trace::corrupt_record(const std::string& region, const std::string& what) {
  Folder(&digest_).u64(5).str(region).str(what);
  ++corrupt_;
}

void Trace::note(TimeNs at, const std::string& text) {
  Folder(&digest_).u64(6).u64(uint64_t(at)).str(text);
  notes_.emplace_back(at, text);
}

void Trace::fold(const std::string& bytes) { Folder(&digest_).u64(7).str(bytes); }

std::string Trace::digest_hex() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(digest_));
  return buf;
}

const TimeNs* Trace::applied_at(const std::string& region, const std::string& collection,
                                RegionId origin, uint32_t shard, uint64_t sequence) const {
  auto it = applied_.find(ApplyKey{region, collection, origin, shard, sequence});
  return it == applied_.end() ? nullptr : &it->second;
}

}  // namespace meridian::sim
