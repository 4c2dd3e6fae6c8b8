// AVX2 dot products of one K-format weight row (Q2_K .. Q6_K, IQ4_XS) with one Q8_K
// activation row (the generation path). Per sub-block: levels unpacked to bytes in element
// order, vpmaddubsw against the activations, vpmaddwd with the sub-block scale as 16-bit
// words, so the scaled integer sum is exact; minimums and level offsets come from Q8_K's
// bsums. The integer sums and float terms are those of the AVX-512 kernels
// (kquant_kernels.h).
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <type_traits>

#include "ops/quant_blocks_k.h"
#include "ops/x86/kquant_common.h"
#include "ops/x86/kquant_kernels.h"
#include "ops/x86/simd_avx2.h"

namespace locara::ops::avx2 {
namespace {

using kquant_detail::add_q2k_term;
using kquant_detail::add_term;
using kquant_detail::add_term_with_min;
using kquant_detail::decode_q4k_scales;

constexpr int8_t Z = -128;  // vpshufb: zero this byte
using Control = std::array<int8_t, 32>;

inline __m256i load(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}
inline __m256i load_control(const Control& c) {
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(c.data()));
}

// 16-bit words all holding byte j of every 64-bit lane (Q4_K's scale j).
constexpr Control q4k_scale_control(int j) {
  Control c{};
  for (int i = 0; i < 32; ++i) c[i] = i % 2 == 1 ? Z : static_cast<int8_t>(j);
  return c;
}
alignas(32) constexpr Control kQ4kScaleControl[8] = {
    q4k_scale_control(0), q4k_scale_control(1), q4k_scale_control(2), q4k_scale_control(3),
    q4k_scale_control(4), q4k_scale_control(5), q4k_scale_control(6), q4k_scale_control(7)};

// Word w holds minimum byte w / 2 (two bsums per 32-element sub-block).
constexpr Control q4k_min_control() {
  Control c{};
  for (int i = 0; i < 32; ++i) c[i] = i % 2 == 1 ? Z : static_cast<int8_t>(i / 4);
  return c;
}
alignas(32) constexpr Control kQ4kMinControl = q4k_min_control();

// Sub-blocks of 16, 2p (low 128 bits) and 2p + 1 (high 128 bits), of Q2_K, Q3_K, Q6_K: the
// scale byte in the low byte of every word (unsigned: Z above it), or in both (signed: an
// arithmetic shift by 8 then sign-extends it), from a vector whose 128-bit lanes hold the
// 16 scale bytes.
constexpr Control sub_block_scale_control(int p, bool is_signed) {
  Control c{};
  for (int i = 0; i < 32; ++i) {
    c[i] = !is_signed && i % 2 == 1 ? Z : static_cast<int8_t>(2 * p + i / 16);
  }
  return c;
}
template <bool is_signed>
struct SubBlockScaleControls {
  alignas(32) Control pairs[8] = {
      sub_block_scale_control(0, is_signed), sub_block_scale_control(1, is_signed),
      sub_block_scale_control(2, is_signed), sub_block_scale_control(3, is_signed),
      sub_block_scale_control(4, is_signed), sub_block_scale_control(5, is_signed),
      sub_block_scale_control(6, is_signed), sub_block_scale_control(7, is_signed)};
};
constexpr SubBlockScaleControls<true> kSignedScaleControl;
constexpr SubBlockScaleControls<false> kUnsignedScaleControl;

// 16-bit scales of sub-blocks 2p and 2p + 1 from scale_lanes (as above).
inline __m256i signed_scales(__m256i scale_lanes, int p) {
  return _mm256_srai_epi16(
      _mm256_shuffle_epi8(scale_lanes, load_control(kSignedScaleControl.pairs[p])), 8);
}
inline __m256i unsigned_scales(__m256i scale_lanes, int p) {
  return _mm256_shuffle_epi8(scale_lanes, load_control(kUnsignedScaleControl.pairs[p]));
}

// The 2-bit fields of elements 32c .. 32c + 31 (c = 4h + k) of a Q2_K or Q3_K block:
// bits 2k, 2k + 1 of qs[32h + l].
inline __m256i two_bit_levels(const uint8_t* qs, int c) {
  const __m256i packed = load(qs + 32 * (c / 4));
  return _mm256_and_si256(_mm256_srli_epi16(packed, 2 * (c % 4)), _mm256_set1_epi8(3));
}

}  // namespace

namespace {

// Q4_K and Q5_K (whose fifth bit k of qh byte l is bit 4 of element 32k + l).
template <class Block>
float dot_with_mins(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const Block*>(vx);
  const auto* y = static_cast<const BlockQ8_K*>(vy);
  const __m256i mask4 = _mm256_set1_epi8(0x0f);
  float total = 0.0f;
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    prefetch_weights_ahead(x + i, static_cast<int>(sizeof(*x)));
    const kquant_detail::ScalesMins sm = decode_q4k_scales(x[i].scales);
    const __m256i scale_bytes = _mm256_set1_epi64x(static_cast<int64_t>(sm.scales));
    __m256i acc = _mm256_setzero_si256();
    for (int h = 0; h < 4; ++h) {
      // Sub-block 2h in the low nibbles, 2h + 1 in the high ones.
      const __m256i packed = load(x[i].qs + 32 * h);
      __m256i low = _mm256_and_si256(packed, mask4);
      __m256i high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), mask4);
      if constexpr (std::is_same_v<Block, BlockQ5_K>) {
        const __m256i bits = load(x[i].qh);
        const __m256i bit4 = _mm256_set1_epi8(0x10);
        const __m256i low_bit = _mm256_set1_epi8(static_cast<char>(1 << (2 * h)));
        const __m256i high_bit = _mm256_set1_epi8(static_cast<char>(2 << (2 * h)));
        low = _mm256_or_si256(
            low,
            _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(bits, low_bit), low_bit), bit4));
        high = _mm256_or_si256(
            high,
            _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(bits, high_bit), high_bit), bit4));
      }
      const __m256i p_low = _mm256_maddubs_epi16(low, load(y[i].qs + 64 * h));
      const __m256i p_high = _mm256_maddubs_epi16(high, load(y[i].qs + 64 * h + 32));
      const __m256i s_low = _mm256_shuffle_epi8(scale_bytes, load_control(kQ4kScaleControl[2 * h]));
      const __m256i s_high =
          _mm256_shuffle_epi8(scale_bytes, load_control(kQ4kScaleControl[2 * h + 1]));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p_low, s_low));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p_high, s_high));
    }
    const __m256i mins = _mm256_shuffle_epi8(_mm256_set1_epi64x(static_cast<int64_t>(sm.mins)),
                                             load_control(kQ4kMinControl));
    const __m256i min_products = _mm256_madd_epi16(load(y[i].bsums), mins);
    total = add_term_with_min(total, hsum_epi32(acc), hsum_epi32(min_products),
                              fp16_to_float(x[i].d), fp16_to_float(x[i].dmin), y[i].d);
  }
  return total;
}

}  // namespace

float vec_dot_q4_k_q8_k(int64_t n, const void* x, const void* y) {
  return dot_with_mins<BlockQ4_K>(n, x, y);
}

float vec_dot_q5_k_q8_k(int64_t n, const void* x, const void* y) {
  return dot_with_mins<BlockQ5_K>(n, x, y);
}

float vec_dot_q6_k_q8_k(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const BlockQ6_K*>(vx);
  const auto* y = static_cast<const BlockQ8_K*>(vy);
  const __m256i mask4 = _mm256_set1_epi8(0x0f);
  const __m256i mask_top = _mm256_set1_epi8(0x30);
  float total = 0.0f;
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    prefetch_weights_ahead(x + i, static_cast<int>(sizeof(*x)));
    const __m128i scale_bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
    const __m256i scale_lanes = _mm256_broadcastsi128_si256(scale_bytes);
    // Levels are stored + 32: sum of scale * (q - 32) . y = scale * q . y - 32 * scale * bsum.
    __m256i acc = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half) {
      const __m256i ql0 = load(x[i].ql + 64 * half);
      const __m256i ql1 = load(x[i].ql + 64 * half + 32);
      const __m256i qh = load(x[i].qh + 32 * half);
      // Elements 128 * half + 32 * part + [0, 32): bits 2 * part .. + 1 of qh on top.
      const __m256i levels[4] = {
          _mm256_or_si256(_mm256_and_si256(ql0, mask4),
                          _mm256_and_si256(_mm256_slli_epi16(qh, 4), mask_top)),
          _mm256_or_si256(_mm256_and_si256(ql1, mask4),
                          _mm256_and_si256(_mm256_slli_epi16(qh, 2), mask_top)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), mask4),
                          _mm256_and_si256(qh, mask_top)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), mask4),
                          _mm256_and_si256(_mm256_srli_epi16(qh, 2), mask_top))};
      for (int part = 0; part < 4; ++part) {
        const int p = 4 * half + part;  // sub-blocks 2p, 2p + 1
        const __m256i products = _mm256_maddubs_epi16(levels[part], load(y[i].qs + 32 * p));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(products, signed_scales(scale_lanes, p)));
      }
    }
    const __m256i offset = _mm256_madd_epi16(load(y[i].bsums), _mm256_cvtepi8_epi16(scale_bytes));
    const __m256i sums = _mm256_sub_epi32(acc, _mm256_slli_epi32(offset, 5));
    total = add_term(total, hsum_epi32(sums), fp16_to_float(x[i].d), y[i].d);
  }
  return total;
}

float vec_dot_q2_k_q8_k(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const BlockQ2_K*>(vx);
  const auto* y = static_cast<const BlockQ8_K*>(vy);
  const __m128i low4 = _mm_set1_epi8(0x0f);
  float total = 0.0f;
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    prefetch_weights_ahead(x + i, static_cast<int>(sizeof(*x)));
    // Byte s: sub-block s's scale (low nibble) and minimum (high nibble).
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
    const __m256i scale_lanes = _mm256_broadcastsi128_si256(_mm_and_si128(packed, low4));
    __m256i acc = _mm256_setzero_si256();
    for (int c = 0; c < 8; ++c) {
      const __m256i products =
          _mm256_maddubs_epi16(two_bit_levels(x[i].qs, c), load(y[i].qs + 32 * c));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(products, unsigned_scales(scale_lanes, c)));
    }
    const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), low4));
    const __m256i min_products = _mm256_madd_epi16(load(y[i].bsums), mins);
    total = add_q2k_term(total, hsum_epi32(acc), hsum_epi32(min_products), fp16_to_float(x[i].d),
                         fp16_to_float(x[i].dmin), y[i].d);
  }
  return total;
}

float vec_dot_q3_k_q8_k(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const BlockQ3_K*>(vx);
  const auto* y = static_cast<const BlockQ8_K*>(vy);
  const __m256i four = _mm256_set1_epi8(4);
  float total = 0.0f;
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    prefetch_weights_ahead(x + i, static_cast<int>(sizeof(*x)));
    const __m128i scale_bytes = kquant_detail::q3k_scale_bytes(x[i].scales);
    const __m256i scale_lanes = _mm256_broadcastsi128_si256(scale_bytes);
    const __m256i high_bits = load(x[i].hmask);
    // Levels are taken + 4 (0..7): 4 where bit c of hmask[l] is set (element 32c + l), and
    // the -4 comes back as -4 * scale * bsum.
    __m256i acc = _mm256_setzero_si256();
    for (int c = 0; c < 8; ++c) {
      const __m256i bit = _mm256_set1_epi8(static_cast<char>(1 << c));
      const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(high_bits, bit), bit);
      const __m256i levels =
          _mm256_or_si256(two_bit_levels(x[i].qs, c), _mm256_and_si256(set, four));
      const __m256i products = _mm256_maddubs_epi16(levels, load(y[i].qs + 32 * c));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(products, signed_scales(scale_lanes, c)));
    }
    const __m256i offset = _mm256_madd_epi16(load(y[i].bsums), _mm256_cvtepi8_epi16(scale_bytes));
    const __m256i sums = _mm256_sub_epi32(acc, _mm256_slli_epi32(offset, 2));
    total = add_term(total, hsum_epi32(sums), fp16_to_float(x[i].d), y[i].d);
  }
  return total;
}

// IQ4_XS: the signed levels of kIq4nlValues with the sign trick (as unsigned bytes + 128
// their pair sums would saturate), each sub-block's scale applied by vpmaddwd.
float vec_dot_iq4_xs_q8_k(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const BlockIQ4_XS*>(vx);
  const auto* y = static_cast<const BlockQ8_K*>(vy);
  const __m256i table =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
  const __m256i mask4 = _mm256_set1_epi8(0x0f);
  float total = 0.0f;
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    prefetch_weights_ahead(x + i, static_cast<int>(sizeof(*x)));
    const __m256i scale_lanes = kquant_detail::iq4xs_scales(x[i].scales_l, x[i].scales_h);
    alignas(16) int16_t scales[8];
    _mm_store_si128(reinterpret_cast<__m128i*>(scales),
                    _mm_packs_epi32(_mm256_castsi256_si128(scale_lanes),
                                    _mm256_extracti128_si256(scale_lanes, 1)));
    __m256i acc = _mm256_setzero_si256();
    for (int p = 0; p < 4; ++p) {
      // Sub-blocks 2p and 2p + 1: 16 bytes of qs each, low nibbles elements 0-15.
      const __m256i packed = load(x[i].qs + 32 * p);
      const __m256i low = _mm256_and_si256(packed, mask4);
      const __m256i high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), mask4);
      // Sub-block 2p + half in element order: its low nibbles, then its high ones.
      const __m256i sub_blocks[2] = {_mm256_permute2x128_si256(low, high, 0x20),
                                     _mm256_permute2x128_si256(low, high, 0x31)};
      for (int half = 0; half < 2; ++half) {
        const __m256i levels = _mm256_shuffle_epi8(table, sub_blocks[half]);
        const __m256i products = _mm256_maddubs_epi16(
            _mm256_abs_epi8(levels), _mm256_sign_epi8(load(y[i].qs + 64 * p + 32 * half), levels));
        acc = _mm256_add_epi32(
            acc, _mm256_madd_epi16(products, _mm256_set1_epi16(scales[2 * p + half])));
      }
    }
    total = add_term(total, hsum_epi32(acc), fp16_to_float(x[i].d), y[i].d);
  }
  return total;
}

}  // namespace locara::ops::avx2
