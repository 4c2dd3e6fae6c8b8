// Q8_0, Q8_1 and Q8_K quantization of activation rows with Advanced SIMD, byte for byte
// the reference's (quantize_ref.cpp, kquants_quantize_ref.cpp): the same maximum (NaNs
// ignored, as the scalar comparisons do), the same scalar scale and inverse, one rounded
// product per element: FCVTAS rounds half away from zero like std::round (Q8_0, Q8_1),
// FCVTNS half to even like ggml's nearest_int (Q8_K).
#include <arm_neon.h>

#include <cstring>

#include "ops/arm/arm_kernels.h"
#include "ops/arm/neon_common.h"
#include "ops/quant_blocks.h"
#include "ops/quant_blocks_k.h"

namespace locara::ops::arm {
namespace {

using neon::float_to_half;

struct QuantizedBlock {
  float d;  // the scale before rounding to fp16 (Q8_1's s uses it)
  uint16_t d_bits;
  int32x4_t q[8];  // the 32 rounded values, still int32
};

LOCARA_ARM_INLINE QuantizedBlock quantize_block(const float* x) {
  float32x4_t v[8];
  for (int k = 0; k < 8; ++k) v[k] = vld1q_f32(x + 4 * k);
  // vmaxnm returns the number when one side is NaN; starting from 0 as the reference does
  // makes a block of NaNs give 0 too.
  float32x4_t amax = vdupq_n_f32(0.0f);
  for (int k = 0; k < 8; ++k) amax = vmaxnmq_f32(amax, vabsq_f32(v[k]));
  const float d = vmaxnmvq_f32(amax) / 127;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  QuantizedBlock out;
  out.d = d;
  out.d_bits = float_to_half(d);
  for (int k = 0; k < 8; ++k) out.q[k] = vcvtaq_s32_f32(vmulq_n_f32(v[k], id));
  return out;
}

// Narrows 32 int32 values (in [-127, 127] by construction) to int8.
LOCARA_ARM_INLINE void store_bytes(const int32x4_t q[8], int8_t* dst) {
  for (int k = 0; k < 2; ++k) {
    const int16x8_t a = vcombine_s16(vmovn_s32(q[4 * k]), vmovn_s32(q[4 * k + 1]));
    const int16x8_t b = vcombine_s16(vmovn_s32(q[4 * k + 2]), vmovn_s32(q[4 * k + 3]));
    vst1q_s8(dst + 16 * k, vcombine_s8(vmovn_s16(a), vmovn_s16(b)));
  }
}

void from_float_q8_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQuantBlockSize; ++i, src += kQuantBlockSize) {
    const QuantizedBlock block = quantize_block(src);
    blocks[i].d = block.d_bits;
    store_bytes(block.q, blocks[i].qs);
  }
}

void from_float_q8_1(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kQuantBlockSize; ++i, src += kQuantBlockSize) {
    const QuantizedBlock block = quantize_block(src);
    int32x4_t sum = block.q[0];
    for (int k = 1; k < 8; ++k) sum = vaddq_s32(sum, block.q[k]);
    blocks[i].d = block.d_bits;
    store_bytes(block.q, blocks[i].qs);
    // The exact integer sum times the unrounded scale, as the reference computes s.
    blocks[i].s = float_to_half(static_cast<float>(vaddvq_s32(sum)) * block.d);
  }
}

// The value of largest magnitude in a Q8_K block, the first one on a tie of +a and -a (as
// the reference's strict "greater than" scan picks it); 0 for a block of zeros.
LOCARA_ARM_INLINE float signed_absolute_max_256(const float* x) {
  float32x4_t hi = vdupq_n_f32(0.0f);
  float32x4_t lo = hi;
  for (int k = 0; k < kSuperBlockSize; k += 4) {
    const float32x4_t v = vld1q_f32(x + k);
    hi = vmaxnmq_f32(hi, v);
    lo = vminnmq_f32(lo, v);
  }
  const float max = vmaxnmvq_f32(hi);
  const float min = vminnmvq_f32(lo);
  if (max > -min) return max;
  if (-min > max) return min;
  if (max == 0.0f) return 0.0f;
  for (int k = 0; k < kSuperBlockSize; ++k) {  // both +a and -a occur: rare, scan
    if (x[k] == max || x[k] == min) return x[k];
  }
  return max;
}

void from_float_q8_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i, src += kSuperBlockSize) {
    BlockQ8_K& y = blocks[i];
    const float max = signed_absolute_max_256(src);
    if (max == 0.0f) {
      std::memset(&y, 0, sizeof(y));
      continue;
    }
    const float iscale = -127.f / max;
    for (int g = 0; g < kSuperBlockSize / 16; ++g) {
      int32x4_t q[4];
      for (int k = 0; k < 4; ++k) {
        const int32x4_t rounded =
            vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(src + 16 * g + 4 * k), iscale));
        q[k] = vminq_s32(rounded, vdupq_n_s32(127));
      }
      const int16x8_t a = vcombine_s16(vmovn_s32(q[0]), vmovn_s32(q[1]));
      const int16x8_t b = vcombine_s16(vmovn_s32(q[2]), vmovn_s32(q[3]));
      vst1q_s8(y.qs + 16 * g, vcombine_s8(vmovn_s16(a), vmovn_s16(b)));
      y.bsums[g] =
          static_cast<int16_t>(vaddvq_s32(vaddq_s32(vaddq_s32(q[0], q[1]), vaddq_s32(q[2], q[3]))));
    }
    y.d = 1 / iscale;
  }
}

}  // namespace

void install_quantize_kernels(KernelTable& table) {
  entry(table, TensorType::kQ8_0).from_float = &from_float_q8_0;
  entry(table, TensorType::kQ8_1).from_float = &from_float_q8_1;
  entry(table, TensorType::kQ8_K).from_float = &from_float_q8_k;
}

}  // namespace locara::ops::arm
