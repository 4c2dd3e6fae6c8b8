// AVX-512 VNNI gemm tiles of Q4_K, Q5_K and Q6_K (prompt processing, compute bound): the
// kinds that unpack their blocks for kquant_gemm_avx512.h's tiles.
#include "ops/x86/kquant_gemm_avx512.h"  // first: it includes <immintrin.h>, see there

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ops/quant_blocks_k.h"
#include "ops/x86/kquant_kernels.h"

namespace locara::ops::avx512 {
namespace kquant_gemm {
namespace {

struct KindQ4_K {
  using Block = BlockQ4_K;
  static constexpr int kSubBlocks = 8;
  static constexpr int kPairs = 4;
  static constexpr KTerm kTerm = KTerm::kScaledWithMin;

  // Transposes the packed nibbles, then splits them: word m of qs holds elements
  // 64h + 4p .. + 3 (low nibbles) and 64h + 32 + 4p .. + 3 (high), h = m / 8, p = m % 8.
  static void pack_levels(const uint8_t* column, size_t row_bytes, int valid,
                          uint8_t q[kSteps][64]) {
    const __m512i mask4 = _mm512_set1_epi8(0x0f);
    for (int part = 0; part < 2; ++part) {
      __m512i words[16];
      transpose_rows(column, row_bytes, valid, offsetof(Block, qs), part, words);
      for (int k = 0; k < 16; ++k) {
        const int m = 16 * part + k;
        const int step = 16 * (m / 8) + m % 8;
        _mm512_store_si512(q[step], _mm512_and_si512(words[k], mask4));
        _mm512_store_si512(q[step + 8], _mm512_and_si512(_mm512_srli_epi16(words[k], 4), mask4));
      }
    }
  }

  static void pack_scales(const uint8_t* column, size_t row_bytes, int valid, TileScratch& s,
                          int g) {
    const __m512i head = gather_group(column, row_bytes, valid, offsetof(Block, d));
    const __m512i w0 = gather_group(column, row_bytes, valid, offsetof(Block, scales));
    const __m512i w1 = gather_group(column, row_bytes, valid, offsetof(Block, scales) + 4);
    const __m512i w2 = gather_group(column, row_bytes, valid, offsetof(Block, scales) + 8);
    _mm512_store_ps(s.dx[g], low_halves_to_float(head));
    _mm512_store_ps(s.dmin[g], high_halves_to_float(head));
    // As kquant_detail::decode_q4k_scales, one row per lane.
    const __m512i low6 = _mm512_set1_epi32(0x3f3f3f3f);
    const __m512i low4 = _mm512_set1_epi32(0x0f0f0f0f);
    const __m512i bits45 = _mm512_set1_epi32(0x30303030);
    const __m512i scales_low = _mm512_and_si512(w0, low6);
    const __m512i mins_low = _mm512_and_si512(w1, low6);
    const __m512i scales_high = _mm512_or_si512(_mm512_and_si512(w2, low4),
                                                _mm512_and_si512(_mm512_srli_epi32(w0, 2), bits45));
    const __m512i mins_high = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(w2, 4), low4),
                                              _mm512_and_si512(_mm512_srli_epi32(w1, 2), bits45));
    for (int j = 0; j < 4; ++j) {
      _mm512_store_si512(s.scales[g][j], lane_byte(scales_low, j));
      _mm512_store_si512(s.scales[g][4 + j], lane_byte(scales_high, j));
    }
    _mm512_store_si512(s.pair_factors[g][0], lane_byte_pair(mins_low, 0));
    _mm512_store_si512(s.pair_factors[g][1], lane_byte_pair(mins_low, 2));
    _mm512_store_si512(s.pair_factors[g][2], lane_byte_pair(mins_high, 0));
    _mm512_store_si512(s.pair_factors[g][3], lane_byte_pair(mins_high, 2));
  }
};

// Q4_K's levels plus a fifth bit: bit k of qh byte l is bit 4 of element 32k + l. Scales,
// minimums and their offsets in the block are Q4_K's.
struct KindQ5_K {
  using Block = BlockQ5_K;
  static constexpr int kSubBlocks = 8;
  static constexpr int kPairs = 4;
  static constexpr KTerm kTerm = KTerm::kScaledWithMin;
  static_assert(offsetof(BlockQ5_K, scales) == offsetof(BlockQ4_K, scales));

  // As Q4_K's, with word p of qh (lanes = rows) holding the fifth bits of elements
  // 32k + 4p .. + 3 in bit k of each byte.
  static void pack_levels(const uint8_t* column, size_t row_bytes, int valid,
                          uint8_t q[kSteps][64]) {
    const __m512i mask4 = _mm512_set1_epi8(0x0f);
    const __m512i bit4 = _mm512_set1_epi8(0x10);
    __m512i qh[16];
    transpose_rows(column, row_bytes, valid, offsetof(Block, qh), 0, qh);  // words 0-7 used
    for (int part = 0; part < 2; ++part) {
      __m512i words[16];
      transpose_rows(column, row_bytes, valid, offsetof(Block, qs), part, words);
      for (int k = 0; k < 16; ++k) {
        const int m = 16 * part + k;
        const int h = m / 8;
        const int p = m % 8;
        const int step = 16 * h + p;
        // Bit 2h (low nibble's element) or 2h + 1 (high nibble's) moved to bit 4.
        _mm512_store_si512(q[step],
                           _mm512_ternarylogic_epi32(_mm512_and_si512(words[k], mask4),
                                                     shift_bits(qh[p], 4 - 2 * h), bit4, 0xf8));
        _mm512_store_si512(q[step + 8], _mm512_ternarylogic_epi32(
                                            _mm512_and_si512(_mm512_srli_epi16(words[k], 4), mask4),
                                            shift_bits(qh[p], 3 - 2 * h), bit4, 0xf8));
      }
    }
  }

  static void pack_scales(const uint8_t* column, size_t row_bytes, int valid, TileScratch& s,
                          int g) {
    KindQ4_K::pack_scales(column, row_bytes, valid, s, g);
  }
};

struct KindQ6_K {
  using Block = BlockQ6_K;
  static constexpr int kSubBlocks = 16;
  static constexpr int kPairs = 8;
  static constexpr KTerm kTerm = KTerm::kScaled;

  // Transposes ql and qh, then combines them: word m of ql (half = m / 16, p = m % 8)
  // holds, with word 8 * half + p of qh on top, elements 128 half + 32 j + 4p .. + 3 in
  // its low (j = 0, or 1 when m % 16 >= 8) and high (j + 2) nibbles, the top bits of
  // element 32 j + l being bits 2j, 2j + 1 of qh byte l.
  static void pack_levels(const uint8_t* column, size_t row_bytes, int valid,
                          uint8_t q[kSteps][64]) {
    const __m512i mask4 = _mm512_set1_epi8(0x0f);
    const __m512i mask_top = _mm512_set1_epi8(0x30);
    __m512i qh[16];
    transpose_rows(column, row_bytes, valid, offsetof(Block, qh), 0, qh);
    for (int part = 0; part < 2; ++part) {
      __m512i ql[16];
      transpose_rows(column, row_bytes, valid, offsetof(Block, ql), part, ql);
      for (int k = 0; k < 16; ++k) {
        const int m = 16 * part + k;
        const int half = m / 16;
        const int j = (m % 16) / 8;
        const int p = m % 8;
        const __m512i top = qh[8 * half + p];
        // Bits 2j, 2j+1 (low nibble's element) and 2j+4, 2j+5 (high nibble's) to 4, 5.
        const __m512i top_low = j == 0 ? _mm512_slli_epi16(top, 4) : _mm512_slli_epi16(top, 2);
        const __m512i top_high = j == 0 ? top : _mm512_srli_epi16(top, 2);
        const int step = 32 * half + 8 * j + p;
        // ternary logic 0xf8: a | (b & c)
        _mm512_store_si512(q[step], _mm512_ternarylogic_epi32(_mm512_and_si512(ql[k], mask4),
                                                              top_low, mask_top, 0xf8));
        _mm512_store_si512(q[step + 16], _mm512_ternarylogic_epi32(
                                             _mm512_and_si512(_mm512_srli_epi16(ql[k], 4), mask4),
                                             top_high, mask_top, 0xf8));
      }
    }
  }

  static void pack_scales(const uint8_t* column, size_t row_bytes, int valid, TileScratch& s,
                          int g) {
    // d is the last 2 bytes of the block: read the word that ends there.
    const __m512i tail = gather_group(column, row_bytes, valid, offsetof(Block, d) - 2);
    _mm512_store_ps(s.dx[g], high_halves_to_float(tail));
    const __m512i zero = _mm512_setzero_si512();
    for (int w = 0; w < 4; ++w) {
      const __m512i word = gather_group(column, row_bytes, valid, offsetof(Block, scales) + 4 * w);
      for (int b = 0; b < 4; ++b)
        _mm512_store_si512(s.scales[g][4 * w + b], lane_signed_byte(word, b));
      // -32 * scale fits 16 bits; the halves pair with bsums 2k and 2k + 1.
      for (int p = 0; p < 2; ++p) {
        const __m512i first =
            _mm512_sub_epi32(zero, _mm512_slli_epi32(lane_signed_byte(word, 2 * p), 5));
        const __m512i second =
            _mm512_sub_epi32(zero, _mm512_slli_epi32(lane_signed_byte(word, 2 * p + 1), 5));
        _mm512_store_si512(s.pair_factors[g][2 * w + p],
                           _mm512_or_si512(_mm512_and_si512(first, _mm512_set1_epi32(0xffff)),
                                           _mm512_slli_epi32(second, 16)));
      }
    }
  }
};

}  // namespace
}  // namespace kquant_gemm

using kquant_gemm::gemm;

LOCARA_DEFINE_GEMM_TILE(gemm_tile_q4_k, gemm<kquant_gemm::KindQ4_K>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_q5_k, gemm<kquant_gemm::KindQ5_K>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_q6_k, gemm<kquant_gemm::KindQ6_K>)

}  // namespace locara::ops::avx512
