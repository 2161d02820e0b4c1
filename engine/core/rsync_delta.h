// librsync over in-memory buffers: the three steps of delta catch-up (DESIGN.md §4).
//
//   lagging region:  sig   = rsync_signature(old_segment)            -> sends sig
//   healthy region:  delta = rsync_delta(sig, new_segment)           -> sends delta
//   lagging region:  new   = rsync_patch(old_segment, delta)         -> verifies, installs
//
// Signatures use librsync's RabinKarp rolling checksum with BLAKE2 strong sums
// (RS_RK_BLAKE2_SIG_MAGIC, librsync >= 2.2). Defaults, chosen for segment files
// (docs/segment-format.md, "Delta transfer"):
//   block_len 1024   a changed 128-d vector (~560 bytes) dirties one or two blocks; the
//                    signature costs (4 + strong_len) / block_len = 1.2 % of the basis. The
//                    optimum for n bytes with c scattered changes is about sqrt(12 n / c).
//   strong_len 8     BLAKE2 truncated to 64 bits. With a 32-bit rolling sum in front, a false
//                    block match needs a 96-bit coincidence; a false match would in any case be
//                    caught by the segment's CRCs and the shard digest after patching, and the
//                    region then falls back to a full copy. (Not a defence against a peer that
//                    crafts collisions; peers are authenticated by mTLS.)
//
// Every function returns a Status rather than crashing on bad input: a corrupt or truncated
// signature or delta gives kCorruption / kTruncated with librsync's error text. Outputs are
// bounded: patch fails with kTooLarge rather than produce more than `max_output_bytes`.
// Thread-safety: the functions share no state except librsync's log sink, which they silence
// once (librsync would otherwise write errors to stderr).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/core/status.h"

namespace meridian {

struct RsyncSignatureOptions {
  size_t block_len = 1024;  // 256 .. 1 MiB
  size_t strong_len = 8;    // 4 .. 32 bytes of BLAKE2 (below 8 only with a verify-and-retry)
};

struct RsyncDeltaStats {
  uint64_t literal_bytes = 0;  // bytes of the new file sent as literal data
  uint64_t copy_bytes = 0;     // bytes of the new file sent as references to the basis
  uint64_t literal_commands = 0;
  uint64_t copy_commands = 0;
};

inline constexpr size_t kRsyncMaxOutputBytes = size_t(1) << 34;  // 16 GiB

// The librsync signature of `basis`. kInvalidArgument if the options are out of range.
Result<std::string> rsync_signature(std::string_view basis,
                                    const RsyncSignatureOptions& options = {});

// The delta that turns the file `signature` describes into `new_bytes`. kCorruption (or
// kTruncated, kUnsupported) if the signature is not a well-formed librsync BLAKE2 signature.
Result<std::string> rsync_delta(std::string_view signature, std::string_view new_bytes,
                                RsyncDeltaStats* stats = nullptr);

// Applies `delta` to `basis`. kCorruption/kTruncated for a malformed delta or one that refers
// outside the basis; kTooLarge if the output would exceed max_output_bytes.
Result<std::string> rsync_patch(std::string_view basis, std::string_view delta,
                                size_t max_output_bytes = kRsyncMaxOutputBytes);

}  // namespace meridian
