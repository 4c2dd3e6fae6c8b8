// AVX2 gemm tiles of Q4_K, Q5_K and Q6_K (prompt processing on CPUs without VNNI): the
// kinds that unpack their blocks for kquant_gemm_avx2.h's tiles.
#include "ops/x86/kquant_gemm_avx2.h"

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ops/quant_blocks_k.h"
#include "ops/x86/kquant_kernels.h"
#include "ops/x86/simd_avx2.h"

namespace locara::ops::avx2 {
namespace kquant_gemm {
namespace {

struct KindQ4_K {
  using Block = BlockQ4_K;
  static constexpr int kSubBlocks = 8;
  static constexpr int kPairs = 4;
  static constexpr bool kSigned = false;
  static constexpr KTerm kTerm = KTerm::kScaledWithMin;
  // Steps whose 16-bit pair sums (at most 2 * 15 * 127 each) add without overflow.
  static constexpr int kWidenSteps = 8;

  // The 8 x 32 levels of one row in element order.
  static void unpack_levels(const Block& b, __m256i out[8]) { unpack_nibbles(b.qs, out); }
  static void unpack_nibbles(const uint8_t* qs, __m256i out[8]) {
    const __m256i mask4 = _mm256_set1_epi8(0x0f);
    for (int h = 0; h < 4; ++h) {
      const __m256i packed = load(qs + 32 * h);
      out[2 * h] = _mm256_and_si256(packed, mask4);
      out[2 * h + 1] = _mm256_and_si256(_mm256_srli_epi16(packed, 4), mask4);
    }
  }

  static void pack_scales(const uint8_t* column, int32_t row_bytes, int valid, TileScratch& s,
                          int g) {
    const __m256i head = gather_words(column + offsetof(Block, d), row_bytes, valid);
    const __m256i w0 = gather_words(column + offsetof(Block, scales), row_bytes, valid);
    const __m256i w1 = gather_words(column + offsetof(Block, scales) + 4, row_bytes, valid);
    const __m256i w2 = gather_words(column + offsetof(Block, scales) + 8, row_bytes, valid);
    _mm256_store_ps(s.dx[g], low_halves_to_float(head));
    _mm256_store_ps(s.dmin[g], high_halves_to_float(head));
    // As kquant_detail::decode_q4k_scales, one row per lane.
    const __m256i low6 = _mm256_set1_epi32(0x3f3f3f3f);
    const __m256i low4 = _mm256_set1_epi32(0x0f0f0f0f);
    const __m256i bits45 = _mm256_set1_epi32(0x30303030);
    const __m256i scales_low = _mm256_and_si256(w0, low6);
    const __m256i mins_low = _mm256_and_si256(w1, low6);
    const __m256i scales_high = _mm256_or_si256(_mm256_and_si256(w2, low4),
                                                _mm256_and_si256(_mm256_srli_epi32(w0, 2), bits45));
    const __m256i mins_high = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(w2, 4), low4),
                                              _mm256_and_si256(_mm256_srli_epi32(w1, 2), bits45));
    for (int j = 0; j < 4; ++j) {
      const __m256i sl = lane_byte(scales_low, j);
      const __m256i sh = lane_byte(scales_high, j);
      _mm256_store_si256(reinterpret_cast<__m256i*>(s.scales[g][j]), word_pair(sl, sl));
      _mm256_store_si256(reinterpret_cast<__m256i*>(s.scales[g][4 + j]), word_pair(sh, sh));
    }
    for (int p = 0; p < 2; ++p) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(s.pair_factors[g][p]),
                         word_pair(lane_byte(mins_low, 2 * p), lane_byte(mins_low, 2 * p + 1)));
      _mm256_store_si256(reinterpret_cast<__m256i*>(s.pair_factors[g][2 + p]),
                         word_pair(lane_byte(mins_high, 2 * p), lane_byte(mins_high, 2 * p + 1)));
    }
  }
};

// Q4_K's levels plus a fifth bit (bit k of qh byte l is bit 4 of element 32k + l); scales
// and minimums as Q4_K's, at the same offsets.
struct KindQ5_K {
  using Block = BlockQ5_K;
  static constexpr int kSubBlocks = 8;
  static constexpr int kPairs = 4;
  static constexpr bool kSigned = false;
  static constexpr KTerm kTerm = KTerm::kScaledWithMin;
  // Pair sums reach 2 * 31 * 127: four steps add without overflow.
  static constexpr int kWidenSteps = 4;
  static_assert(offsetof(BlockQ5_K, scales) == offsetof(BlockQ4_K, scales));

  static void unpack_levels(const Block& b, __m256i out[8]) {
    KindQ4_K::unpack_nibbles(b.qs, out);
    const __m256i bits = load(b.qh);
    const __m256i bit4 = _mm256_set1_epi8(0x10);
    for (int c = 0; c < 8; ++c) {
      const __m256i bit = _mm256_set1_epi8(static_cast<char>(1 << c));
      const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(bits, bit), bit);
      out[c] = _mm256_or_si256(out[c], _mm256_and_si256(set, bit4));
    }
  }
  static void pack_scales(const uint8_t* column, int32_t row_bytes, int valid, TileScratch& s,
                          int g) {
    KindQ4_K::pack_scales(column, row_bytes, valid, s, g);
  }
};

struct KindQ6_K {
  using Block = BlockQ6_K;
  static constexpr int kSubBlocks = 16;
  static constexpr int kPairs = 8;
  static constexpr bool kSigned = false;
  static constexpr KTerm kTerm = KTerm::kScaled;
  // Pair sums reach 2 * 63 * 127: two steps add without overflow.
  static constexpr int kWidenSteps = 2;

  static void unpack_levels(const Block& b, __m256i out[8]) {
    const __m256i mask4 = _mm256_set1_epi8(0x0f);
    const __m256i mask_top = _mm256_set1_epi8(0x30);
    for (int half = 0; half < 2; ++half) {
      const __m256i ql0 = load(b.ql + 64 * half);
      const __m256i ql1 = load(b.ql + 64 * half + 32);
      const __m256i qh = load(b.qh + 32 * half);
      __m256i* o = out + 4 * half;
      o[0] = _mm256_or_si256(_mm256_and_si256(ql0, mask4),
                             _mm256_and_si256(_mm256_slli_epi16(qh, 4), mask_top));
      o[1] = _mm256_or_si256(_mm256_and_si256(ql1, mask4),
                             _mm256_and_si256(_mm256_slli_epi16(qh, 2), mask_top));
      o[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), mask4),
                             _mm256_and_si256(qh, mask_top));
      o[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), mask4),
                             _mm256_and_si256(_mm256_srli_epi16(qh, 2), mask_top));
    }
  }

  static void pack_scales(const uint8_t* column, int32_t row_bytes, int valid, TileScratch& s,
                          int g) {
    // d is the last 2 bytes of the block: read the word that ends there.
    const __m256i tail = gather_words(column + offsetof(Block, d) - 2, row_bytes, valid);
    _mm256_store_ps(s.dx[g], high_halves_to_float(tail));
    const __m256i zero = _mm256_setzero_si256();
    for (int w = 0; w < 4; ++w) {
      const __m256i word = gather_words(column + offsetof(Block, scales) + 4 * w, row_bytes, valid);
      __m256i sc[4];
      for (int b = 0; b < 4; ++b) {
        sc[b] = lane_signed_byte(word, b);
        _mm256_store_si256(reinterpret_cast<__m256i*>(s.scales[g][4 * w + b]),
                           word_pair(sc[b], sc[b]));
      }
      // -32 * scale fits 16 bits; the halves pair with bsums 2k and 2k + 1.
      for (int p = 0; p < 2; ++p) {
        const __m256i first = _mm256_sub_epi32(zero, _mm256_slli_epi32(sc[2 * p], 5));
        const __m256i second = _mm256_sub_epi32(zero, _mm256_slli_epi32(sc[2 * p + 1], 5));
        _mm256_store_si256(reinterpret_cast<__m256i*>(s.pair_factors[g][2 * w + p]),
                           word_pair(first, second));
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

}  // namespace locara::ops::avx2
