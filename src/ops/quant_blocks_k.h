// ggml's block layouts for the 256-element "K" super-block formats (Q2_K..Q8_K, IQ4_XS)
// and the non-linear 4-bit IQ4_NL, byte for byte as they lie in a GGUF file.
#pragma once

#include <cstdint>

#include "ops/quant_blocks.h"

namespace locara::ops {

// Elements per super-block (ggml's QK_K). Every format here but IQ4_NL quantizes a row in
// super-blocks of 256 values, split into sub-blocks of 16 or 32 with their own scales.
inline constexpr int64_t kSuperBlockSize = 256;

// Scales are raw fp16 bits (see half.h) except Q8_K's, a float. Within a super-block,
// "element e" is value e of the 256.

// value = d * (scales[s] & 0xF) * q - dmin * (scales[s] >> 4), s = e / 16, q 2 bits.
// qs[32 * h + l] holds elements 128 * h + 32 * k + l in bits 2k..2k+1 (k = 0..3).
struct BlockQ2_K {
  uint8_t scales[kSuperBlockSize / 16];
  uint8_t qs[kSuperBlockSize / 4];
  uint16_t d;
  uint16_t dmin;
};

// value = d * (scale[s] - 32) * (q - 4 * !high), s = e / 16: 6-bit scales (unpack with
// q3k_scales), low 2 bits of q packed as in Q2_K, high bit of element 32 * k + l (k =
// 0..7, l < 32) is bit k of hmask[l]; a set bit means "no -4".
struct BlockQ3_K {
  uint8_t hmask[kSuperBlockSize / 8];
  uint8_t qs[kSuperBlockSize / 4];
  uint8_t scales[12];
  uint16_t d;
};

// value = d * sc * q - dmin * m, (sc, m) = q4k_scale_min(e / 32, scales), q 4 bits:
// qs[32 * h + l] holds element 64 * h + l in its low nibble and 64 * h + 32 + l in its
// high nibble.
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[kSuperBlockSize / 2];
};

// As Q4_K with a fifth bit: bit 4 of element 32 * k + l (k = 0..7, l < 32) is bit k of
// qh[l].
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[kSuperBlockSize / 8];
  uint8_t qs[kSuperBlockSize / 2];
};

// value = d * scales[e / 16] * (q - 32), q 6 bits. In each half h (128 elements, ql + 64h,
// qh + 32h), for l < 32: ql[l] holds elements l (low nibble) and l + 64 (high nibble),
// ql[l + 32] holds l + 32 and l + 96; bits 2k..2k+1 of qh[l] are the top two bits of
// element l + 32k.
struct BlockQ6_K {
  uint8_t ql[kSuperBlockSize / 2];
  uint8_t qh[kSuperBlockSize / 4];
  int8_t scales[kSuperBlockSize / 16];
  uint16_t d;
};

// Activations only: value = d * qs[e]; bsums[g] = sum of qs[16g .. 16g + 15], which lets
// the dots of formats with a minimum (Q2_K, Q4_K, Q5_K) add it without a second pass.
struct BlockQ8_K {
  float d;
  int8_t qs[kSuperBlockSize];
  int16_t bsums[kSuperBlockSize / 16];
};

// 32-element blocks: value = d * kIq4nlValues[q]; nibbles as in Q4_0 (element j low,
// j + 16 high).
struct BlockIQ4_NL {
  uint16_t d;
  uint8_t qs[kQuantBlockSize / 2];
};

// value = d * (ls - 32) * kIq4nlValues[q], ls = 6-bit scale of sub-block b = e / 32: low
// 4 bits are nibble b % 2 of scales_l[b / 2], high 2 bits are bits 2b..2b+1 of scales_h.
// Each sub-block's 16 bytes of qs are packed as one IQ4_NL block.
struct BlockIQ4_XS {
  uint16_t d;
  uint16_t scales_h;
  uint8_t scales_l[kSuperBlockSize / 64];
  uint8_t qs[kSuperBlockSize / 2];
};

static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);
static_assert(sizeof(BlockIQ4_NL) == 18);
static_assert(sizeof(BlockIQ4_XS) == 136);

// The 16 levels of IQ4_NL and IQ4_XS (ggml's kvalues_iq4nl), sorted ascending.
inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

// The 6-bit scale and minimum of sub-block j (0..7) of a Q4_K/Q5_K block (ggml's
// get_scale_min_k4): j < 4 sit in the low 6 bits of bytes j and j + 4; j >= 4 keep their
// low 4 bits in byte j + 4 and their top 2 bits in the spare top bits of bytes j - 4 / j.
inline void q4k_scale_min(int j, const uint8_t scales[12], uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = scales[j] & 63;
    *min = scales[j + 4] & 63;
  } else {
    *scale = static_cast<uint8_t>((scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4));
    *min = static_cast<uint8_t>((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
  }
}

// The 16 6-bit scales of a Q3_K block, still offset by 32: scale s has its low 4 bits in
// nibble s / 8 of byte s % 8 and its top 2 bits in bits 2 * (s / 4)..+1 of byte 8 + s % 4.
inline void q3k_scales(const uint8_t packed[12], int8_t out[16]) {
  for (int s = 0; s < 16; ++s) {
    const int low = (packed[s % 8] >> (4 * (s / 8))) & 0xF;
    const int high = (packed[8 + s % 4] >> (2 * (s / 4))) & 3;
    out[s] = static_cast<int8_t>(low | (high << 4));
  }
}

}  // namespace locara::ops
