// AVX2 + F16C row conversions: activation quantization to Q8_0 / Q8_1 and the
// half-precision formats, each writing exactly the reference's bytes (activations must
// not depend on the instruction set).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ops/quant_blocks.h"
#include "ops/x86/simd_avx2.h"
#include "ops/x86/x86_kernels.h"

namespace locara::ops::avx2 {
namespace {

// One 32-value block as the reference quantizes it: d = amax / 127, q = roundf(x / d).
// Returns the sum of the quantized values (Q8_1 stores it scaled).
inline int quantize_q8_block(const float* src, uint16_t* d_bits, int8_t* qs, float* d_out) {
  __m256 v[4];
  __m256 amax = _mm256_setzero_ps();
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  for (int i = 0; i < 4; ++i) {
    v[i] = _mm256_loadu_ps(src + 8 * i);
    amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_bit, v[i]));
  }
  // max is exact and order-free for non-NaN inputs, as the reference's running max.
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  const float d = _mm_cvtss_f32(m) / 127;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  *d_bits = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  *d_out = d;
  const __m256 scale = _mm256_set1_ps(id);
  __m256i q[4];
  for (int i = 0; i < 4; ++i) {
    q[i] = _mm256_cvtps_epi32(round_half_away(_mm256_mul_ps(v[i], scale)));
  }
  // int32 -> int8 in element order: the packs work per 128-bit lane, a permute restores it.
  const __m256i q16a = _mm256_packs_epi32(q[0], q[1]);
  const __m256i q16b = _mm256_packs_epi32(q[2], q[3]);
  const __m256i q8 = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(q16a, q16b),
                                                 _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(qs), q8);
  return hsum_epi32(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
}

// 8 floats -> 8 fp16 as the reference rounds them (F16C keeps a NaN's payload; the
// reference writes the canonical quiet NaN).
inline __m128i floats_to_fp16(__m256 v) {
  const __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256i bits = _mm256_castps_si256(v);
  const __m256i quiet =
      _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(0x8000)),
                      _mm256_set1_epi32(0x7e00));
  const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  // 32-bit lanes -> 16-bit: quiet (<= 0xfe00) fits the unsigned packs, the all-ones
  // mask the signed ones.
  const __m256i quiet16 = _mm256_permute4x64_epi64(_mm256_packus_epi32(quiet, quiet), 0x08);
  const __m256i nan16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(nan, nan), 0x08);
  return _mm_blendv_epi8(h, _mm256_castsi256_si128(quiet16), _mm256_castsi256_si128(nan16));
}

// 8 floats -> 8 bf16, rounding to nearest even; a NaN stays quiet (as fp32_to_bf16).
inline __m128i floats_to_bf16(__m256 v) {
  const __m256i bits = _mm256_castps_si256(v);
  const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
  const __m256i rounded = _mm256_srli_epi32(
      _mm256_add_epi32(bits, _mm256_add_epi32(odd, _mm256_set1_epi32(0x7fff))), 16);
  const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(64));
  const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  const __m256i result = _mm256_blendv_epi8(rounded, quiet, nan);
  return _mm256_castsi256_si128(
      _mm256_permute4x64_epi64(_mm256_packus_epi32(result, result), 0x08));
}

inline __m256 bf16_to_floats(__m128i h) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

// Runs an 8-wide conversion over n elements; the last partial group goes through
// zero-padded buffers, since AVX2 has no masked 16-bit loads or stores.
template <class Convert>
inline void convert_to_halves(const float* src, uint16_t* dst, int64_t n, Convert convert) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), convert(_mm256_loadu_ps(src + i)));
  }
  if (i < n) {
    float in[8] = {};
    uint16_t out[8];
    std::memcpy(in, src + i, static_cast<size_t>(n - i) * sizeof(float));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), convert(_mm256_loadu_ps(in)));
    std::memcpy(dst + i, out, static_cast<size_t>(n - i) * sizeof(uint16_t));
  }
}

template <class Convert>
inline void convert_from_halves(const uint16_t* src, float* dst, int64_t n, Convert convert) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(dst + i, convert(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
  if (i < n) {
    uint16_t in[8] = {};
    float out[8];
    std::memcpy(in, src + i, static_cast<size_t>(n - i) * sizeof(uint16_t));
    _mm256_storeu_ps(out, convert(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in))));
    std::memcpy(dst + i, out, static_cast<size_t>(n - i) * sizeof(float));
  }
}

}  // namespace

void from_float_q8_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_0*>(dst);
  float d;
  for (int64_t i = 0; i < n / kQuantBlockSize; ++i) {
    quantize_q8_block(src + i * kQuantBlockSize, &blocks[i].d, blocks[i].qs, &d);
  }
}

void from_float_q8_1(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_1*>(dst);
  float d;
  for (int64_t i = 0; i < n / kQuantBlockSize; ++i) {
    const int sum = quantize_q8_block(src + i * kQuantBlockSize, &blocks[i].d, blocks[i].qs, &d);
    blocks[i].s = _cvtss_sh(static_cast<float>(sum) * d, _MM_FROUND_TO_NEAREST_INT);
  }
}

void from_float_f16(const float* src, void* dst, int64_t n) {
  convert_to_halves(src, static_cast<uint16_t*>(dst), n, floats_to_fp16);
}

void to_float_f16(const void* src, float* dst, int64_t n) {
  convert_from_halves(static_cast<const uint16_t*>(src), dst, n,
                      [](__m128i h) { return _mm256_cvtph_ps(h); });
}

void from_float_bf16(const float* src, void* dst, int64_t n) {
  convert_to_halves(src, static_cast<uint16_t*>(dst), n, floats_to_bf16);
}

void to_float_bf16(const void* src, float* dst, int64_t n) {
  convert_from_halves(static_cast<const uint16_t*>(src), dst, n, bf16_to_floats);
}

}  // namespace locara::ops::avx2
