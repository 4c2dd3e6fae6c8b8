// AVX-512 softmax and SwiGLU: ggml's vector exp 16 lanes at a time, with the reference's
// operations in its order (vector_math.cpp), so every result is the reference's bits.
// clang-format off
#include "ops/x86/simd_avx512.h"  // first: it includes <immintrin.h>, see there
// clang-format on

#include <math.h>

#include <cstdint>

#include "ops/vector_kernels.h"

namespace locara::ops {
namespace avx512 {
namespace {

// vector_expf for 16 lanes: the same FMAs, then scalef (j * 2^n, rounded once like
// ldexp); lanes with |n| > 192 flush to 0 or infinity as the scalar code does.
inline __m512 exp_ps(__m512 x) {
  const __m512 shift = _mm512_set1_ps(0x1.8p23f);
  const __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), shift);
  const __m512 n = _mm512_sub_ps(z, shift);
  const __m512 b = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7f7d1cp-20f),
                                    _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e4p-1f), x));
  const __m512 u = _mm512_mul_ps(b, b);
  const __m512 j = _mm512_fmadd_ps(
      _mm512_fmadd_ps(
          _mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b, _mm512_set1_ps(0x1.573e2ep-5f)), u,
          _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b, _mm512_set1_ps(0x1.fffdb6p-2f))),
      u, _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, _mm512_set1_ps(1.0f)));
  const __mmask16 out_of_range =
      _mm512_cmp_ps_mask(_mm512_abs_ps(n), _mm512_set1_ps(192.0f), _CMP_GT_OQ);
  if (out_of_range == 0) return _mm512_scalef_ps(j, n);
  const __mmask16 non_positive = _mm512_cmp_ps_mask(n, _mm512_setzero_ps(), _CMP_LE_OQ);
  const __m512 limit =
      _mm512_mask_blend_ps(non_positive, _mm512_set1_ps(INFINITY), _mm512_setzero_ps());
  return _mm512_mask_blend_ps(out_of_range, _mm512_scalef_ps(j, n), limit);
}

// sum_of_16's order: halves, quarters, then (q0 + q2) + (q1 + q3).
inline float sum_of_16(__m512 v) {
  const __m256 half = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  const __m128 quarter = _mm_add_ps(_mm256_castps256_ps128(half), _mm256_extractf128_ps(half, 1));
  const __m128 pairs = _mm_add_ps(quarter, _mm_movehl_ps(quarter, quarter));
  return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
}

SoftmaxStats softmax(float* x, int64_t n) {
  __m512 max16 = _mm512_set1_ps(-INFINITY);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) max16 = _mm512_max_ps(max16, _mm512_loadu_ps(x + i));
  float max = _mm512_reduce_max_ps(max16);
  for (; i < n; ++i) max = x[i] > max ? x[i] : max;

  const __m512 max_v = _mm512_set1_ps(max);
  double sum = 0.0;
  i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), max_v));
    _mm512_storeu_ps(x + i, e);
    sum += static_cast<double>(sum_of_16(e));
  }
  for (; i < n; ++i) {
    x[i] = expf(x[i] - max);
    sum += static_cast<double>(x[i]);
  }
  const auto inverse = static_cast<float>(1.0 / sum);
  const __m512 inverse_v = _mm512_set1_ps(inverse);
  i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inverse_v));
  for (; i < n; ++i) x[i] *= inverse;
  return {max, sum};
}

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 g = _mm512_loadu_ps(gate + i);
    const __m512 e = exp_ps(_mm512_xor_ps(g, _mm512_set1_ps(-0.0f)));  // exp(-g)
    const __m512 silu = _mm512_div_ps(g, _mm512_add_ps(one, e));
    _mm512_storeu_ps(out + i, _mm512_mul_ps(silu, _mm512_loadu_ps(up + i)));
  }
  for (; i < n; ++i) out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

}  // namespace
}  // namespace avx512

void install_avx512_vector_kernels(VectorKernels& kernels) {
  kernels.softmax = avx512::softmax;
  kernels.swiglu = avx512::swiglu;
}

}  // namespace locara::ops
