// Internal to the x86 K-format kernels: pieces that every instruction set's kernels share,
// so that they agree bit for bit: the packed scales of Q3_K .. Q5_K and IQ4_XS decoded
// several at a time, and the float terms that close each super-block.
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

// Every function here has internal linkage (static): this header is included by files
// built for different instruction sets, and one shared out-of-line copy could carry
// AVX-512 code into a function that AVX2 machines run.
namespace locara::ops::kquant_detail {

// Byte j of `scales` / `mins` is sub-block j's scale / minimum (q4k_scale_min's values).
struct ScalesMins {
  uint64_t scales;
  uint64_t mins;
};

// Sub-blocks 0-3 keep their 6 bits in bytes 0-3 (scales) and 4-7 (mins); sub-blocks 4-7
// keep their low 4 bits in the nibbles of bytes 8-11 and their top 2 bits in the spare
// bits 6-7 of bytes 0-3 (scales) and 4-7 (mins).
static inline ScalesMins decode_q4k_scales(const uint8_t packed[12]) {
  uint32_t w[3];
  std::memcpy(w, packed, sizeof(w));
  const uint32_t low6 = 0x3f3f3f3fu;
  const uint32_t low4 = 0x0f0f0f0fu;
  const uint32_t bits45 = 0x30303030u;
  const uint32_t scales_low = w[0] & low6;
  const uint32_t mins_low = w[1] & low6;
  const uint32_t scales_high = (w[2] & low4) | ((w[0] >> 2) & bits45);
  const uint32_t mins_high = ((w[2] >> 4) & low4) | ((w[1] >> 2) & bits45);
  return {scales_low | (uint64_t{scales_high} << 32), mins_low | (uint64_t{mins_high} << 32)};
}

// The 16 scales of a Q3_K block (q3k_scales) less 32, as signed bytes. Scale s keeps its
// low 4 bits in nibble s / 8 of byte s % 8 and its top 2 bits in bits 2 (s / 4),
// 2 (s / 4) + 1 of byte 8 + s % 4. (Vector code, 128-bit AVX2: every includer has it.)
static inline __m128i q3k_scale_bytes(const uint8_t packed[12]) {
  uint32_t top_word;
  std::memcpy(&top_word, packed + 8, sizeof(top_word));
  const __m128i words =  // bytes 0-3, 4-7, 8-11
      _mm_insert_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(packed)),
                       static_cast<int>(top_word), 2);
  // Scales 4g .. 4g + 3 in word g: low nibbles of bytes 0-3, 4-7, then high nibbles.
  const __m128i low = _mm_and_si128(
      _mm_srlv_epi32(_mm_shuffle_epi32(words, _MM_SHUFFLE(1, 0, 1, 0)), _mm_setr_epi32(0, 0, 4, 4)),
      _mm_set1_epi8(0x0f));
  const __m128i top = _mm_and_si128(
      _mm_srlv_epi32(_mm_shuffle_epi32(words, _MM_SHUFFLE(2, 2, 2, 2)), _mm_setr_epi32(0, 2, 4, 6)),
      _mm_set1_epi8(3));
  return _mm_sub_epi8(_mm_or_si128(low, _mm_slli_epi32(top, 4)), _mm_set1_epi8(32));
}

// The 8 sub-block scales of an IQ4_XS block, ls - 32 (-32..31), one per 32-bit lane: the
// low 4 bits are nibble b % 2 of scales_l[b / 2], the top 2 bits are bits 2b, 2b + 1 of
// scales_h. (256-bit AVX2: every includer has it.)
static inline __m256i iq4xs_scales(const uint8_t scales_l[4], uint16_t scales_h) {
  uint32_t low_word;
  std::memcpy(&low_word, scales_l, sizeof(low_word));
  const __m256i low =
      _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(low_word)),
                                         _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28)),
                       _mm256_set1_epi32(0xf));
  const __m256i high = _mm256_and_si256(
      _mm256_srlv_epi32(_mm256_set1_epi32(scales_h), _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14)),
      _mm256_set1_epi32(3));
  return _mm256_sub_epi32(_mm256_or_si256(low, _mm256_slli_epi32(high, 4)), _mm256_set1_epi32(32));
}

// How a format's super-block turns its exact integer sums into its float share: the
// functions below, which the gemm tiles follow lane-wise (kquant_gemm_avx*.h).
enum class KTerm {
  kScaled,         // add_term (Q3_K, Q6_K, IQ4_XS)
  kScaledWithMin,  // add_term_with_min (Q4_K, Q5_K)
  kQ2K,            // add_q2k_term
};

// One super-block's share of a dot, given its exact integer sums (kquant_kernels.h).
static inline float add_term_with_min(float total, int32_t isum, int32_t msum, float dx, float dmin,
                                      float dy) {
  float t = dx * static_cast<float>(isum);
  t = std::fma(-dmin, static_cast<float>(msum), t);
  return std::fma(t, dy, total);
}

static inline float add_term(float total, int32_t isum, float dx, float dy) {
  const float t = dx * static_cast<float>(isum);
  return std::fma(t, dy, total);
}

// Q2_K's share as the reference forms it (its sums are exact integers too): the scales
// times d_y first, no fused operations, so Q2_K's dots are the reference's bits.
static inline float add_q2k_term(float total, int32_t isum, int32_t msum, float dx, float dmin,
                                 float dy) {
  const float d = dy * dx;
  const float m = dy * dmin;
  return total + (d * static_cast<float>(isum) - m * static_cast<float>(msum));
}

}  // namespace locara::ops::kquant_detail
