// ggml's block layouts for the 32-element quantization formats, byte for byte as they lie
// in a GGUF file. Scales are raw fp16 bits (see half.h); blocks are plain data.
#pragma once

#include <cstddef>
#include <cstdint>

namespace locara::ops {

// Every format here quantizes blocks of 32 consecutive values of a row.
inline constexpr int64_t kQuantBlockSize = 32;

// value = (q - 8) * d; qs[j] holds element j in its low nibble and j + 16 in its high one.
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQuantBlockSize / 2];
};

// value = q * d + m; nibbles as in Q4_0.
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQuantBlockSize / 2];
};

// value = (q - 16) * d; the low 4 bits as in Q4_0, bit 4 of element j is bit j of qh
// (a little-endian uint32).
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQuantBlockSize / 2];
};

// value = q * d + m; bits as in Q5_0.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQuantBlockSize / 2];
};

// value = q * d.
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQuantBlockSize];
};

// value = q * d; s = d * sum(q) (as fp16), which lets Q4_1/Q5_1 dots add their offset
// m * sum(y) without a second pass.
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[kQuantBlockSize];
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ8_1) == 36);

}  // namespace locara::ops
