#include "engine/core/crc32c.h"

#include <array>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace meridian {

// Word loads below read bytes in little-endian order (the portable slicing and the SSE4.2 path
// both rely on it). Every platform we ship to is little-endian; fail loudly if that changes.
static_assert(std::endian::native == std::endian::little, "crc32c.cc assumes a little-endian host");

namespace {

constexpr uint32_t kPolynomial = 0x82F63B78;  // Castagnoli, bit-reflected

// kTables[0][b] is the CRC register after feeding byte b into a zero register; kTables[k][b] is
// the same byte followed by k zero bytes, which lets slicing-by-8 fold 8 input bytes per step.
using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables make_tables() {
  Tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int bit = 0; bit < 8; ++bit) c = (c >> 1) ^ ((c & 1) ? kPolynomial : 0);
    t[0][b] = c;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (uint32_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFF];
  }
  return t;
}

constexpr Tables kTables = make_tables();
// Byte 0x80 reaches the register's low bit after 7 shifts, so the 8th shift XORs in exactly the
// polynomial: a cheap compile-time check that the table generator is the reflected form.
static_assert(kTables[0][0x80] == kPolynomial);

uint64_t load_u64(const uint8_t* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// Works on the raw (already complemented) CRC register.
uint32_t extend_portable(uint32_t c, const uint8_t* p, size_t n) {
  while (n >= 8) {
    uint64_t w = load_u64(p) ^ c;
    c = kTables[7][w & 0xFF] ^ kTables[6][(w >> 8) & 0xFF] ^ kTables[5][(w >> 16) & 0xFF] ^
        kTables[4][(w >> 24) & 0xFF] ^ kTables[3][(w >> 32) & 0xFF] ^ kTables[2][(w >> 40) & 0xFF] ^
        kTables[1][(w >> 48) & 0xFF] ^ kTables[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = (c >> 8) ^ kTables[0][(c ^ *p++) & 0xFF];
  return c;
}

// Feeding `kZeros` zero bytes into the raw CRC register is a linear map of the register, so it
// can be applied one register byte at a time: kShift[j][b] is the image of byte b in position j.
// The 3-way SSE4.2 loop below uses it to glue its three independent CRCs back together.
using ShiftTables = std::array<std::array<uint32_t, 256>, 4>;

constexpr ShiftTables make_shift_tables(size_t zeros) {
  ShiftTables t{};
  for (size_t j = 0; j < 4; ++j) {
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t c = b << (8 * j);
      for (size_t i = 0; i < zeros; ++i) c = (c >> 8) ^ kTables[0][c & 0xFF];
      t[j][b] = c;
    }
  }
  return t;
}

uint32_t shift(const ShiftTables& t, uint32_t c) {
  return t[0][c & 0xFF] ^ t[1][(c >> 8) & 0xFF] ^ t[2][(c >> 16) & 0xFF] ^ t[3][c >> 24];
}

#if defined(__x86_64__)

// The `crc32` instruction has a latency of 3 cycles but a throughput of 1 per cycle, so one
// dependency chain (8 bytes / 3 cycles, ~7 GB/s) leaves two thirds of the unit idle. For inputs of
// at least 3 stripes we run three chains over adjacent stripes and combine them with
//   raw(c, A B D) = shift_2S(raw(c, A)) ^ shift_S(raw(0, B)) ^ raw(0, D),
// which holds because the register update is linear. A 64-byte stripe keeps the combine tables
// small (8 KiB) and already helps records of a few hundred bytes.
constexpr size_t kStripe = 64;
constexpr ShiftTables kShiftStripe = make_shift_tables(kStripe);
constexpr ShiftTables kShiftTwoStripes = make_shift_tables(2 * kStripe);

__attribute__((target("sse4.2"))) uint32_t extend_sse42(uint32_t c, const uint8_t* p, size_t n) {
  while (n >= 3 * kStripe) {
    uint64_t a = c, b = 0, d = 0;
    for (size_t i = 0; i < kStripe; i += 8) {
      a = _mm_crc32_u64(a, load_u64(p + i));
      b = _mm_crc32_u64(b, load_u64(p + kStripe + i));
      d = _mm_crc32_u64(d, load_u64(p + 2 * kStripe + i));
    }
    c = shift(kShiftTwoStripes, static_cast<uint32_t>(a)) ^
        shift(kShiftStripe, static_cast<uint32_t>(b)) ^ static_cast<uint32_t>(d);
    p += 3 * kStripe;
    n -= 3 * kStripe;
  }
  uint64_t c64 = c;
  while (n >= 8) {
    c64 = _mm_crc32_u64(c64, load_u64(p));
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c64);
  if (n >= 4) {
    uint32_t w;
    std::memcpy(&w, p, sizeof w);
    c32 = _mm_crc32_u32(c32, w);
    p += 4;
    n -= 4;
  }
  while (n-- > 0) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}

bool cpu_has_sse42() {
  // __builtin_cpu_init must run before __builtin_cpu_supports when we may be called from a static
  // constructor that runs before libgcc's own; it is idempotent and cheap.
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
}

#else

bool cpu_has_sse42() { return false; }

#endif

bool use_hardware() {
  // A function-local static, not a namespace-scope one, so that a crc32c() call from another
  // translation unit's static initializer still sees the CPU check done.
  static const bool has = cpu_has_sse42();
  return has;
}

}  // namespace

uint32_t crc32c_portable(const void* data, size_t n, uint32_t crc) {
  return ~extend_portable(~crc, static_cast<const uint8_t*>(data), n);
}

uint32_t crc32c(const void* data, size_t n, uint32_t crc) {
#if defined(__x86_64__)
  if (use_hardware()) return ~extend_sse42(~crc, static_cast<const uint8_t*>(data), n);
#endif
  return crc32c_portable(data, n, crc);
}

bool crc32c_is_hardware_accelerated() { return use_hardware(); }

}  // namespace meridian
