// AVX-512 dot products of one K-format weight row (Q2_K .. Q6_K, IQ4_XS) with one Q8_K
// activation row (the generation path, bound by reading the weights). Per super-block:
// levels unpacked to bytes in element order, vpmaddubsw against the activations, then
// vpdpwssd with the sub-block scales as 16-bit words (IQ4_XS, whose levels need 8 bits
// unsigned: vpdpbusd, then vpmulld by the scales), so the scaled integer sum is exact;
// minimums and level offsets come from Q8_K's bsums. The float terms follow
// kquant_common.h.
// clang-format off
#include "ops/x86/simd_avx512.h"  // first: it includes <immintrin.h>, see there
// clang-format on

#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ops/half.h"
#include "ops/quant_blocks_k.h"
#include "ops/x86/kquant_common.h"
#include "ops/x86/kquant_kernels.h"

namespace locara::ops::avx512 {
namespace {

using kquant_detail::add_q2k_term;
using kquant_detail::add_term;
using kquant_detail::add_term_with_min;

// vpshufb controls, one byte per lane byte (Z = zero the byte).
constexpr int8_t Z = -128;
using Control = std::array<int8_t, 64>;

// For 64 elements starting at sub-block 2h of a Q4_K block: 16-bit words holding scale
// byte 2h (low 256 bits) and 2h+1 (high 256 bits), from a vector whose every 64-bit lane
// holds the eight scale bytes.
constexpr Control q4k_scale_control(int h) {
  Control c{};
  for (int i = 0; i < 64; ++i) c[i] = i % 2 == 1 ? Z : static_cast<int8_t>(2 * h + i / 32);
  return c;
}
alignas(64) constexpr Control kQ4kScaleControl[4] = {q4k_scale_control(0), q4k_scale_control(1),
                                                     q4k_scale_control(2), q4k_scale_control(3)};

// For Q8_K's 16 bsums (two per 32-element sub-block): word w holds minimum w / 2, from
// a vector whose every 64-bit lane holds the eight minimum bytes.
constexpr std::array<int8_t, 32> q4k_min_control() {
  std::array<int8_t, 32> c{};
  for (int i = 0; i < 32; ++i) c[i] = i % 2 == 1 ? Z : static_cast<int8_t>(i / 4);
  return c;
}
alignas(32) constexpr std::array<int8_t, 32> kQ4kMinControl = q4k_min_control();

// For 64 elements of a Q6_K (or Q3_K) block starting at sub-block 4k: in 128-bit lane L, scale byte
// 4k + L in both bytes of every word (an arithmetic shift by 8 then sign-extends it),
// from a vector whose every 128-bit lane holds the 16 scale bytes.
constexpr Control q6k_scale_control(int k) {
  Control c{};
  for (int i = 0; i < 64; ++i) c[i] = static_cast<int8_t>(4 * k + i / 16);
  return c;
}
alignas(64) constexpr Control kQ6kScaleControl[4] = {q6k_scale_control(0), q6k_scale_control(1),
                                                     q6k_scale_control(2), q6k_scale_control(3)};

// For 64 elements of a Q2_K block starting at sub-block 4q: in 128-bit lane L, scale byte
// 4q + L in the low byte of every word (unsigned), from a vector whose every 128-bit lane
// holds the 16 scale bytes.
constexpr Control q2k_scale_control(int q) {
  Control c{};
  for (int i = 0; i < 64; ++i) c[i] = i % 2 == 1 ? Z : static_cast<int8_t>(4 * q + i / 16);
  return c;
}
alignas(64) constexpr Control kQ2kScaleControl[4] = {q2k_scale_control(0), q2k_scale_control(1),
                                                     q2k_scale_control(2), q2k_scale_control(3)};

inline __m512i load_control(const Control& c) {
  return _mm512_load_si512(c.data());
}

inline __m512i load512(const void* p) {
  return _mm512_loadu_si512(p);
}
inline __m256i load256(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// Elements 64h .. 64h + 63 of a Q4_K block: the 32 bytes qs[32h..] hold the first 32 in
// their low nibbles and the next 32 in their high nibbles.
inline __m512i q4k_levels(const uint8_t* qs, int h) {
  const __m512i packed = _mm512_broadcast_i64x4(load256(qs + 32 * h));
  const __m512i shifted = _mm512_mask_srli_epi16(packed, 0xffff0000u, packed, 4);
  return _mm512_and_si512(shifted, _mm512_set1_epi8(0x0f));
}

// The 6-bit levels (0..63, unsigned) of elements 128 * half + [0, 64) (*low) and
// 128 * half + [64, 128) (*high) of a Q6_K block.
inline void q6k_levels(const BlockQ6_K& b, int half, __m512i* low, __m512i* high) {
  const __m512i ql = load512(b.ql + 64 * half);
  const __m512i qh = _mm512_broadcast_i64x4(load256(b.qh + 32 * half));
  // Low 256 bits: qh; high 256 bits: qh >> 2. Then bits 0-1 of each byte are the top
  // bits of `low`'s element, bits 4-5 those of `high`'s.
  const __m512i top = _mm512_mask_srli_epi16(qh, 0xffff0000u, qh, 2);
  const __m512i mask4 = _mm512_set1_epi8(0x0f);
  const __m512i mask_top = _mm512_set1_epi8(0x30);
  // ternary logic 0xf8: a | (b & c)
  *low = _mm512_ternarylogic_epi32(_mm512_and_si512(ql, mask4), _mm512_slli_epi16(top, 4), mask_top,
                                   0xf8);
  *high = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(ql, 4), mask4), top,
                                    mask_top, 0xf8);
}

inline __m256i fold512(__m512i v) {
  return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

// Super-blocks are reduced four at a time (one horizontal reduction for 4 x 2 sums);
// row lengths that are not a multiple of 4 super-blocks pad the last group with zeros.
constexpr int kGroup = 4;

// decode_q4k_scales on vectors: the 16 bytes at the start of a Q4_K block (d, dmin, 12
// scale bytes) -> 64-bit lane 0: the 8 scales, lane 1: the 8 minimums (one byte each).
inline __m128i q4k_scales_and_mins(__m128i head) {
  const __m128i words = _mm_shuffle_epi32(head, _MM_SHUFFLE(3, 2, 3, 1));  // w0 w2 w1 w2
  const __m128i tops = _mm_shuffle_epi32(head, _MM_SHUFFLE(2, 2, 1, 1));   // w0 w0 w1 w1
  const __m128i low = _mm_and_si128(_mm_srlv_epi32(words, _mm_setr_epi32(0, 0, 0, 4)),
                                    _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
  const __m128i high =
      _mm_and_si128(_mm_srli_epi32(tops, 2), _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
  return _mm_or_si128(low, high);
}

// Adds 16 to the levels of elements 64h .. 64h + 63 of a Q5_K block whose fifth bit is
// set: bit 2h (first 32) or 2h + 1 (next 32) of qh[l].
inline __m512i add_fifth_bits(__m512i levels, const uint8_t* qh, int h) {
  const __m512i bits = _mm512_broadcast_i64x4(load256(qh));
  const __m512i select = _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(1 << (2 * h))),
                                            _mm256_set1_epi8(static_cast<char>(2 << (2 * h))), 1);
  const __mmask64 high = _mm512_test_epi8_mask(bits, select);
  return _mm512_mask_add_epi8(levels, high, levels, _mm512_set1_epi8(0x10));
}

// The scaled level sums (lanes of *sums) and minimum sums (lanes of *mins) of one
// Q4_K or Q5_K super-block.
template <class Block>
inline void q4k_partial_sums(const Block& x, const BlockQ8_K& y, __m256i* sums, __m256i* mins) {
  const __m128i head = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&x));
  const __m128i scales_mins = q4k_scales_and_mins(head);
  const __m512i scale_bytes = _mm512_broadcastq_epi64(scales_mins);
  __m512i acc = _mm512_setzero_si512();
  for (int h = 0; h < 4; ++h) {
    __m512i levels = q4k_levels(x.qs, h);
    if constexpr (std::is_same_v<Block, BlockQ5_K>) levels = add_fifth_bits(levels, x.qh, h);
    const __m512i products = _mm512_maddubs_epi16(levels, load512(y.qs + 64 * h));
    const __m512i scales = _mm512_shuffle_epi8(scale_bytes, load_control(kQ4kScaleControl[h]));
    acc = _mm512_dpwssd_epi32(acc, products, scales);
  }
  *sums = fold512(acc);
  const __m256i min_words =
      _mm256_shuffle_epi8(_mm256_broadcastq_epi64(_mm_unpackhi_epi64(scales_mins, scales_mins)),
                          _mm256_load_si256(reinterpret_cast<const __m256i*>(&kQ4kMinControl)));
  *mins = _mm256_madd_epi16(load256(y.bsums), min_words);
}

// Dots of the formats with minimums: partial(x, y, &sums, &mins) gives a super-block's
// level and minimum sums in 8 lanes each, term(total, isum, msum, x, y) adds its share.
template <class Block, class Partial, class Term>
float dot_with_mins(int64_t n, const void* vx, const void* vy, Partial partial, Term term) {
  const auto* x = static_cast<const Block*>(vx);
  const auto* y = static_cast<const BlockQ8_K*>(vy);
  const int64_t n_blocks = n / kSuperBlockSize;
  float total = 0.0f;
  for (int64_t i = 0; i < n_blocks; i += kGroup) {
    prefetch_weights_ahead(x + i, kGroup * static_cast<int>(sizeof(*x)));
    const int count = n_blocks - i < kGroup ? static_cast<int>(n_blocks - i) : kGroup;
    __m256i parts[2 * kGroup];  // level sums of the group's blocks, then minimum sums
    for (int b = 0; b < kGroup; ++b) {
      if (b < count) {
        partial(x[i + b], y[i + b], &parts[b], &parts[kGroup + b]);
      } else {
        parts[b] = parts[kGroup + b] = _mm256_setzero_si256();
      }
    }
    alignas(32) int32_t totals[2 * kGroup];
    _mm256_store_si256(reinterpret_cast<__m256i*>(totals), reduce_blocks(parts));
    for (int b = 0; b < count; ++b) {
      total = term(total, totals[b], totals[kGroup + b], x[i + b], y[i + b]);
    }
  }
  return total;
}

// Dots of the formats without minimums: partial(x, y) gives a super-block's level sums
// (offsets taken back) in 8 lanes; eight super-blocks share one reduction.
template <class Block, class Partial>
float dot_scaled(int64_t n, const void* vx, const void* vy, Partial partial) {
  const auto* x = static_cast<const Block*>(vx);
  const auto* y = static_cast<const BlockQ8_K*>(vy);
  const int64_t n_blocks = n / kSuperBlockSize;
  float total = 0.0f;
  for (int64_t i = 0; i < n_blocks; i += 2 * kGroup) {
    prefetch_weights_ahead(x + i, 2 * kGroup * static_cast<int>(sizeof(*x)));
    const int count = n_blocks - i < 2 * kGroup ? static_cast<int>(n_blocks - i) : 2 * kGroup;
    __m256i parts[2 * kGroup];
    for (int b = 0; b < 2 * kGroup; ++b) {
      parts[b] = b < count ? partial(x[i + b], y[i + b]) : _mm256_setzero_si256();
    }
    alignas(32) int32_t totals[2 * kGroup];
    _mm256_store_si256(reinterpret_cast<__m256i*>(totals), reduce_blocks(parts));
    for (int b = 0; b < count; ++b) {
      total = add_term(total, totals[b], fp16_to_float(x[i + b].d), y[i + b].d);
    }
  }
  return total;
}

// The level sums of one Q6_K super-block, less 32 * the scaled bsums (levels are stored
// + 32: sum of scale * (q - 32) . y = scale * q . y - 32 * scale * bsum).
inline __m256i q6k_partial_sums(const BlockQ6_K& x, const BlockQ8_K& y) {
  const __m128i scale_bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales));
  const __m512i scale_lanes = _mm512_broadcast_i32x4(scale_bytes);
  __m512i acc = _mm512_setzero_si512();
  for (int half = 0; half < 2; ++half) {
    __m512i levels[2];
    q6k_levels(x, half, &levels[0], &levels[1]);
    for (int part = 0; part < 2; ++part) {
      const int k = 2 * half + part;
      const __m512i products = _mm512_maddubs_epi16(levels[part], load512(y.qs + 64 * k));
      const __m512i scales =
          _mm512_srai_epi16(_mm512_shuffle_epi8(scale_lanes, load_control(kQ6kScaleControl[k])), 8);
      acc = _mm512_dpwssd_epi32(acc, products, scales);
    }
  }
  const __m256i offset = _mm256_madd_epi16(load256(y.bsums), _mm256_cvtepi8_epi16(scale_bytes));
  return _mm256_sub_epi32(fold512(acc), _mm256_slli_epi32(offset, 5));
}

// Q2_K / Q3_K: elements 64q .. 64q + 63 of the 2-bit fields (bits 2k, 2k + 1 of
// qs[32h + l] hold element 128h + 32k + l): the low 256 bits shifted by 2k, the high ones
// by 2k + 2 (h = q / 2, k = 2 (q % 2)).
inline __m512i two_bit_levels(const uint8_t* qs, int q) {
  const int k = 2 * (q % 2);
  const __m512i packed = _mm512_broadcast_i64x4(load256(qs + 32 * (q / 2)));
  const __m512i shifted =
      _mm512_mask_srli_epi16(_mm512_srli_epi16(packed, 2 * k), 0xffff0000u, packed, 2 * k + 2);
  return _mm512_and_si512(shifted, _mm512_set1_epi8(3));
}

// The scaled level sums and minimum sums of one Q2_K super-block (scale in the low
// nibble of scales[s], minimum in the high one).
inline void q2k_partial_sums(const BlockQ2_K& x, const BlockQ8_K& y, __m256i* sums, __m256i* mins) {
  const __m128i low4 = _mm_set1_epi8(0x0f);
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales));
  const __m512i scale_lanes = _mm512_broadcast_i32x4(_mm_and_si128(packed, low4));
  __m512i acc = _mm512_setzero_si512();
  for (int q = 0; q < 4; ++q) {
    const __m512i products = _mm512_maddubs_epi16(two_bit_levels(x.qs, q), load512(y.qs + 64 * q));
    const __m512i scales = _mm512_shuffle_epi8(scale_lanes, load_control(kQ2kScaleControl[q]));
    acc = _mm512_dpwssd_epi32(acc, products, scales);
  }
  *sums = fold512(acc);
  const __m256i min_words = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), low4));
  *mins = _mm256_madd_epi16(load256(y.bsums), min_words);
}

// The level sums of one Q3_K super-block, taken + 4 (0..7: 4 where bit c of hmask[l] is
// set, element 32c + l), less 4 * the scaled bsums.
inline __m256i q3k_partial_sums(const BlockQ3_K& x, const BlockQ8_K& y) {
  const __m128i scale_bytes = kquant_detail::q3k_scale_bytes(x.scales);
  const __m512i scale_lanes = _mm512_broadcast_i32x4(scale_bytes);
  const __m512i high_bits = _mm512_broadcast_i64x4(load256(x.hmask));
  __m512i acc = _mm512_setzero_si512();
  for (int q = 0; q < 4; ++q) {
    const __m512i select = _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(1 << (2 * q))),
                                              _mm256_set1_epi8(static_cast<char>(2 << (2 * q))), 1);
    const __mmask64 high = _mm512_test_epi8_mask(high_bits, select);
    __m512i levels = two_bit_levels(x.qs, q);
    levels = _mm512_mask_add_epi8(levels, high, levels, _mm512_set1_epi8(4));
    const __m512i products = _mm512_maddubs_epi16(levels, load512(y.qs + 64 * q));
    const __m512i scales =
        _mm512_srai_epi16(_mm512_shuffle_epi8(scale_lanes, load_control(kQ6kScaleControl[q])), 8);
    acc = _mm512_dpwssd_epi32(acc, products, scales);
  }
  const __m256i offset = _mm256_madd_epi16(load256(y.bsums), _mm256_cvtepi8_epi16(scale_bytes));
  return _mm256_sub_epi32(fold512(acc), _mm256_slli_epi32(offset, 2));
}

// The level sums of one IQ4_XS super-block: levels looked up in kIq4nlValues + 128
// (unsigned, for vpdpbusd), each sub-block's sums times its scale (vpmulld), less
// 128 * the scaled sub-block sums of the activations.
inline __m256i iq4xs_partial_sums(const BlockIQ4_XS& x, const BlockQ8_K& y, __m512i table) {
  const __m256i scales = kquant_detail::iq4xs_scales(x.scales_l, x.scales_h);
  const __m512i mask4 = _mm512_set1_epi8(0x0f);
  __m512i acc = _mm512_setzero_si512();
  for (int p = 0; p < 4; ++p) {
    // Sub-blocks 2p and 2p + 1: 16 bytes of qs each, low nibbles elements 0-15, high
    // 16-31; 128-bit lanes: low and high nibbles of sub-block 2p, then of 2p + 1.
    const __m512i packed = _mm512_castsi256_si512(load256(x.qs + 32 * p));
    const __m512i lanes = _mm512_shuffle_i64x2(packed, packed, _MM_SHUFFLE(1, 1, 0, 0));
    const __m512i nibbles =
        _mm512_and_si512(_mm512_mask_srli_epi16(lanes, 0xff00ff00u, lanes, 4), mask4);
    const __m512i sums = _mm512_dpbusd_epi32(
        _mm512_setzero_si512(), _mm512_shuffle_epi8(table, nibbles), load512(y.qs + 64 * p));
    // Lanes 0-7: scale 2p, lanes 8-15: scale 2p + 1.
    const __m512i scale = _mm512_permutexvar_epi32(
        _mm512_inserti64x4(_mm512_set1_epi32(2 * p), _mm256_set1_epi32(2 * p + 1), 1),
        _mm512_castsi256_si512(scales));
    acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(sums, scale));
  }
  const __m256i sub_block_sums = _mm256_madd_epi16(load256(y.bsums), _mm256_set1_epi16(1));
  const __m256i offsets = _mm256_mullo_epi32(sub_block_sums, scales);
  return _mm256_sub_epi32(fold512(acc), _mm256_slli_epi32(offsets, 7));
}

template <class Block>
float dot_q4k_q5k(int64_t n, const void* x, const void* y) {
  return dot_with_mins<Block>(
      n, x, y, q4k_partial_sums<Block>,
      [](float total, int32_t isum, int32_t msum, const Block& xb, const BlockQ8_K& yb) {
        return add_term_with_min(total, isum, msum, fp16_to_float(xb.d), fp16_to_float(xb.dmin),
                                 yb.d);
      });
}

}  // namespace

float vec_dot_q2_k_q8_k(int64_t n, const void* x, const void* y) {
  return dot_with_mins<BlockQ2_K>(
      n, x, y, q2k_partial_sums,
      [](float total, int32_t isum, int32_t msum, const BlockQ2_K& xb, const BlockQ8_K& yb) {
        return add_q2k_term(total, isum, msum, fp16_to_float(xb.d), fp16_to_float(xb.dmin), yb.d);
      });
}

float vec_dot_q3_k_q8_k(int64_t n, const void* x, const void* y) {
  return dot_scaled<BlockQ3_K>(n, x, y, q3k_partial_sums);
}

float vec_dot_q4_k_q8_k(int64_t n, const void* x, const void* y) {
  return dot_q4k_q5k<BlockQ4_K>(n, x, y);
}

float vec_dot_q5_k_q8_k(int64_t n, const void* x, const void* y) {
  return dot_q4k_q5k<BlockQ5_K>(n, x, y);
}

float vec_dot_q6_k_q8_k(int64_t n, const void* x, const void* y) {
  return dot_scaled<BlockQ6_K>(n, x, y, q6k_partial_sums);
}

float vec_dot_iq4_xs_q8_k(int64_t n, const void* x, const void* y) {
  alignas(16) int8_t biased[16];
  for (int i = 0; i < 16; ++i) biased[i] = static_cast<int8_t>(kIq4nlValues[i] ^ 0x80);
  const __m512i table =
      _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(biased)));
  return dot_scaled<BlockIQ4_XS>(n, x, y, [&](const BlockIQ4_XS& xb, const BlockQ8_K& yb) {
    return iq4xs_partial_sums(xb, yb, table);
  });
}

}  // namespace locara::ops::avx512
