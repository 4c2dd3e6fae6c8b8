// AVX2 softmax and SwiGLU: ggml's vector exp 8 lanes at a time, with the reference's
// operations in its order (vector_math.cpp), so every result is the reference's bits.
#include <immintrin.h>
#include <math.h>

#include <cstdint>

#include "ops/vector_kernels.h"

namespace locara::ops {
namespace avx2 {
namespace {

// vector_expf for 8 lanes. j * 2^n is an exponent add while every result is a normal
// float (|n| <= 125, since j lies in [0.7, 1.5)); other lanes (flushes, subnormals,
// masked -inf scores) take the scalar code's path one by one.
inline __m256 exp_ps(__m256 x) {
  const __m256 shift = _mm256_set1_ps(0x1.8p23f);
  const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), shift);
  const __m256 n = _mm256_sub_ps(z, shift);
  const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                    _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
  const __m256 u = _mm256_mul_ps(b, b);
  const __m256 j = _mm256_fmadd_ps(
      _mm256_fmadd_ps(
          _mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), u,
          _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f))),
      u, _mm256_fmadd_ps(_mm256_set1_ps(0x1.ffffecp-1f), b, _mm256_set1_ps(1.0f)));
  const __m256 abs_n = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), n);
  const __m256 scaled = _mm256_castsi256_ps(
      _mm256_add_epi32(_mm256_castps_si256(j), _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23)));
  const int slow = _mm256_movemask_ps(_mm256_cmp_ps(abs_n, _mm256_set1_ps(125.0f), _CMP_GT_OQ));
  if (slow == 0) return scaled;
  alignas(32) float lanes[8], js[8], ns[8];
  _mm256_store_ps(lanes, scaled);
  _mm256_store_ps(js, j);
  _mm256_store_ps(ns, n);
  for (int i = 0; i < 8; ++i) {
    if ((slow >> i & 1) == 0) continue;
    lanes[i] = fabsf(ns[i]) > 192.0f ? (ns[i] <= 0.0f ? 0.0f : INFINITY)
                                     : ldexpf(js[i], static_cast<int>(ns[i]));
  }
  return _mm256_load_ps(lanes);
}

// sum_of_16's order over two vectors (elements 0-7 and 8-15): halves, quarters, pairs.
inline float sum_of_16(__m256 low, __m256 high) {
  const __m256 half = _mm256_add_ps(low, high);
  const __m128 quarter = _mm_add_ps(_mm256_castps256_ps128(half), _mm256_extractf128_ps(half, 1));
  const __m128 pairs = _mm_add_ps(quarter, _mm_movehl_ps(quarter, quarter));
  return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
}

SoftmaxStats softmax(float* x, int64_t n) {
  __m256 max8 = _mm256_set1_ps(-INFINITY);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) max8 = _mm256_max_ps(max8, _mm256_loadu_ps(x + i));
  alignas(32) float maxes[8];
  _mm256_store_ps(maxes, max8);
  float max = -INFINITY;
  for (float m : maxes) max = m > max ? m : max;
  for (; i < n; ++i) max = x[i] > max ? x[i] : max;

  const __m256 max_v = _mm256_set1_ps(max);
  double sum = 0.0;
  i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 low = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), max_v));
    const __m256 high = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), max_v));
    _mm256_storeu_ps(x + i, low);
    _mm256_storeu_ps(x + i + 8, high);
    sum += static_cast<double>(sum_of_16(low, high));
  }
  for (; i < n; ++i) {
    x[i] = expf(x[i] - max);
    sum += static_cast<double>(x[i]);
  }
  const auto inverse = static_cast<float>(1.0 / sum);
  const __m256 inverse_v = _mm256_set1_ps(inverse);
  i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inverse_v));
  for (; i < n; ++i) x[i] *= inverse;
  return {max, sum};
}

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 sign = _mm256_set1_ps(-0.0f);
  // Whole groups of 16 use the vector exp, as in the reference; the tail uses expf.
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int64_t k = i; k < i + 16; k += 8) {
      const __m256 g = _mm256_loadu_ps(gate + k);
      const __m256 e = exp_ps(_mm256_xor_ps(g, sign));  // exp(-g)
      const __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, e));
      _mm256_storeu_ps(out + k, _mm256_mul_ps(silu, _mm256_loadu_ps(up + k)));
    }
  }
  for (; i < n; ++i) out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

}  // namespace
}  // namespace avx2

void install_avx2_vector_kernels(VectorKernels& kernels) {
  kernels.softmax = avx2::softmax;
  kernels.swiglu = avx2::swiglu;
}

}  // namespace locara::ops
