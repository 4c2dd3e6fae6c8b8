// Building blocks shared by the *_avx512.cpp kernel files, and only by them: everything
// here is compiled with AVX-512 enabled, so no file built for another ISA may include it.
#pragma once

// GCC 12 warns falsely inside its own AVX-512 intrinsics (their _mm512_undefined_*
// initialize a variable with itself); the warning is silenced for those headers only, so
// every *_avx512.cpp file includes this header before anything else that includes them.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstdint>
#include <cstring>

#include "ops/x86/simd_common.h"

namespace locara::ops::avx512 {

using x86_common::fp16_to_float;
using x86_common::hsum_epi32;
using x86_common::load_i32;
using x86_common::prefetch_weights_ahead;
using x86_common::reduce_blocks;

// Sum of the 16 lanes in one fixed order (halves, quarters, pairs), so that a vec_dot and a
// gemm tile that hold the same lanes return the same bits.
inline float hsum(__m512 v) {
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

// Eight vectors of partial sums of two blocks each (lanes 0-7 block 2i, lanes 8-15 block
// 2i+1 of s[i]) -> the 16 block totals in block order.
inline __m512i reduce_block_pairs(const __m512i s[8]) {
  __m512i t[4];
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(s[2 * i], s[2 * i + 1]),
                            _mm512_unpackhi_epi32(s[2 * i], s[2 * i + 1]));
  }
  // u[j], 128-bit chunk c: the totals of chunk c of s[4j], s[4j+1], s[4j+2], s[4j+3].
  const __m512i u0 =
      _mm512_add_epi32(_mm512_unpacklo_epi64(t[0], t[1]), _mm512_unpackhi_epi64(t[0], t[1]));
  const __m512i u1 =
      _mm512_add_epi32(_mm512_unpacklo_epi64(t[2], t[3]), _mm512_unpackhi_epi64(t[2], t[3]));
  // A block's total is chunk 0 + chunk 1 (even blocks) or chunk 2 + chunk 3 (odd ones).
  const __m512i sums =
      _mm512_add_epi32(_mm512_shuffle_i32x4(u0, u1, 0x88), _mm512_shuffle_i32x4(u0, u1, 0xdd));
  // Lanes now hold blocks 0 2 4 6, 1 3 5 7, 8 10 12 14, 9 11 13 15.
  const __m512i order = _mm512_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15);
  return _mm512_permutexvar_epi32(order, sums);
}

// 16 fp16 values, one in the low half of each 32-bit lane -> floats.
inline __m512 low_halves_to_float(__m512i v) {
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(v));
}
inline __m512 high_halves_to_float(__m512i v) {
  return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(v, 16)));
}

// The 32-bit words at base + i * stride for the first `count` lanes (zero elsewhere).
inline __m512i gather_words(const void* base, int32_t stride, int count) {
  const __m512i index =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(stride));
  const __mmask16 mask = count >= 16 ? __mmask16(0xffff) : __mmask16((1u << count) - 1);
  return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), mask, index, base, 1);
}

// Word / dword indices (into two vectors) of the fields of 16 blocks that start in
// vector pair `pair` (bytes [128 * pair, 128 * pair + 128) of the blocks); others zero.
template <int kBlockBytes, int kFieldBytes>
struct FieldIndex {
  static constexpr int kLanes = 64 / kFieldBytes;
  alignas(64) int16_t words[32] = {};
  alignas(64) int32_t dwords[16] = {};
  uint32_t mask = 0;  // the lanes that take a field from this pair
  constexpr explicit FieldIndex(int pair) {
    for (int i = 0; i < 16; ++i) {
      const int offset = kBlockBytes * i - 128 * pair;
      if (offset < 0 || offset >= 128) continue;
      mask |= 1u << i;
      if constexpr (kFieldBytes == 2) {
        words[i] = static_cast<int16_t>(offset / 2);
      } else {
        dwords[i] = offset / 4;
      }
    }
  }
};

template <int kBlockBytes, int kFieldBytes, int kPair>
inline constexpr FieldIndex<kBlockBytes, kFieldBytes> kFieldIndex{kPair};

// The 16-bit (kFieldBytes 2: in the low 16 words) or 32-bit (4) field at the start of
// each of 16 consecutive blocks of kBlockBytes at `blocks`, reading only those blocks:
// a gather costs more on Zen 4 than loads and a few constant permutes.
template <int kBlockBytes, int kFieldBytes, int kPair = 0>
inline __m512i block_fields(const uint8_t* blocks) {
  static_assert(kBlockBytes % kFieldBytes == 0);
  constexpr int kBytes = 16 * kBlockBytes;
  // This pair of vectors covers bytes [first, first + 128); the last loads are masked.
  constexpr int first = 128 * kPair;
  const auto load = [&](int at) {
    if (at >= kBytes) return _mm512_setzero_si512();
    if (at + 64 <= kBytes) return _mm512_loadu_si512(blocks + at);
    return _mm512_maskz_loadu_epi8(_cvtu64_mask64((uint64_t{1} << (kBytes - at)) - 1), blocks + at);
  };
  const __m512i low = load(first);
  const __m512i high = load(first + 64);
  constexpr const FieldIndex<kBlockBytes, kFieldBytes>& index =
      kFieldIndex<kBlockBytes, kFieldBytes, kPair>;
  __m512i fields;
  if constexpr (kFieldBytes == 2) {
    fields = _mm512_maskz_permutex2var_epi16(_cvtu32_mask32(index.mask), low,
                                             _mm512_load_si512(index.words), high);
  } else {
    fields = _mm512_maskz_permutex2var_epi32(_cvtu32_mask16(index.mask), low,
                                             _mm512_load_si512(index.dwords), high);
  }
  if constexpr (first + 128 < kBytes) {
    return _mm512_or_si512(fields, block_fields<kBlockBytes, kFieldBytes, kPair + 1>(blocks));
  } else {
    return fields;
  }
}

// round(v) with C's roundf semantics (halves away from zero), exactly: the fraction
// v - trunc(v) is exact, so comparing it with 0.5 decides as roundf does.
inline __m512 round_half_away(__m512 v) {
  const __m512 truncated = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 fraction = _mm512_abs_ps(_mm512_sub_ps(v, truncated));
  const __mmask16 up = _mm512_cmp_ps_mask(fraction, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 one = _mm512_or_ps(_mm512_and_ps(v, _mm512_set1_ps(-0.0f)), _mm512_set1_ps(1.0f));
  return _mm512_mask_add_ps(truncated, up, truncated, one);
}

}  // namespace locara::ops::avx512
