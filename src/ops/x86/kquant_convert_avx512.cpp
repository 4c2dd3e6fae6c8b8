// AVX-512 activation quantization to Q8_K, writing exactly the reference's bytes: the
// scale comes from the first element of largest magnitude, levels round as ggml's
// nearest_int (add 1.5 * 2^23, read the mantissa) and wrap to 8 bits as a cast does,
// and bsums add the stored levels.
// clang-format off
#include "ops/x86/simd_avx512.h"  // first: it includes <immintrin.h>, see there
// clang-format on

#include <cstdint>
#include <cstring>

#include "ops/quant_blocks_k.h"
#include "ops/x86/kquant_kernels.h"

namespace locara::ops::avx512 {
namespace {

constexpr int kVectors = kSuperBlockSize / 16;

// Sum of each 16-byte group of the 256 levels, as 16 words in group order.
inline __m256i group_sums(const int8_t* qs) {
  const __m512i ones = _mm512_set1_epi8(1);
  __m512i totals[4];
  for (int k = 0; k < 4; ++k) {
    // Word i: the sum of bytes 4i..4i+3; a group is one 128-bit lane.
    __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, _mm512_loadu_si512(qs + 64 * k));
    s = _mm512_add_epi32(s, _mm512_shuffle_epi32(s, _MM_PERM_CDAB));
    totals[k] = _mm512_add_epi32(s, _mm512_shuffle_epi32(s, _MM_PERM_BADC));
  }
  // Word 0 of each 128-bit lane of totals[0], totals[1] (then [2], [3]).
  const __m512i first_words =
      _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
  const __m512i low = _mm512_permutex2var_epi32(totals[0], first_words, totals[1]);
  const __m512i high = _mm512_permutex2var_epi32(totals[2], first_words, totals[3]);
  return _mm512_cvtepi32_epi16(_mm512_inserti64x4(low, _mm512_castsi512_si256(high), 1));
}

void quantize_block(const float* src, BlockQ8_K& y) {
  __m512 v[kVectors];
  // max_ps returns its second operand when the first is NaN: NaNs never win, as in the
  // reference's `if (fabs(x) > amax)`.
  __m512 amax_lanes = _mm512_setzero_ps();
  for (int k = 0; k < kVectors; ++k) {
    v[k] = _mm512_loadu_ps(src + 16 * k);
    amax_lanes = _mm512_max_ps(_mm512_abs_ps(v[k]), amax_lanes);
  }
  const float amax = _mm512_reduce_max_ps(amax_lanes);
  if (amax == 0.0f) {
    std::memset(&y, 0, sizeof(y));
    return;
  }
  // The reference keeps the first element whose magnitude is the maximum.
  float max = 0.0f;
  const __m512 amax_v = _mm512_set1_ps(amax);
  for (int k = 0; k < kVectors; ++k) {
    const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_abs_ps(v[k]), amax_v, _CMP_EQ_OQ);
    if (hit != 0) {
      max = src[16 * k + __builtin_ctz(hit)];
      break;
    }
  }
  const float iscale = -127.f / max;
  const __m512 scale = _mm512_set1_ps(iscale);
  const __m512 magic = _mm512_set1_ps(12582912.0f);  // 1.5 * 2^23
  const __m512i mantissa = _mm512_set1_epi32(0x007fffff);
  const __m512i bias = _mm512_set1_epi32(0x00400000);
  const __m512i top = _mm512_set1_epi32(127);
  for (int k = 0; k < kVectors; ++k) {
    // Not fused (-ffp-contract=off): the product rounds before the add, as in the reference.
    const __m512 shifted = _mm512_add_ps(_mm512_mul_ps(v[k], scale), magic);
    const __m512i level =
        _mm512_sub_epi32(_mm512_and_si512(_mm512_castps_si512(shifted), mantissa), bias);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y.qs + 16 * k),
                     _mm512_cvtepi32_epi8(_mm512_min_epi32(level, top)));
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

}  // namespace locara::ops::avx512
