// AVX2 activation quantization to Q8_K, writing exactly the reference's bytes: the
// scale comes from the first element of largest magnitude, levels round as ggml's
// nearest_int (add 1.5 * 2^23, read the mantissa) and wrap to 8 bits as a cast does,
// and bsums add the stored levels.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ops/quant_blocks_k.h"
#include "ops/x86/kquant_kernels.h"

namespace locara::ops::avx2 {
namespace {

constexpr int kVectors = kSuperBlockSize / 8;

inline __m256i load(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// 8 levels per vector of 4 -> 32 bytes in order, keeping the low 8 bits of each.
inline __m256i pack_low_bytes(const __m256i v[4]) {
  const __m256i low = _mm256_set1_epi32(0xff);
  // Values 0..255 pass both saturating packs unchanged; the packs interleave 128-bit lanes.
  const __m256i words01 =
      _mm256_packus_epi32(_mm256_and_si256(v[0], low), _mm256_and_si256(v[1], low));
  const __m256i words23 =
      _mm256_packus_epi32(_mm256_and_si256(v[2], low), _mm256_and_si256(v[3], low));
  const __m256i bytes = _mm256_packus_epi16(words01, words23);
  return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// Sum of each 16-byte group of the 256 levels, as 16 words in group order.
inline __m256i group_sums(const int8_t* qs) {
  const __m256i ones8 = _mm256_set1_epi8(1);
  const __m256i ones16 = _mm256_set1_epi16(1);
  __m256i s[8];  // s[k]: 4-byte sums of groups 2k (low lane) and 2k + 1 (high lane)
  for (int k = 0; k < 8; ++k) {
    s[k] = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, load(qs + 32 * k)), ones16);
  }
  // Low lanes: groups 0 2 4 6 (8 10 12 14), high lanes: 1 3 5 7 (9 11 13 15).
  const __m256i a = _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
  const __m256i b = _mm256_hadd_epi32(_mm256_hadd_epi32(s[4], s[5]), _mm256_hadd_epi32(s[6], s[7]));
  // Words: 0 2 4 6 8 10 12 14 | 1 3 5 7 9 11 13 15.
  const __m256i words = _mm256_packs_epi32(a, b);
  const __m128i even = _mm256_castsi256_si128(words);
  const __m128i odd = _mm256_extracti128_si256(words, 1);
  return _mm256_setr_m128i(_mm_unpacklo_epi16(even, odd), _mm_unpackhi_epi16(even, odd));
}

void quantize_block(const float* src, BlockQ8_K& y) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 v[kVectors];
  // max_ps returns its second operand when the first is NaN: NaNs never win, as in the
  // reference's `if (fabs(x) > amax)`.
  __m256 amax_lanes = _mm256_setzero_ps();
  for (int k = 0; k < kVectors; ++k) {
    v[k] = _mm256_loadu_ps(src + 8 * k);
    amax_lanes = _mm256_max_ps(_mm256_andnot_ps(sign, v[k]), amax_lanes);
  }
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax_lanes), _mm256_extractf128_ps(amax_lanes, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  const float amax = _mm_cvtss_f32(m);
  if (amax == 0.0f) {
    std::memset(&y, 0, sizeof(y));
    return;
  }
  // The reference keeps the first element whose magnitude is the maximum.
  float max = 0.0f;
  const __m256 amax_v = _mm256_set1_ps(amax);
  for (int k = 0; k < kVectors; ++k) {
    const int hit =
        _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, v[k]), amax_v, _CMP_EQ_OQ));
    if (hit != 0) {
      max = src[8 * k + __builtin_ctz(static_cast<unsigned>(hit))];
      break;
    }
  }
  const float iscale = -127.f / max;
  const __m256 scale = _mm256_set1_ps(iscale);
  const __m256 magic = _mm256_set1_ps(12582912.0f);  // 1.5 * 2^23
  const __m256i mantissa = _mm256_set1_epi32(0x007fffff);
  const __m256i bias = _mm256_set1_epi32(0x00400000);
  const __m256i top = _mm256_set1_epi32(127);
  for (int k = 0; k < kVectors; k += 4) {
    __m256i levels[4];
    for (int j = 0; j < 4; ++j) {
      // Not fused (-ffp-contract=off): the product rounds before the add, as in the
      // reference.
      const __m256 shifted = _mm256_add_ps(_mm256_mul_ps(v[k + j], scale), magic);
      const __m256i level =
          _mm256_sub_epi32(_mm256_and_si256(_mm256_castps_si256(shifted), mantissa), bias);
      levels[j] = _mm256_min_epi32(level, top);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y.qs + 8 * k), pack_low_bytes(levels));
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(y.bsums), group_sums(y.qs));
  y.d = 1 / iscale;
}

}  // namespace

void from_float_q8_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    quantize_block(src + i * kSuperBlockSize, blocks[i]);
  }
}

}  // namespace locara::ops::avx2
