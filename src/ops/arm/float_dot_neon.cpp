// F32 and F16 dot products and the F16 activation conversion with Advanced SIMD. F16 rows
// are widened to f32 (exact) and accumulate in four float32x4 with fused multiply-adds,
// never in f16; F32 rows accumulate in double (see vec_dot_f32).
#include <arm_neon.h>

#include "ops/arm/arm_kernels.h"
#include "ops/arm/neon_common.h"

namespace locara::ops::arm {
namespace {

using neon::half_to_float;

LOCARA_ARM_INLINE float reduce(float32x4_t a0, float32x4_t a1, float32x4_t a2, float32x4_t a3) {
  return vaddvq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)));
}

// F32 rounds each product to float and adds in double, as the reference does, rather than
// fusing multiply-adds in float: small float models (stories260K) are sensitive enough to
// the last bit of K and V before their fp16 rounding that a float-accumulated dot moves the
// first logprobs by 1e-2 against llama.cpp's, while this one gives the reference's bits
// (but for double rounding). F32 matrices are read at 4 bytes an element, so the double
// adds still keep pace with memory.
float vec_dot_f32(int64_t n, const void* x, const void* y) {
  const auto* xf = static_cast<const float*>(x);
  const auto* yf = static_cast<const float*>(y);
  float64x2_t a0 = vdupq_n_f64(0.0);
  float64x2_t a1 = a0;
  float64x2_t a2 = a0;
  float64x2_t a3 = a0;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float32x4_t p0 = vmulq_f32(vld1q_f32(xf + i), vld1q_f32(yf + i));
    const float32x4_t p1 = vmulq_f32(vld1q_f32(xf + i + 4), vld1q_f32(yf + i + 4));
    a0 = vaddq_f64(a0, vcvt_f64_f32(vget_low_f32(p0)));
    a1 = vaddq_f64(a1, vcvt_high_f64_f32(p0));
    a2 = vaddq_f64(a2, vcvt_f64_f32(vget_low_f32(p1)));
    a3 = vaddq_f64(a3, vcvt_high_f64_f32(p1));
  }
  double sum = vaddvq_f64(vaddq_f64(vaddq_f64(a0, a1), vaddq_f64(a2, a3)));
  for (; i < n; ++i) sum += static_cast<double>(xf[i] * yf[i]);
  return static_cast<float>(sum);
}

LOCARA_ARM_INLINE float16x8_t load_halves(const uint16_t* p) {
  return vreinterpretq_f16_u16(vld1q_u16(p));
}

float vec_dot_f16(int64_t n, const void* x, const void* y) {
  const auto* xh = static_cast<const uint16_t*>(x);
  const auto* yh = static_cast<const uint16_t*>(y);
  float32x4_t a0 = vdupq_n_f32(0.0f);
  float32x4_t a1 = a0;
  float32x4_t a2 = a0;
  float32x4_t a3 = a0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const float16x8_t x0 = load_halves(xh + i);
    const float16x8_t y0 = load_halves(yh + i);
    const float16x8_t x1 = load_halves(xh + i + 8);
    const float16x8_t y1 = load_halves(yh + i + 8);
    a0 = vfmaq_f32(a0, vcvt_f32_f16(vget_low_f16(x0)), vcvt_f32_f16(vget_low_f16(y0)));
    a1 = vfmaq_f32(a1, vcvt_high_f32_f16(x0), vcvt_high_f32_f16(y0));
    a2 = vfmaq_f32(a2, vcvt_f32_f16(vget_low_f16(x1)), vcvt_f32_f16(vget_low_f16(y1)));
    a3 = vfmaq_f32(a3, vcvt_high_f32_f16(x1), vcvt_high_f32_f16(y1));
  }
  for (; i + 4 <= n; i += 4) {
    const float16x4_t x0 = vreinterpret_f16_u16(vld1_u16(xh + i));
    const float16x4_t y0 = vreinterpret_f16_u16(vld1_u16(yh + i));
    a0 = vfmaq_f32(a0, vcvt_f32_f16(x0), vcvt_f32_f16(y0));
  }
  float sum = reduce(a0, a1, a2, a3);
  for (; i < n; ++i) sum += half_to_float(xh[i]) * half_to_float(yh[i]);
  return sum;
}

// Round to nearest even, as fp32_to_fp16; a NaN becomes the reference's quiet NaN
// (sign | 0x7e00) rather than the instruction's payload-keeping one.
LOCARA_ARM_INLINE uint16x4_t floats_to_halves(float32x4_t v) {
  const uint16x4_t converted = vreinterpret_u16_f16(vcvt_f16_f32(v));
  const uint16x4_t is_number = vmovn_u32(vceqq_f32(v, v));
  const uint16x4_t sign = vand_u16(converted, vdup_n_u16(0x8000));
  const uint16x4_t canonical_nan = vorr_u16(sign, vdup_n_u16(0x7e00));
  return vbsl_u16(is_number, converted, canonical_nan);
}

void from_float_f16(const float* src, void* dst, int64_t n) {
  auto* h = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    vst1_u16(h + i, floats_to_halves(vld1q_f32(src + i)));
    vst1_u16(h + i + 4, floats_to_halves(vld1q_f32(src + i + 4)));
  }
  for (; i + 4 <= n; i += 4) vst1_u16(h + i, floats_to_halves(vld1q_f32(src + i)));
  for (; i < n; ++i) {
    uint16_t bits[4];
    vst1_u16(bits, floats_to_halves(vdupq_n_f32(src[i])));
    h[i] = bits[0];
  }
}

}  // namespace

void install_float_dot_kernels(KernelTable& table) {
  entry(table, TensorType::kF32).vec_dot = &vec_dot_f32;
  entry(table, TensorType::kF16).vec_dot = &vec_dot_f16;
  entry(table, TensorType::kF16).from_float = &from_float_f16;
}

}  // namespace locara::ops::arm
