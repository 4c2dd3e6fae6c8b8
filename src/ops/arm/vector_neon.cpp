// NEON softmax and SwiGLU: ggml's vector exp 4 lanes at a time, with the reference's
// operations in its order (vector_math.cpp), so every result is the reference's bits.
#include <arm_neon.h>
#include <math.h>

#include <cstdint>

#include "ops/vector_kernels.h"

namespace locara::ops {
namespace neon_vector {
namespace {

// vector_expf for 4 lanes. j * 2^n is an exponent add while every result is a normal
// float (|n| <= 125, since j lies in [0.7, 1.5)); other lanes (flushes, subnormals,
// masked -inf scores) take the scalar code's path one by one.
inline float32x4_t exp_ps(float32x4_t x) {
  const float32x4_t shift = vdupq_n_f32(0x1.8p23f);
  const float32x4_t z = vfmaq_f32(shift, x, vdupq_n_f32(0x1.715476p+0f));
  const float32x4_t n = vsubq_f32(z, shift);
  const float32x4_t b =
      vfmsq_f32(vfmsq_f32(x, n, vdupq_n_f32(0x1.62e4p-1f)), n, vdupq_n_f32(0x1.7f7d1cp-20f));
  const float32x4_t u = vmulq_f32(b, b);
  const float32x4_t j = vfmaq_f32(
      vfmaq_f32(vdupq_n_f32(1.0f), vdupq_n_f32(0x1.ffffecp-1f), b),
      vfmaq_f32(vfmaq_f32(vdupq_n_f32(0x1.fffdb6p-2f), vdupq_n_f32(0x1.555e66p-3f), b),
                vfmaq_f32(vdupq_n_f32(0x1.573e2ep-5f), vdupq_n_f32(0x1.0e4020p-7f), b), u),
      u);
  const int32x4_t exponent = vshlq_n_s32(vcvtnq_s32_f32(n), 23);
  const float32x4_t scaled = vreinterpretq_f32_s32(vaddq_s32(vreinterpretq_s32_f32(j), exponent));
  const uint32x4_t slow = vcagtq_f32(n, vdupq_n_f32(125.0f));
  if (vmaxvq_u32(slow) == 0) return scaled;
  float lanes[4], js[4], ns[4];
  uint32_t slow_lanes[4];
  vst1q_f32(lanes, scaled);
  vst1q_f32(js, j);
  vst1q_f32(ns, n);
  vst1q_u32(slow_lanes, slow);
  for (int i = 0; i < 4; ++i) {
    if (slow_lanes[i] == 0) continue;
    lanes[i] = fabsf(ns[i]) > 192.0f ? (ns[i] <= 0.0f ? 0.0f : INFINITY)
                                     : ldexpf(js[i], static_cast<int>(ns[i]));
  }
  return vld1q_f32(lanes);
}

// sum_of_16's order over elements 0-3, 4-7, 8-11, 12-15: halves (v0 + v2, v1 + v3),
// quarters, then (q0 + q2) + (q1 + q3).
inline float sum_of_16(float32x4_t v0, float32x4_t v1, float32x4_t v2, float32x4_t v3) {
  const float32x4_t quarter = vaddq_f32(vaddq_f32(v0, v2), vaddq_f32(v1, v3));
  const float32x2_t pairs = vadd_f32(vget_low_f32(quarter), vget_high_f32(quarter));
  return vget_lane_f32(pairs, 0) + vget_lane_f32(pairs, 1);
}

SoftmaxStats softmax(float* x, int64_t n) {
  float32x4_t max4 = vdupq_n_f32(-INFINITY);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) max4 = vmaxq_f32(max4, vld1q_f32(x + i));
  float max = vmaxvq_f32(max4);
  for (; i < n; ++i) max = x[i] > max ? x[i] : max;

  const float32x4_t max_v = vdupq_n_f32(max);
  double sum = 0.0;
  i = 0;
  for (; i + 16 <= n; i += 16) {
    float32x4_t e[4];
    for (int k = 0; k < 4; ++k) {
      e[k] = exp_ps(vsubq_f32(vld1q_f32(x + i + 4 * k), max_v));
      vst1q_f32(x + i + 4 * k, e[k]);
    }
    sum += static_cast<double>(sum_of_16(e[0], e[1], e[2], e[3]));
  }
  for (; i < n; ++i) {
    x[i] = expf(x[i] - max);
    sum += static_cast<double>(x[i]);
  }
  const auto inverse = static_cast<float>(1.0 / sum);
  i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_n_f32(vld1q_f32(x + i), inverse));
  for (; i < n; ++i) x[i] *= inverse;
  return {max, sum};
}

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  const float32x4_t one = vdupq_n_f32(1.0f);
  // Whole groups of 16 use the vector exp, as in the reference; the tail uses expf.
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int64_t k = i; k < i + 16; k += 4) {
      const float32x4_t g = vld1q_f32(gate + k);
      const float32x4_t silu = vdivq_f32(g, vaddq_f32(one, exp_ps(vnegq_f32(g))));
      vst1q_f32(out + k, vmulq_f32(silu, vld1q_f32(up + k)));
    }
  }
  for (; i < n; ++i) out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

}  // namespace
}  // namespace neon_vector

void install_neon_vector_kernels(VectorKernels& kernels) {
  kernels.softmax = neon_vector::softmax;
  kernels.swiglu = neon_vector::swiglu;
}

}  // namespace locara::ops
