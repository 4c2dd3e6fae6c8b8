// AVX-512 VNNI gemm tiles of the K formats below 4.5 bits per weight (Q2_K, Q3_K, IQ4_XS),
// for prompt processing: the kinds that unpack their blocks for kquant_gemm_avx512.h's
// tiles. Levels are packed unsigned, as vpdpbusd needs; where a format's levels are
// signed, the offset comes back through the bsums term (pair factors).
#include <cstddef>
#include <cstdint>

#include "ops/quant_blocks_k.h"
#include "ops/x86/kquant_gemm_avx512.h"  // first: it includes <immintrin.h>, see there
#include "ops/x86/kquant_kernels.h"

namespace locara::ops::avx512 {
namespace kquant_gemm {
namespace {

// Two 16-bit values per lane: -(first << shift) and -(second << shift), which fit.
inline __m512i negated_pair(__m512i first, __m512i second, int shift) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i low = _mm512_sub_epi32(zero, _mm512_slli_epi32(first, shift));
  const __m512i high = _mm512_sub_epi32(zero, _mm512_slli_epi32(second, shift));
  return _mm512_or_si512(_mm512_and_si512(low, _mm512_set1_epi32(0xffff)),
                         _mm512_slli_epi32(high, 16));
}

// The 2-bit fields of a Q2_K or Q3_K block: word m of qs (h = m / 8, p = m % 8) holds in
// bits 2k, 2k + 1 of its bytes the fields of elements 128h + 32k + 4p .. + 3, which step
// 32h + 8k + p takes. visit(step, fields, m, k) gets each step's fields (lanes = rows).
template <class Visit>
inline void for_each_two_bit_step(const uint8_t* column, size_t row_bytes, int valid,
                                  size_t qs_offset, Visit&& visit) {
  const __m512i mask2 = _mm512_set1_epi8(3);
  __m512i words[16];
  transpose_rows(column, row_bytes, valid, qs_offset, 0, words);
#pragma GCC unroll 16
  for (int m = 0; m < 16; ++m) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const __m512i fields = _mm512_and_si512(_mm512_srli_epi16(words[m], 2 * k), mask2);
      visit(32 * (m / 8) + 8 * k + m % 8, fields, m, k);
    }
  }
}

// value = d * scale * q - dmin * min on 16 sub-blocks of 16, q in 0..3: the levels as they
// are, 4-bit scales and minimums in the nibbles of scales[s].
struct KindQ2_K {
  using Block = BlockQ2_K;
  static constexpr int kSubBlocks = 16;
  static constexpr int kPairs = 8;
  static constexpr KTerm kTerm = KTerm::kQ2K;

  static void pack_levels(const uint8_t* column, size_t row_bytes, int valid,
                          uint8_t q[kSteps][64]) {
    for_each_two_bit_step(
        column, row_bytes, valid, offsetof(Block, qs),
        [&](int step, __m512i fields, int, int) { _mm512_store_si512(q[step], fields); });
  }

  static void pack_scales(const uint8_t* column, size_t row_bytes, int valid, TileScratch& s,
                          int g) {
    const __m512i head = gather_group(column, row_bytes, valid, offsetof(Block, d));  // d, dmin
    _mm512_store_ps(s.dx[g], low_halves_to_float(head));
    _mm512_store_ps(s.dmin[g], high_halves_to_float(head));
    const __m512i low4 = _mm512_set1_epi32(0x0f0f0f0f);
    for (int w = 0; w < 4; ++w) {
      const __m512i word = gather_group(column, row_bytes, valid, offsetof(Block, scales) + 4 * w);
      const __m512i scales = _mm512_and_si512(word, low4);
      const __m512i mins = _mm512_and_si512(_mm512_srli_epi32(word, 4), low4);
      for (int b = 0; b < 4; ++b) _mm512_store_si512(s.scales[g][4 * w + b], lane_byte(scales, b));
      _mm512_store_si512(s.pair_factors[g][2 * w], lane_byte_pair(mins, 0));
      _mm512_store_si512(s.pair_factors[g][2 * w + 1], lane_byte_pair(mins, 2));
    }
  }
};

// value = d * (scale - 32) * (q - 4 * !high) on 16 sub-blocks of 16: the levels are packed
// + 4 (q | 4 * high, 0..7), and -4 * (scale - 32) pairs with the bsums.
struct KindQ3_K {
  using Block = BlockQ3_K;
  static constexpr int kSubBlocks = 16;
  static constexpr int kPairs = 8;
  static constexpr KTerm kTerm = KTerm::kScaled;

  // The high bit of element 32c + l (c = 4h + k) is bit c of hmask[l], and hmask's word p
  // (lanes = rows) holds bytes l = 4p .. 4p + 3.
  static void pack_levels(const uint8_t* column, size_t row_bytes, int valid,
                          uint8_t q[kSteps][64]) {
    const __m512i bit2 = _mm512_set1_epi8(4);
    __m512i high[16];
    transpose_rows(column, row_bytes, valid, offsetof(Block, hmask), 0, high);  // words 0-7
    for_each_two_bit_step(
        column, row_bytes, valid, offsetof(Block, qs), [&](int step, __m512i fields, int m, int k) {
          // Bit c of each hmask byte moved to bit 2; ternary logic 0xf8:
          // a | (b & c).
          const int c = 4 * (m / 8) + k;
          _mm512_store_si512(q[step], _mm512_ternarylogic_epi32(
                                          fields, shift_bits(high[m % 8], 2 - c), bit2, 0xf8));
        });
  }

  // As kquant_detail::q3k_scale_bytes, one row per lane.
  static void pack_scales(const uint8_t* column, size_t row_bytes, int valid, TileScratch& s,
                          int g) {
    // d is the last 2 bytes of the block: read the word that ends there.
    const __m512i tail = gather_group(column, row_bytes, valid, offsetof(Block, d) - 2);
    _mm512_store_ps(s.dx[g], high_halves_to_float(tail));
    const __m512i w0 = gather_group(column, row_bytes, valid, offsetof(Block, scales));
    const __m512i w1 = gather_group(column, row_bytes, valid, offsetof(Block, scales) + 4);
    const __m512i w2 = gather_group(column, row_bytes, valid, offsetof(Block, scales) + 8);
    const __m512i low4 = _mm512_set1_epi32(0x0f0f0f0f);
    const __m512i top2 = _mm512_set1_epi32(0x03030303);
    const __m512i low[4] = {_mm512_and_si512(w0, low4), _mm512_and_si512(w1, low4),
                            _mm512_and_si512(_mm512_srli_epi32(w0, 4), low4),
                            _mm512_and_si512(_mm512_srli_epi32(w1, 4), low4)};
    const __m512i offset = _mm512_set1_epi32(32);
    for (int quad = 0; quad < 4; ++quad) {
      const __m512i top = _mm512_and_si512(_mm512_srli_epi32(w2, 2 * quad), top2);
      const __m512i packed = _mm512_or_si512(low[quad], _mm512_slli_epi32(top, 4));
      __m512i scale[4];
      for (int b = 0; b < 4; ++b) {
        scale[b] = _mm512_sub_epi32(lane_byte(packed, b), offset);
        _mm512_store_si512(s.scales[g][4 * quad + b], scale[b]);
      }
      for (int p = 0; p < 2; ++p) {
        _mm512_store_si512(s.pair_factors[g][2 * quad + p],
                           negated_pair(scale[2 * p], scale[2 * p + 1], 2));
      }
    }
  }
};

// value = d * (ls - 32) * kIq4nlValues[q] on 8 sub-blocks of 32: the levels are packed as
// kIq4nlValues + 128 (1..241), and -128 * (ls - 32) pairs with the sub-block sums.
struct KindIQ4_XS {
  using Block = BlockIQ4_XS;
  static constexpr int kSubBlocks = 8;
  static constexpr int kPairs = 4;
  static constexpr KTerm kTerm = KTerm::kScaled;

  // Word m of qs (b = m / 4, p = m % 4) holds elements 32b + 4p .. + 3 in its low nibbles
  // and 32b + 16 + 4p .. + 3 in its high ones.
  static void pack_levels(const uint8_t* column, size_t row_bytes, int valid,
                          uint8_t q[kSteps][64]) {
    alignas(16) int8_t biased[16];
    for (int i = 0; i < 16; ++i) biased[i] = static_cast<int8_t>(kIq4nlValues[i] ^ 0x80);
    const __m512i table =
        _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(biased)));
    const __m512i mask4 = _mm512_set1_epi8(0x0f);
    for (int part = 0; part < 2; ++part) {
      __m512i words[16];
      transpose_rows(column, row_bytes, valid, offsetof(Block, qs), part, words);
      for (int k = 0; k < 16; ++k) {
        const int m = 16 * part + k;
        const int step = 8 * (m / 4) + m % 4;
        _mm512_store_si512(q[step], _mm512_shuffle_epi8(table, _mm512_and_si512(words[k], mask4)));
        _mm512_store_si512(
            q[step + 4],
            _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(words[k], 4), mask4)));
      }
    }
  }

  // As kquant_detail::iq4xs_scales, one row per lane.
  static void pack_scales(const uint8_t* column, size_t row_bytes, int valid, TileScratch& s,
                          int g) {
    const __m512i head = gather_group(column, row_bytes, valid, 0);  // d, scales_h
    const __m512i low_bits = gather_group(column, row_bytes, valid, offsetof(Block, scales_l));
    _mm512_store_ps(s.dx[g], low_halves_to_float(head));
    const __m512i high_bits = _mm512_srli_epi32(head, 16);
    __m512i scale[8];
    for (int b = 0; b < 8; ++b) {
      const __m512i low = _mm512_and_si512(_mm512_srli_epi32(low_bits, 8 * (b / 2) + 4 * (b % 2)),
                                           _mm512_set1_epi32(0xf));
      const __m512i high =
          _mm512_and_si512(_mm512_srli_epi32(high_bits, 2 * b), _mm512_set1_epi32(3));
      scale[b] =
          _mm512_sub_epi32(_mm512_or_si512(low, _mm512_slli_epi32(high, 4)), _mm512_set1_epi32(32));
      _mm512_store_si512(s.scales[g][b], scale[b]);
    }
    for (int p = 0; p < 4; ++p) {
      _mm512_store_si512(s.pair_factors[g][p], negated_pair(scale[2 * p], scale[2 * p + 1], 7));
    }
  }
};

}  // namespace
}  // namespace kquant_gemm

using kquant_gemm::gemm;

LOCARA_DEFINE_GEMM_TILE(gemm_tile_q2_k, gemm<kquant_gemm::KindQ2_K>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_q3_k, gemm<kquant_gemm::KindQ3_K>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_iq4_xs, gemm<kquant_gemm::KindIQ4_XS>)

}  // namespace locara::ops::avx512
