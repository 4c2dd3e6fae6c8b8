// vec_dot and gemm_tile of the 32-element block formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0)
// against Q8_0/Q8_1 activations, written once as templates and compiled twice: plain NEON
// (quant_dot_neon.cpp) and with SDOT (quant_dot_dotprod.cpp), see neon_common.h.
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ops/arm/neon_common.h"
#include "ops/kernel_table.h"
#include "ops/quant_blocks.h"
#include "ops/tile_loop.h"

namespace locara::ops::arm::LOCARA_ARM_ISA {

// Each format turns one weight block into 32 signed bytes (elements 0-15 in lo,
// 16-31 in hi, matching the activation block's two halves) plus its scale, and says
// whether it carries a minimum (value = q * d + m) that pairs with Q8_1's s = d * sum(q).

// Bit 4 of each 5-bit quantity of a Q5 block as 0x10 or 0: element j takes bit j of qh.
LOCARA_ARM_INLINE void q5_high_bits(const uint8_t qh_bytes[4], uint8x16_t& lo, uint8x16_t& hi) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, sizeof(qh));
  const uint8x16_t bytes = vreinterpretq_u8_u32(vdupq_n_u32(qh));
  static constexpr uint8_t kLoBytes[16] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
  static constexpr uint8_t kHiBytes[16] = {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
  static constexpr uint8_t kBits[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t bits = vld1q_u8(kBits);
  const uint8x16_t bit4 = vdupq_n_u8(0x10);
  lo = vandq_u8(vtstq_u8(vqtbl1q_u8(bytes, vld1q_u8(kLoBytes)), bits), bit4);
  hi = vandq_u8(vtstq_u8(vqtbl1q_u8(bytes, vld1q_u8(kHiBytes)), bits), bit4);
}

struct Q4_0Format {
  using Block = BlockQ4_0;
  using ActivationBlock = BlockQ8_0;
  static constexpr bool kHasMin = false;
  static LOCARA_ARM_INLINE void unpack(const Block& b, int8x16_t& lo, int8x16_t& hi) {
    const uint8x16_t qs = vld1q_u8(b.qs);
    const int8x16_t eight = vdupq_n_s8(8);
    lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(qs, vdupq_n_u8(0x0f))), eight);
    hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(qs, 4)), eight);
  }
};

struct Q4_1Format {
  using Block = BlockQ4_1;
  using ActivationBlock = BlockQ8_1;
  static constexpr bool kHasMin = true;
  static LOCARA_ARM_INLINE void unpack(const Block& b, int8x16_t& lo, int8x16_t& hi) {
    const uint8x16_t qs = vld1q_u8(b.qs);
    lo = vreinterpretq_s8_u8(vandq_u8(qs, vdupq_n_u8(0x0f)));
    hi = vreinterpretq_s8_u8(vshrq_n_u8(qs, 4));
  }
};

struct Q5_0Format {
  using Block = BlockQ5_0;
  using ActivationBlock = BlockQ8_0;
  static constexpr bool kHasMin = false;
  static LOCARA_ARM_INLINE void unpack(const Block& b, int8x16_t& lo, int8x16_t& hi) {
    uint8x16_t high_lo;
    uint8x16_t high_hi;
    q5_high_bits(b.qh, high_lo, high_hi);
    const uint8x16_t qs = vld1q_u8(b.qs);
    const int8x16_t sixteen = vdupq_n_s8(16);
    lo = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(qs, vdupq_n_u8(0x0f)), high_lo)), sixteen);
    hi = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(qs, 4), high_hi)), sixteen);
  }
};

struct Q5_1Format {
  using Block = BlockQ5_1;
  using ActivationBlock = BlockQ8_1;
  static constexpr bool kHasMin = true;
  static LOCARA_ARM_INLINE void unpack(const Block& b, int8x16_t& lo, int8x16_t& hi) {
    uint8x16_t high_lo;
    uint8x16_t high_hi;
    q5_high_bits(b.qh, high_lo, high_hi);
    const uint8x16_t qs = vld1q_u8(b.qs);
    lo = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(qs, vdupq_n_u8(0x0f)), high_lo));
    hi = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(qs, 4), high_hi));
  }
};

struct Q8_0Format {
  using Block = BlockQ8_0;
  using ActivationBlock = BlockQ8_0;
  static constexpr bool kHasMin = false;
  static LOCARA_ARM_INLINE void unpack(const Block& b, int8x16_t& lo, int8x16_t& hi) {
    lo = vld1q_s8(b.qs);
    hi = vld1q_s8(b.qs + 16);
  }
};

// Running sums of one (weight row, token) pair. Blocks alternate between two sets by
// parity, so consecutive blocks do not wait on each other's multiply-add.
template <class F, int R, int T>
struct TileSums {
  float32x4_t scaled[R][T];  // sum over blocks of float(int dot) * d_x * d_y, per lane
  float mins[R][T];          // sum over blocks of m_x * s_y (formats with a minimum)
};

template <class F, int R, int T>
LOCARA_ARM_INLINE void zero(TileSums<F, R, T>& sums) {
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      sums.scaled[r][t] = vdupq_n_f32(0.0f);
      sums.mins[r][t] = 0.0f;
    }
  }
}

// Adds block i of R weight rows times block i of T activation rows. Each weight block is
// unpacked once and reused for all T tokens.
template <class F, int R, int T>
LOCARA_ARM_INLINE void add_block(int64_t i, const uint8_t* weights, size_t weight_row_bytes,
                                 const uint8_t* activations, size_t activation_row_bytes,
                                 TileSums<F, R, T>& sums) {
  using Block = typename F::Block;
  using ActivationBlock = typename F::ActivationBlock;
  int8x16_t x_lo[R];
  int8x16_t x_hi[R];
  float x_d[R];
  float x_m[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    const Block& b = reinterpret_cast<const Block*>(weights + r * weight_row_bytes)[i];
    F::unpack(b, x_lo[r], x_hi[r]);
    x_d[r] = half_to_float(b.d);
    if constexpr (F::kHasMin) x_m[r] = half_to_float(b.m);
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) {
    const ActivationBlock& y =
        reinterpret_cast<const ActivationBlock*>(activations + t * activation_row_bytes)[i];
    const int8x16_t y_lo = vld1q_s8(y.qs);
    const int8x16_t y_hi = vld1q_s8(y.qs + 16);
    const float y_d = half_to_float(y.d);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const int32x4_t dot = dot_i8x32(x_lo[r], x_hi[r], y_lo, y_hi);
      sums.scaled[r][t] = vfmaq_n_f32(sums.scaled[r][t], vcvtq_f32_s32(dot), x_d[r] * y_d);
      if constexpr (F::kHasMin) sums.mins[r][t] += x_m[r] * half_to_float(y.s);
    }
  }
}

// R weight rows times T activation rows over nb blocks, into out[t * out_stride + r].
// vec_dot is the 1 x 1 case, so every tile size gives each pair vec_dot's exact bits.
template <class F, int R, int T>
LOCARA_ARM_INLINE void dot_tile(int64_t nb, const uint8_t* weights, size_t weight_row_bytes,
                                const uint8_t* activations, size_t activation_row_bytes, float* out,
                                int64_t out_stride) {
  TileSums<F, R, T> even;
  TileSums<F, R, T> odd;
  zero(even);
  zero(odd);
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    add_block(i, weights, weight_row_bytes, activations, activation_row_bytes, even);
    add_block(i + 1, weights, weight_row_bytes, activations, activation_row_bytes, odd);
  }
  if (i < nb) add_block(i, weights, weight_row_bytes, activations, activation_row_bytes, even);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      float sum = vaddvq_f32(vaddq_f32(even.scaled[r][t], odd.scaled[r][t]));
      if constexpr (F::kHasMin) sum += even.mins[r][t] + odd.mins[r][t];
      out[t * out_stride + r] = sum;
    }
  }
}

template <class F>
float vec_dot(int64_t n, const void* x, const void* y) {
  float out;
  dot_tile<F, 1, 1>(n / kQuantBlockSize, static_cast<const uint8_t*>(x), 0,
                    static_cast<const uint8_t*>(y), 0, &out, 1);
  return out;
}

// Micro-tile shapes (weight rows x tokens): the largest that keep both parities' sums, the
// unpacked weight blocks and an activation block in the 32 vector registers without
// spilling (checked in the generated code of both ISAs). Formats with a minimum carry two
// more scalars per pair, and SDOT-less dots more temporaries: those tiles reuse one row
// across two tokens.
template <class F>
struct TileShape {
#if defined(__ARM_FEATURE_DOTPROD)
  static constexpr int kRows = F::kHasMin ? 1 : 2;
#else
  static constexpr int kRows = 1;
#endif
  static constexpr int kTokens = 2;
};

template <class F>
struct DotBlocks {
  template <int R, int T>
  struct Block {
    static void run(const tiling::GemmOperands& part) {
      dot_tile<F, R, T>(part.n / kQuantBlockSize, part.weights, part.weight_row_bytes,
                        part.activations, part.activation_row_bytes, part.out, part.out_stride);
    }
  };
};

template <class F>
void install_format(KernelTable& table, TensorType type) {
  TypeTraits& traits = entry(table, type);
  traits.vec_dot = &vec_dot<F>;
  // Rows outside, tokens inside: a block's weight rows stay in L1 while every token reads
  // them.
  traits.gemm_tile = &tiling::gemm_in_blocks<DotBlocks<F>::template Block, TileShape<F>::kRows,
                                             TileShape<F>::kTokens>;
}

// Replaces vec_dot and gemm_tile of every 32-element block format.
inline void install_block_formats(KernelTable& table) {
  install_format<Q4_0Format>(table, TensorType::kQ4_0);
  install_format<Q4_1Format>(table, TensorType::kQ4_1);
  install_format<Q5_0Format>(table, TensorType::kQ5_0);
  install_format<Q5_1Format>(table, TensorType::kQ5_1);
  install_format<Q8_0Format>(table, TensorType::kQ8_0);
}

}  // namespace locara::ops::arm::LOCARA_ARM_ISA
