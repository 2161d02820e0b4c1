// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of every mutation record.
//
// Same parameters as iSCSI, ext4, LevelDB and Kafka: initial value ~0, final complement, so
// crc32c("123456789") == 0xE3069283 and the empty input has CRC 0. Chosen over CRC-32 (zlib)
// because x86-64 computes it in hardware (SSE4.2 `crc32`), which matters on the record hot path.
//
// Extending: the `crc` argument is the CRC of everything before `data`, so
//   crc32c(b, nb, crc32c(a, na)) == crc32c(a ++ b, na + nb).
// Pass 0 (the default) to start a new checksum.
#pragma once

#include <cstddef>
#include <cstdint>

namespace meridian {

// The CRC-32C of `n` bytes at `data`, continuing from `crc`. Uses the SSE4.2 instruction when the
// CPU has it (checked once, at the first call) and the portable version otherwise; both give
// identical results. `data` may be unaligned; it may be null only when `n` is 0. Thread-safe.
uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);

// The same function computed with tables only (slicing-by-8, about 1 GB/s). Exposed so that tests
// can check the fast path against it; production code calls crc32c().
uint32_t crc32c_portable(const void* data, size_t n, uint32_t crc = 0);

// True when crc32c() uses the SSE4.2 instruction on this machine (for logs and benchmarks).
bool crc32c_is_hardware_accelerated();

}  // namespace meridian
