// vec_dot and gemm_tile of the 256-element K formats (Q4_K, Q5_K, Q6_K) against Q8_K
// activations, written once as templates and compiled twice like quant_dot_neon.h: plain
// NEON and with SDOT. A register block of R weight rows x T tokens goes through the
// super-blocks; each row's levels are unpacked 32 at a time and reused for all T tokens.
// Per (row, token) the integer sums of a super-block are exact (sub-block scales applied
// in int32), then scaled once in float; vec_dot is the 1 x 1 block, so every gemm_tile
// result is vec_dot's bits. The order of the float adds differs from the reference's
// eight lanes only in rounding.
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "ops/arm/neon_common.h"
#include "ops/kernel_table.h"
#include "ops/quant_blocks_k.h"
#include "ops/tile_loop.h"

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

// A format turns a block into a Row (its scales, decoded once per super-block) and then
// 32 elements ("unit" u, elements 32u .. 32u + 31) at a time into signed bytes, lo the
// first 16 and hi the next; add_unit adds their dot with the activations, scaled, and
// add_term closes the super-block in float as vec_dot always did.

// Q4_K: qs[32j + l] holds element 64j + l (low nibble, sub-block 2j) and 64j + 32 + l
// (high nibble, sub-block 2j + 1). Q5_K adds bit 4 of element 32k + l from bit k of
// qh[l] (kHighBit).
template <class BlockType, bool kHighBit>
struct K4Format {
  using Block = BlockType;
  struct Row {
    const Block* block;
    uint8_t scales[8];
    uint8_t mins[8];
  };

  static LOCARA_ARM_INLINE void prepare(const Block& b, Row& row) {
    row.block = &b;
    k4_scales_mins(b.scales, row.scales, row.mins);
  }

  static LOCARA_ARM_INLINE void unit(const Row& row, int u, int8x16_t& lo, int8x16_t& hi) {
    const uint8_t* qs = row.block->qs + 32 * (u / 2);
    uint8x16_t b0 = vld1q_u8(qs);
    uint8x16_t b1 = vld1q_u8(qs + 16);
    if (u % 2 == 0) {
      b0 = vandq_u8(b0, vdupq_n_u8(0x0f));
      b1 = vandq_u8(b1, vdupq_n_u8(0x0f));
    } else {
      b0 = vshrq_n_u8(b0, 4);
      b1 = vshrq_n_u8(b1, 4);
    }
    if constexpr (kHighBit) {
      const uint8x16_t bit = vdupq_n_u8(static_cast<uint8_t>(1u << u));
      const uint8x16_t bit4 = vdupq_n_u8(0x10);
      b0 = vorrq_u8(b0, vandq_u8(vtstq_u8(vld1q_u8(row.block->qh), bit), bit4));
      b1 = vorrq_u8(b1, vandq_u8(vtstq_u8(vld1q_u8(row.block->qh + 16), bit), bit4));
    }
    lo = vreinterpretq_s8_u8(b0);
    hi = vreinterpretq_s8_u8(b1);
  }

  static LOCARA_ARM_INLINE int32x4_t add_unit(int32x4_t acc, const Row& row, int u, int8x16_t lo,
                                              int8x16_t hi, int8x16_t y_lo, int8x16_t y_hi) {
    return vmlaq_n_s32(acc, dot_i8x32(lo, hi, y_lo, y_hi), row.scales[u]);
  }

  static LOCARA_ARM_INLINE float add_term(float sum, int32_t isum, const Row& row,
                                          const BlockQ8_K& y) {
    const float d = half_to_float(row.block->d) * y.d;
    const float dmin = half_to_float(row.block->dmin) * y.d;
    return sum + (d * static_cast<float>(isum) -
                  dmin * static_cast<float>(k4_min_dot(row.mins, y.bsums)));
  }
};

// Q6_K: per 128-element half h (ql + 64h, qh + 32h), ql[l] holds elements l (low nibble)
// and l + 64 (high), ql[l + 32] holds l + 32 and l + 96, and bits 2k, 2k + 1 of qh[l] are
// the top bits of element l + 32k; level = q - 32, scale scales[e / 16] (two per unit).
struct K6Format {
  using Block = BlockQ6_K;
  struct Row {
    const Block* block;
  };

  static LOCARA_ARM_INLINE void prepare(const Block& b, Row& row) { row.block = &b; }

  static LOCARA_ARM_INLINE void unit(const Row& row, int u, int8x16_t& lo, int8x16_t& hi) {
    const int part = u % 4;
    const uint8_t* ql = row.block->ql + 64 * (u / 4) + 32 * (part % 2);
    const uint8_t* qh = row.block->qh + 32 * (u / 4);
    uint8x16_t l0 = vld1q_u8(ql);
    uint8x16_t l1 = vld1q_u8(ql + 16);
    if (part < 2) {
      l0 = vandq_u8(l0, vdupq_n_u8(0x0f));
      l1 = vandq_u8(l1, vdupq_n_u8(0x0f));
    } else {
      l0 = vshrq_n_u8(l0, 4);
      l1 = vshrq_n_u8(l1, 4);
    }
    // Bits 2 part, 2 part + 1 of qh to bits 4, 5.
    const int8x16_t shift = vdupq_n_s8(static_cast<int8_t>(4 - 2 * part));
    const uint8x16_t two_bits = vdupq_n_u8(0x30);
    const uint8x16_t h0 = vandq_u8(vshlq_u8(vld1q_u8(qh), shift), two_bits);
    const uint8x16_t h1 = vandq_u8(vshlq_u8(vld1q_u8(qh + 16), shift), two_bits);
    const int8x16_t offset = vdupq_n_s8(32);
    lo = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(l0, h0)), offset);
    hi = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(l1, h1)), offset);
  }

  static LOCARA_ARM_INLINE int32x4_t add_unit(int32x4_t acc, const Row& row, int u, int8x16_t lo,
                                              int8x16_t hi, int8x16_t y_lo, int8x16_t y_hi) {
    acc = vmlaq_n_s32(acc, dot_i8x16(lo, y_lo), row.block->scales[2 * u]);
    return vmlaq_n_s32(acc, dot_i8x16(hi, y_hi), row.block->scales[2 * u + 1]);
  }

  static LOCARA_ARM_INLINE float add_term(float sum, int32_t isum, const Row& row,
                                          const BlockQ8_K& y) {
    return sum + half_to_float(row.block->d) * y.d * static_cast<float>(isum);
  }
};

using Q4KFormat = K4Format<BlockQ4_K, false>;
using Q5KFormat = K4Format<BlockQ5_K, true>;

// R weight rows times T activation rows of part, into part.out.
template <class F, int R, int T>
LOCARA_ARM_INLINE void k_dot_tile(const tiling::GemmOperands& part) {
  using Block = typename F::Block;
  float sums[R][T] = {};
  for (int64_t i = 0; i < part.n / kSuperBlockSize; ++i) {
    typename F::Row rows[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      F::prepare(reinterpret_cast<const Block*>(part.weights + r * part.weight_row_bytes)[i],
                 rows[r]);
    }
    const BlockQ8_K* y[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      y[t] =
          reinterpret_cast<const BlockQ8_K*>(part.activations + t * part.activation_row_bytes) + i;
    }
    int32x4_t acc[R][T];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) acc[r][t] = vdupq_n_s32(0);
    }
#pragma GCC unroll 8
    for (int u = 0; u < 8; ++u) {
      int8x16_t lo[R];
      int8x16_t hi[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) F::unit(rows[r], u, lo[r], hi[r]);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const int8x16_t y_lo = vld1q_s8(y[t]->qs + 32 * u);
        const int8x16_t y_hi = vld1q_s8(y[t]->qs + 32 * u + 16);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) {
          acc[r][t] = F::add_unit(acc[r][t], rows[r], u, lo[r], hi[r], y_lo, y_hi);
        }
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        sums[r][t] = F::add_term(sums[r][t], vaddvq_s32(acc[r][t]), rows[r], *y[t]);
      }
    }
  }
  for (int t = 0; t < T; ++t) {
    for (int r = 0; r < R; ++r) part.out[t * part.out_stride + r] = sums[r][t];
  }
}

template <class F>
struct KDotBlocks {
  template <int R, int T>
  struct Block {
    static void run(const tiling::GemmOperands& part) { k_dot_tile<F, R, T>(part); }
  };
};

template <class F>
float k_vec_dot(int64_t n, const void* x, const void* y) {
  float out;
  k_dot_tile<F, 1, 1>(
      {n, static_cast<const uint8_t*>(x), 0, 1, static_cast<const uint8_t*>(y), 0, 1, &out, 1});
  return out;
}

// Register blocks of 2 rows x 4 tokens: the sums (8), two rows' unpacked units (4) and
// one token's activations (2) stay in registers with room for the temporaries.
template <class F>
void install_k_format(KernelTable& table, TensorType type) {
  TypeTraits& traits = entry(table, type);
  traits.vec_dot = &k_vec_dot<F>;
  traits.gemm_tile = &tiling::gemm_in_blocks<KDotBlocks<F>::template Block, 2, 4>;
}

// Replaces vec_dot and gemm_tile of the K formats that have NEON kernels.
inline void install_k_formats(KernelTable& table) {
  install_k_format<Q4KFormat>(table, TensorType::kQ4_K);
  install_k_format<Q5KFormat>(table, TensorType::kQ5_K);
  install_k_format<K6Format>(table, TensorType::kQ6_K);
}

}  // namespace locara::ops::arm::LOCARA_ARM_ISA
