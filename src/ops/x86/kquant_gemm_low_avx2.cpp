// AVX2 gemm tiles of the K formats below 4.5 bits per weight (Q2_K, Q3_K, IQ4_XS), for
// prompt processing on CPUs without VNNI: the kinds that unpack their blocks for
// kquant_gemm_avx2.h's tiles. Q2_K and Q3_K pack unsigned levels (Q3_K's offset comes
// back through the bsums term); IQ4_XS packs its signed levels for the sign trick.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "ops/quant_blocks_k.h"
#include "ops/x86/kquant_gemm_avx2.h"
#include "ops/x86/kquant_kernels.h"
#include "ops/x86/simd_avx2.h"

namespace locara::ops::avx2 {
namespace kquant_gemm {
namespace {

// The 2-bit fields of elements 32c .. 32c + 31 (c = 4h + k) of a Q2_K or Q3_K block:
// bits 2k, 2k + 1 of qs[32h + l].
inline __m256i two_bit_fields(const uint8_t* qs, int c) {
  const __m256i packed = load(qs + 32 * (c / 4));
  return _mm256_and_si256(_mm256_srli_epi16(packed, 2 * (c % 4)), _mm256_set1_epi8(3));
}

// Two 16-bit values per lane: -(first << shift) and -(second << shift), which fit.
inline __m256i negated_pair(__m256i first, __m256i second, int shift) {
  const __m256i zero = _mm256_setzero_si256();
  return word_pair(_mm256_sub_epi32(zero, _mm256_slli_epi32(first, shift)),
                   _mm256_sub_epi32(zero, _mm256_slli_epi32(second, shift)));
}

inline void store(int32_t* to, __m256i v) {
  _mm256_store_si256(reinterpret_cast<__m256i*>(to), v);
}

// value = d * scale * q - dmin * min on 16 sub-blocks of 16, q in 0..3: the levels as they
// are, 4-bit scales and minimums in the nibbles of scales[s].
struct KindQ2_K {
  using Block = BlockQ2_K;
  static constexpr int kSubBlocks = 16;
  static constexpr int kPairs = 8;
  static constexpr bool kSigned = false;
  static constexpr KTerm kTerm = KTerm::kQ2K;
  // Pair sums reach 2 * 3 * 127: a whole sub-block (4 steps) adds without overflow.
  static constexpr int kWidenSteps = 4;

  static void unpack_levels(const Block& b, __m256i out[8]) {
    for (int c = 0; c < 8; ++c) out[c] = two_bit_fields(b.qs, c);
  }

  static void pack_scales(const uint8_t* column, int32_t row_bytes, int valid, TileScratch& s,
                          int g) {
    const __m256i head = gather_words(column + offsetof(Block, d), row_bytes, valid);  // d, dmin
    _mm256_store_ps(s.dx[g], low_halves_to_float(head));
    _mm256_store_ps(s.dmin[g], high_halves_to_float(head));
    const __m256i low4 = _mm256_set1_epi32(0x0f0f0f0f);
    for (int w = 0; w < 4; ++w) {
      const __m256i word = gather_words(column + offsetof(Block, scales) + 4 * w, row_bytes, valid);
      const __m256i scales = _mm256_and_si256(word, low4);
      const __m256i mins = _mm256_and_si256(_mm256_srli_epi32(word, 4), low4);
      for (int b = 0; b < 4; ++b) {
        const __m256i scale = lane_byte(scales, b);
        store(s.scales[g][4 * w + b], word_pair(scale, scale));
      }
      for (int p = 0; p < 2; ++p) {
        store(s.pair_factors[g][2 * w + p],
              word_pair(lane_byte(mins, 2 * p), lane_byte(mins, 2 * p + 1)));
      }
    }
  }
};

// value = d * (scale - 32) * (q - 4 * !high) on 16 sub-blocks of 16: the levels are packed
// + 4 (q | 4 * high, 0..7), and -4 * (scale - 32) pairs with the bsums.
struct KindQ3_K {
  using Block = BlockQ3_K;
  static constexpr int kSubBlocks = 16;
  static constexpr int kPairs = 8;
  static constexpr bool kSigned = false;
  static constexpr KTerm kTerm = KTerm::kScaled;
  // Pair sums reach 2 * 7 * 127: a whole sub-block (4 steps) adds without overflow.
  static constexpr int kWidenSteps = 4;

  // The high bit of element 32c + l is bit c of hmask[l].
  static void unpack_levels(const Block& b, __m256i out[8]) {
    const __m256i high_bits = load(b.hmask);
    const __m256i four = _mm256_set1_epi8(4);
    for (int c = 0; c < 8; ++c) {
      const __m256i bit = _mm256_set1_epi8(static_cast<char>(1 << c));
      const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(high_bits, bit), bit);
      out[c] = _mm256_or_si256(two_bit_fields(b.qs, c), _mm256_and_si256(set, four));
    }
  }

  // As kquant_detail::q3k_scale_bytes, one row per lane.
  static void pack_scales(const uint8_t* column, int32_t row_bytes, int valid, TileScratch& s,
                          int g) {
    // d is the last 2 bytes of the block: read the word that ends there.
    const __m256i tail = gather_words(column + offsetof(Block, d) - 2, row_bytes, valid);
    _mm256_store_ps(s.dx[g], high_halves_to_float(tail));
    const uint8_t* packed = column + offsetof(Block, scales);
    const __m256i w0 = gather_words(packed, row_bytes, valid);
    const __m256i w1 = gather_words(packed + 4, row_bytes, valid);
    const __m256i w2 = gather_words(packed + 8, row_bytes, valid);
    const __m256i low4 = _mm256_set1_epi32(0x0f0f0f0f);
    const __m256i top2 = _mm256_set1_epi32(0x03030303);
    const __m256i low[4] = {_mm256_and_si256(w0, low4), _mm256_and_si256(w1, low4),
                            _mm256_and_si256(_mm256_srli_epi32(w0, 4), low4),
                            _mm256_and_si256(_mm256_srli_epi32(w1, 4), low4)};
    for (int quad = 0; quad < 4; ++quad) {
      const __m256i top = _mm256_and_si256(_mm256_srli_epi32(w2, 2 * quad), top2);
      const __m256i bytes = _mm256_or_si256(low[quad], _mm256_slli_epi32(top, 4));
      __m256i scale[4];
      for (int b = 0; b < 4; ++b) {
        scale[b] = _mm256_sub_epi32(lane_byte(bytes, b), _mm256_set1_epi32(32));
        store(s.scales[g][4 * quad + b], word_pair(scale[b], scale[b]));
      }
      for (int p = 0; p < 2; ++p) {
        store(s.pair_factors[g][2 * quad + p], negated_pair(scale[2 * p], scale[2 * p + 1], 2));
      }
    }
  }
};

// value = d * (ls - 32) * kIq4nlValues[q] on 8 sub-blocks of 32: the signed levels
// (-127..113) as they are, multiplied with the sign trick; no bsums term.
struct KindIQ4_XS {
  using Block = BlockIQ4_XS;
  static constexpr int kSubBlocks = 8;
  static constexpr int kPairs = 0;
  static constexpr bool kSigned = true;
  static constexpr KTerm kTerm = KTerm::kScaled;
  // Pair sums of |level| * 127 reach 2 * 127 * 127: one step at a time.
  static constexpr int kWidenSteps = 1;

  // Sub-block c: 16 bytes of qs, low nibbles elements 0-15, high nibbles 16-31.
  static void unpack_levels(const Block& b, __m256i out[8]) {
    const __m256i table = _mm256_broadcastsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
    for (int c = 0; c < 8; ++c) {
      const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.qs + 16 * c));
      const __m256i both =
          _mm256_inserti128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1);
      out[c] = _mm256_shuffle_epi8(table, _mm256_and_si256(both, _mm256_set1_epi8(0x0f)));
    }
  }

  // As kquant_detail::iq4xs_scales, one row per lane.
  static void pack_scales(const uint8_t* column, int32_t row_bytes, int valid, TileScratch& s,
                          int g) {
    const __m256i head = gather_words(column, row_bytes, valid);  // d, scales_h
    const __m256i low_bits = gather_words(column + offsetof(Block, scales_l), row_bytes, valid);
    _mm256_store_ps(s.dx[g], low_halves_to_float(head));
    const __m256i high_bits = _mm256_srli_epi32(head, 16);
    for (int b = 0; b < 8; ++b) {
      const __m256i low = _mm256_and_si256(_mm256_srli_epi32(low_bits, 8 * (b / 2) + 4 * (b % 2)),
                                           _mm256_set1_epi32(0xf));
      const __m256i high =
          _mm256_and_si256(_mm256_srli_epi32(high_bits, 2 * b), _mm256_set1_epi32(3));
      const __m256i scale =
          _mm256_sub_epi32(_mm256_or_si256(low, _mm256_slli_epi32(high, 4)), _mm256_set1_epi32(32));
      store(s.scales[g][b], word_pair(scale, scale));
    }
  }
};

}  // namespace
}  // namespace kquant_gemm

using kquant_gemm::gemm;

LOCARA_DEFINE_GEMM_TILE(gemm_tile_q2_k, gemm<kquant_gemm::KindQ2_K>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_q3_k, gemm<kquant_gemm::KindQ3_K>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_iq4_xs, gemm<kquant_gemm::KindIQ4_XS>)

}  // namespace locara::ops::avx2
