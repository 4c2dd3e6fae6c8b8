// vec_dot of the 256-element K formats (Q4_K, Q5_K, Q6_K) against Q8_K activations, compiled
// twice like quant_dot_neon.h: plain NEON and with SDOT. Per super-block the integer sums
// are exact (sub-block scales applied in int32), then scaled once in float; the order of
// the float adds differs from the reference's eight lanes only in rounding.
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "ops/arm/neon_common.h"
#include "ops/kernel_table.h"
#include "ops/quant_blocks_k.h"

namespace locara::ops::arm::LOCARA_ARM_ISA {

// The 8 6-bit scales and 8 6-bit minimums of a Q4_K/Q5_K block (q4k_scale_min), as bytes:
// scales 0-3 are the low 6 bits of bytes 0-3, minimums 0-3 of bytes 4-7; scales 4-7 take
// the low nibbles of bytes 8-11 and the top 2 bits of bytes 0-3, minimums 4-7 the high
// nibbles of bytes 8-11 and the top 2 bits of bytes 4-7.
LOCARA_ARM_INLINE void k4_scales_mins(const uint8_t packed[12], uint8_t scales[8],
                                      uint8_t mins[8]) {
  uint32_t w[3];
  std::memcpy(w, packed, sizeof(w));
  const uint32_t low6 = 0x3f3f3f3fu;
  const uint32_t low4 = 0x0f0f0f0fu;
  const uint32_t top2 = 0x03030303u;
  const uint32_t s[2] = {w[0] & low6, (w[2] & low4) | (((w[0] >> 6) & top2) << 4)};
  const uint32_t m[2] = {w[1] & low6, ((w[2] >> 4) & low4) | (((w[1] >> 6) & top2) << 4)};
  std::memcpy(scales, s, sizeof(s));
  std::memcpy(mins, m, sizeof(m));
}

// sum over the 8 sub-blocks of 32 of min[j] * (sum of the activations in sub-block j),
// from Q8_K's 16 partial sums of 16.
LOCARA_ARM_INLINE int32_t k4_min_dot(const uint8_t mins[8], const int16_t bsums[16]) {
  const int16x8_t sums = vpaddq_s16(vld1q_s16(bsums), vld1q_s16(bsums + 8));
  const int16x8_t m = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(mins)));
  const int32x4_t products = vmlal_s16(vmull_s16(vget_low_s16(sums), vget_low_s16(m)),
                                       vget_high_s16(sums), vget_high_s16(m));
  return vaddvq_s32(products);
}

// Q4_K: in each 64-element chunk j, qs[32j + l] holds element 64j + l (low nibble, scale
// 2j) and 64j + 32 + l (high nibble, scale 2j + 1). Q5_K adds bit 4 of element 32k + l
// from bit k of qh[l]; HasHighBit selects it.
template <bool HasHighBit, class Block>
LOCARA_ARM_INLINE float k4_k5_dot(int64_t n, const Block* x, const BlockQ8_K* y) {
  float sum = 0.0f;
  const uint8x16_t low_nibble = vdupq_n_u8(0x0f);
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    uint8_t scales[8];
    uint8_t mins[8];
    k4_scales_mins(x[i].scales, scales, mins);
    const int32_t min_sum = k4_min_dot(mins, y[i].bsums);

    uint8x16_t qh0;
    uint8x16_t qh1;
    if constexpr (HasHighBit) {
      qh0 = vld1q_u8(x[i].qh);
      qh1 = vld1q_u8(x[i].qh + 16);
    }
    const uint8_t* qs = x[i].qs;
    const int8_t* q8 = y[i].qs;
    int32x4_t acc = vdupq_n_s32(0);
    for (int j = 0; j < 4; ++j, qs += 32, q8 += 64) {
      const uint8x16_t b0 = vld1q_u8(qs);
      const uint8x16_t b1 = vld1q_u8(qs + 16);
      uint8x16_t lo0 = vandq_u8(b0, low_nibble);
      uint8x16_t lo1 = vandq_u8(b1, low_nibble);
      uint8x16_t hi0 = vshrq_n_u8(b0, 4);
      uint8x16_t hi1 = vshrq_n_u8(b1, 4);
      if constexpr (HasHighBit) {
        // Bits 2j and 2j + 1 of qh, shifted down by 2 after each chunk.
        const uint8x16_t one = vdupq_n_u8(1);
        const uint8x16_t two = vdupq_n_u8(2);
        lo0 = vorrq_u8(lo0, vshlq_n_u8(vandq_u8(qh0, one), 4));
        lo1 = vorrq_u8(lo1, vshlq_n_u8(vandq_u8(qh1, one), 4));
        hi0 = vorrq_u8(hi0, vshlq_n_u8(vandq_u8(qh0, two), 3));
        hi1 = vorrq_u8(hi1, vshlq_n_u8(vandq_u8(qh1, two), 3));
        qh0 = vshrq_n_u8(qh0, 2);
        qh1 = vshrq_n_u8(qh1, 2);
      }
      const int32x4_t dot_lo = dot_i8x32(vreinterpretq_s8_u8(lo0), vreinterpretq_s8_u8(lo1),
                                         vld1q_s8(q8), vld1q_s8(q8 + 16));
      const int32x4_t dot_hi = dot_i8x32(vreinterpretq_s8_u8(hi0), vreinterpretq_s8_u8(hi1),
                                         vld1q_s8(q8 + 32), vld1q_s8(q8 + 48));
      acc = vmlaq_n_s32(acc, dot_lo, scales[2 * j]);
      acc = vmlaq_n_s32(acc, dot_hi, scales[2 * j + 1]);
    }
    const float d = half_to_float(x[i].d) * y[i].d;
    const float dmin = half_to_float(x[i].dmin) * y[i].d;
    sum += d * static_cast<float>(vaddvq_s32(acc)) - dmin * static_cast<float>(min_sum);
  }
  return sum;
}

inline float vec_dot_q4_k(int64_t n, const void* x, const void* y) {
  return k4_k5_dot<false>(n, static_cast<const BlockQ4_K*>(x), static_cast<const BlockQ8_K*>(y));
}

inline float vec_dot_q5_k(int64_t n, const void* x, const void* y) {
  return k4_k5_dot<true>(n, static_cast<const BlockQ5_K*>(x), static_cast<const BlockQ8_K*>(y));
}

// Q6_K: per 128-element half, ql[l] holds elements l (low nibble) and l + 64 (high),
// ql[l + 32] holds l + 32 and l + 96, and bits 2k..2k+1 of qh[l] are the top bits of
// element l + 32k; level = q - 32, scale scales[e / 16].
inline float vec_dot_q6_k(int64_t n, const void* xv, const void* yv) {
  const auto* x = static_cast<const BlockQ6_K*>(xv);
  const auto* y = static_cast<const BlockQ8_K*>(yv);
  const uint8x16_t low_nibble = vdupq_n_u8(0x0f);
  const uint8x16_t two_bits = vdupq_n_u8(0x30);
  const int8x16_t offset = vdupq_n_s8(32);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    int32x4_t acc = vdupq_n_s32(0);
    const int8_t* scales = x[i].scales;
    const int8_t* q8 = y[i].qs;
    for (int half = 0; half < 2; ++half, scales += 8, q8 += 128) {
      const uint8_t* ql = x[i].ql + 64 * half;
      const uint8_t* qh = x[i].qh + 32 * half;
      const uint8x16_t ql0 = vld1q_u8(ql);
      const uint8x16_t ql1 = vld1q_u8(ql + 16);
      const uint8x16_t ql2 = vld1q_u8(ql + 32);
      const uint8x16_t ql3 = vld1q_u8(ql + 48);
      const uint8x16_t qh0 = vld1q_u8(qh);
      const uint8x16_t qh1 = vld1q_u8(qh + 16);
      // The 8 groups of 16 elements of this half, in element order.
      const uint8x16_t q[8] = {
          vorrq_u8(vandq_u8(ql0, low_nibble), vandq_u8(vshlq_n_u8(qh0, 4), two_bits)),
          vorrq_u8(vandq_u8(ql1, low_nibble), vandq_u8(vshlq_n_u8(qh1, 4), two_bits)),
          vorrq_u8(vandq_u8(ql2, low_nibble), vandq_u8(vshlq_n_u8(qh0, 2), two_bits)),
          vorrq_u8(vandq_u8(ql3, low_nibble), vandq_u8(vshlq_n_u8(qh1, 2), two_bits)),
          vorrq_u8(vshrq_n_u8(ql0, 4), vandq_u8(qh0, two_bits)),
          vorrq_u8(vshrq_n_u8(ql1, 4), vandq_u8(qh1, two_bits)),
          vorrq_u8(vshrq_n_u8(ql2, 4), vandq_u8(vshrq_n_u8(qh0, 2), two_bits)),
          vorrq_u8(vshrq_n_u8(ql3, 4), vandq_u8(vshrq_n_u8(qh1, 2), two_bits)),
      };
#pragma GCC unroll 8
      for (int g = 0; g < 8; ++g) {
        const int8x16_t level = vsubq_s8(vreinterpretq_s8_u8(q[g]), offset);
        acc = vmlaq_n_s32(acc, dot_i8x16(level, vld1q_s8(q8 + 16 * g)), scales[g]);
      }
    }
    sum += half_to_float(x[i].d) * y[i].d * static_cast<float>(vaddvq_s32(acc));
  }
  return sum;
}

// Replaces vec_dot of the K formats that have NEON kernels.
inline void install_k_formats(KernelTable& table) {
  entry(table, TensorType::kQ4_K).vec_dot = &vec_dot_q4_k;
  entry(table, TensorType::kQ5_K).vec_dot = &vec_dot_q5_k;
  entry(table, TensorType::kQ6_K).vec_dot = &vec_dot_q6_k;
}

}  // namespace locara::ops::arm::LOCARA_ARM_ISA
