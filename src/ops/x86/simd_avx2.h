// Building blocks shared by the *_avx2.cpp kernel files, and only by them: everything here
// is compiled with AVX2 + FMA + F16C, so no file built for another ISA may include it.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ops/x86/simd_common.h"

namespace locara::ops::avx2 {

using x86_common::fp16_to_float;
using x86_common::hsum_epi32;
using x86_common::load_i32;
using x86_common::prefetch_weights_ahead;
using x86_common::reduce_blocks;

// Sum of the 8 lanes in one fixed order (halves, pairs), so that a vec_dot and a gemm
// tile that hold the same lanes return the same bits.
inline float hsum(__m256 v) {
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

// 8 fp16 values, one in the low (high) half of each 32-bit lane -> floats.
inline __m256 low_halves_to_float(__m256i v) {
  const __m256i low = _mm256_and_si256(v, _mm256_set1_epi32(0xffff));
  // Pack the 16-bit values of both 128-bit lanes together, then convert.
  const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(low, low), 0x08);
  return _mm256_cvtph_ps(_mm256_castsi256_si128(packed));
}
inline __m256 high_halves_to_float(__m256i v) {
  return low_halves_to_float(_mm256_srli_epi32(v, 16));
}

// The 32-bit words at base + i * stride for the first `count` <= 8 lanes (zero elsewhere).
inline __m256i gather_words(const void* base, int32_t stride, int count) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i index = _mm256_mullo_epi32(lanes, _mm256_set1_epi32(stride));
  const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(count), lanes);
  return _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), static_cast<const int*>(base), index,
                                     mask, 1);
}

// rows[r] holds 8 32-bit words of row r; writes out[k] = word k of every row (lane r).
inline void transpose_8x8(const __m256i rows[8], uint8_t out[8][32]) {
  __m256i t[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_epi32(rows[2 * i], rows[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_epi32(rows[2 * i], rows[2 * i + 1]);
  }
  // u[4i + c], 128-bit lane L: word 4L + c of rows 4i..4i+3.
  __m256i u[8];
  for (int i = 0; i < 2; ++i) {
    u[4 * i + 0] = _mm256_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int c = 0; c < 4; ++c) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(out[c]),
                       _mm256_permute2x128_si256(u[c], u[4 + c], 0x20));
    _mm256_store_si256(reinterpret_cast<__m256i*>(out[4 + c]),
                       _mm256_permute2x128_si256(u[c], u[4 + c], 0x31));
  }
}

// round(v) with C's roundf semantics (halves away from zero), exactly: the fraction
// v - trunc(v) is exact, so comparing it with 0.5 decides as roundf does.
inline __m256 round_half_away(__m256 v) {
  const __m256 truncated = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 sign = _mm256_and_ps(v, _mm256_set1_ps(-0.0f));
  const __m256 fraction = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(v, truncated));
  const __m256 up = _mm256_cmp_ps(fraction, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 one = _mm256_or_ps(sign, _mm256_set1_ps(1.0f));
  return _mm256_add_ps(truncated, _mm256_and_ps(up, one));
}

}  // namespace locara::ops::avx2
