// patch(a, delta(signature(a), b)) == b for any a and b: b derived from a by random edits
// (insertions, deletions, overwritten ranges, duplicated ranges), and unrelated b.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "engine/core/mutation_gen.h"
#include "engine/core/rsync_delta.h"

namespace meridian {
namespace {

using gen_detail::uniform_in;

// `n` bytes from a seed drawn by RapidCheck (byte-by-byte generation would be far too slow for
// files of hundreds of kilobytes; the seed still replays and shrinks).
std::string seeded_bytes(size_t n) {
  uint64_t x = *rc::gen::arbitrary<uint64_t>() | 1;
  std::string out(n, '\0');
  for (char& c : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x >> 24);
  }
  return out;
}

// Mostly-compressible bytes (runs of repeated patterns) mixed with random ones, so that blocks of
// `a` recur inside `a` and the matcher sees ambiguous candidates.
rc::Gen<std::string> gen_basis(size_t max_bytes) {
  return rc::gen::exec([max_bytes] {
    const size_t n = *uniform_in<size_t>(0, max_bytes);
    std::string s;
    while (s.size() < n) {
      if (*uniform_in<int>(0, 3) == 0) {
        s += std::string(*uniform_in<size_t>(1, 3000), char(*uniform_in<int>(0, 3)));
      } else {
        s += seeded_bytes(*uniform_in<size_t>(1, 4000));
      }
    }
    s.resize(n);
    return s;
  });
}

std::string edit(std::string b) {
  const size_t edits = *uniform_in<size_t>(0, 12);
  for (size_t e = 0; e < edits; ++e) {
    const size_t at = *uniform_in<size_t>(0, b.size());
    switch (*uniform_in<int>(0, 3)) {
      case 0:  // insertion
        b.insert(at, seeded_bytes(*uniform_in<size_t>(1, 2500)));
        break;
      case 1:  // deletion
        b.erase(at, *uniform_in<size_t>(0, 3000));
        break;
      case 2: {  // overwrite a range (a changed vector in a block)
        const std::string with = seeded_bytes(*uniform_in<size_t>(1, 1500));
        b.replace(at, std::min(with.size(), b.size() - at), with);
        break;
      }
      default: {  // duplicate a range elsewhere (moved content)
        const size_t len = std::min<size_t>(*uniform_in<size_t>(0, 5000), b.size() - at);
        const std::string piece = b.substr(at, len);
        b.insert(*uniform_in<size_t>(0, b.size()), piece);
        break;
      }
    }
  }
  return b;
}

void check_roundtrip(const std::string& a, const std::string& b, size_t block_len) {
  Result<std::string> sig = rsync_signature(a, {.block_len = block_len, .strong_len = 8});
  RC_ASSERT(sig.is_ok());
  Result<std::string> delta = rsync_delta(*sig, b);
  RC_ASSERT(delta.is_ok());
  Result<std::string> patched = rsync_patch(a, *delta);
  RC_ASSERT(patched.is_ok());
  RC_ASSERT(*patched == b);
}

RC_GTEST_PROP(RsyncDeltaProperties, PatchOfDeltaOfEditedCopyGivesTheCopy, ()) {
  const std::string a = *gen_basis(200000);
  const std::string b = edit(a);
  const size_t block_len = *rc::gen::element<size_t>(256, 1024, 4096);
  check_roundtrip(a, b, block_len);
}

RC_GTEST_PROP(RsyncDeltaProperties, PatchOfDeltaOfUnrelatedBytesGivesThem, ()) {
  const std::string a = *gen_basis(50000);
  const std::string b = *gen_basis(50000);
  check_roundtrip(a, b, 256);
}

RC_GTEST_PROP(RsyncDeltaProperties, UnchangedFileNeedsOnlyCopies, ()) {
  const std::string a = *gen_basis(100000);
  Result<std::string> sig = rsync_signature(a);
  RC_ASSERT(sig.is_ok());
  RsyncDeltaStats stats;
  Result<std::string> delta = rsync_delta(*sig, a, &stats);
  RC_ASSERT(delta.is_ok());
  // Only the tail shorter than a block can be literal.
  RC_ASSERT(stats.literal_bytes < 1024u);
  RC_ASSERT(*rsync_patch(a, *delta) == a);
}

}  // namespace
}  // namespace meridian
