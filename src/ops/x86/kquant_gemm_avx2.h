// Internal to the AVX2 K-format gemm tiles (kquant_gemm_avx2.cpp,
// kquant_gemm_low_avx2.cpp): the packed tile, its register block and the loop over
// super-blocks, written once for every format (a "kind", which unpacks its blocks), for
// CPUs without VNNI. Only *_avx2.cpp files may include this header.
//
// As the AVX-512 tiles (kquant_gemm_avx512.h), with 8-row groups: for each super-block
// the tile's rows are unpacked ONCE into 8-bit levels, interleaved (64 steps of 32 bytes,
// step k holding elements 4k..4k+3 of 8 rows, one row per 32-bit lane). A register block
// of 8 rows x 6 tokens runs vpmaddubsw against 4 broadcast activation bytes and adds the
// 16-bit pair sums for as many steps as cannot overflow (kWidenSteps: a whole 32-element
// Q4_K sub-block, 4 steps of Q5_K, 2 of Q6_K), then vpmaddwd with the row's scale pairs
// widens and scales them in one instruction. Each (row, token) lane gets exactly vec_dot's
// integer sums and float terms (kquant_kernels.h), hence its bits.
//
// A kind K provides: Block; kSubBlocks (8 or 16), kPairs (bsum pairs, <= 8), kWidenSteps,
// kSigned (levels are signed bytes, multiplied with the sign trick) and kTerm;
// unpack_levels(block, out[8]), the 8 x 32 levels of one row in element order;
// pack_scales(column, row_bytes, valid, s, g), an 8-row group's scales, pair factors, dx
// and dmin (rows past `valid` zero).
#pragma once

#include <immintrin.h>

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ops/quant_blocks_k.h"
#include "ops/tile_loop.h"
#include "ops/type_traits.h"
#include "ops/x86/kquant_common.h"
#include "ops/x86/simd_avx2.h"

namespace locara::ops::avx2::kquant_gemm {

using kquant_detail::KTerm;
using tiling::GemmOperands;

constexpr int kGroupRows = 8;  // rows per packed group: the lanes of one vector
constexpr int kTileRows = 64;  // matmul's tiles are 64 x 64
constexpr int kTileGroups = kTileRows / kGroupRows;
constexpr int kTileTokens = 64;
constexpr int kSteps = kSuperBlockSize / 4;  // 4-byte steps per super-block
constexpr int kMicroTokens = 6;              // register block: 8 rows x 6 tokens

// Not thread-safe: one per thread (tiling::thread_scratch).
struct TileScratch {
  alignas(32) uint8_t q[kTileGroups][kSteps][32];
  // Per sub-block: each row's scale in both 16-bit halves of its lane.
  alignas(32) int32_t scales[kTileGroups][16][kGroupRows];
  // As in the AVX-512 tiles, e.g. Q4_K (min 2k, min 2k+1), Q6_K (-32 * scale 2k,
  // -32 * scale 2k+1).
  alignas(32) int32_t pair_factors[kTileGroups][8][kGroupRows];
  alignas(32) float dx[kTileGroups][kGroupRows];
  alignas(32) float dmin[kTileGroups][kGroupRows];
  alignas(32) int8_t act[kTileTokens][kSuperBlockSize];
  alignas(32) int32_t act_pairs[kTileTokens][8];
  alignas(32) float dy[kTileTokens];
  alignas(32) float acc[kTileTokens][kTileRows];
};

inline __m256i load(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// Byte b (0-3) of each lane, zero- / sign-extended.
inline __m256i lane_byte(__m256i v, int b) {
  return _mm256_and_si256(_mm256_srli_epi32(v, 8 * b), _mm256_set1_epi32(0xff));
}
inline __m256i lane_signed_byte(__m256i v, int b) {
  return _mm256_srai_epi32(_mm256_slli_epi32(v, 24 - 8 * b), 24);
}
// Two 16-bit values (low bits of `first` and `second`) per lane.
inline __m256i word_pair(__m256i first, __m256i second) {
  return _mm256_or_si256(_mm256_and_si256(first, _mm256_set1_epi32(0xffff)),
                         _mm256_slli_epi32(second, 16));
}

// A token's bsum pairs for sub-blocks of 32 (Q4_K: the sums of sub-blocks 2k and 2k + 1,
// k < 4) or of 16 (Q6_K: bsums 2k and 2k + 1, k < 8), as 16-bit halves.
template <int kSubBlocks>
inline void bsum_pairs(const BlockQ8_K& y, int32_t pairs[8]) {
  if constexpr (kSubBlocks == 8) {
    const __m256i sums = _mm256_madd_epi16(load(y.bsums), _mm256_set1_epi16(1));
    const __m128i words =
        _mm_packs_epi32(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(pairs), words);
  } else {
    std::memcpy(pairs, y.bsums, sizeof(y.bsums));
  }
}

// A super-block's share, added to total lane by lane, in the order of the scalar terms
// of kquant_common.h.
template <KTerm kTerm>
inline __m256 add_term(__m256 total, __m256i isum, __m256i msum, __m256 dx, __m256 dmin,
                       __m256 dy) {
  const __m256 levels = _mm256_cvtepi32_ps(isum);
  if constexpr (kTerm == KTerm::kQ2K) {
    const __m256 t =
        _mm256_sub_ps(_mm256_mul_ps(_mm256_mul_ps(dy, dx), levels),
                      _mm256_mul_ps(_mm256_mul_ps(dy, dmin), _mm256_cvtepi32_ps(msum)));
    return _mm256_add_ps(total, t);
  } else if constexpr (kTerm == KTerm::kScaledWithMin) {
    const __m256 t = _mm256_fnmadd_ps(dmin, _mm256_cvtepi32_ps(msum), _mm256_mul_ps(dx, levels));
    return _mm256_fmadd_ps(t, dy, total);
  } else {
    return _mm256_fmadd_ps(_mm256_mul_ps(dx, levels), dy, total);
  }
}

// Unpacks super-block sb of a group of 8 rows (rows past `valid` are zero).
template <class K>
void pack_group(const uint8_t* rows, size_t row_bytes, int valid, int64_t sb, TileScratch& s,
                int g) {
  using Block = typename K::Block;
  const uint8_t* column = rows + sb * sizeof(Block);
  // levels[r][c]: elements 32c..32c+31 of row r.
  __m256i levels[kGroupRows][8];
  for (int r = 0; r < kGroupRows; ++r) {
    if (r < valid) {
      K::unpack_levels(*reinterpret_cast<const Block*>(column + r * row_bytes), levels[r]);
    } else {
      for (int c = 0; c < 8; ++c) levels[r][c] = _mm256_setzero_si256();
    }
  }
  for (int c = 0; c < 8; ++c) {
    __m256i part[kGroupRows];
    for (int r = 0; r < kGroupRows; ++r) part[r] = levels[r][c];
    transpose_8x8(part, s.q[g] + 8 * c);
  }
  K::pack_scales(column, static_cast<int32_t>(row_bytes), valid < kGroupRows ? valid : kGroupRows,
                 s, g);
}

// The register block: 8 rows (group g) x T tokens over one super-block, into s.acc.
template <class K, int T>
void micro_kernel(TileScratch& s, int g, int first_token) {
  constexpr int kSubSteps = kSteps / K::kSubBlocks;
  __m256i isum[T];
  for (int t = 0; t < T; ++t) isum[t] = _mm256_setzero_si256();
  for (int j = 0; j < K::kSubBlocks; ++j) {
    const __m256i scale = _mm256_load_si256(reinterpret_cast<const __m256i*>(s.scales[g][j]));
    for (int k0 = 0; k0 < kSubSteps; k0 += K::kWidenSteps) {
      __m256i pairs[T];
      for (int t = 0; t < T; ++t) pairs[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
      for (int k = k0; k < k0 + K::kWidenSteps; ++k) {
        const int step = j * kSubSteps + k;
        const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(s.q[g][step]));
        // Signed levels: |w| times a with w's sign (a never holds -128).
        const __m256i w_abs = K::kSigned ? _mm256_abs_epi8(w) : w;
        for (int t = 0; t < T; ++t) {
          __m256i a = _mm256_set1_epi32(load_i32(s.act[first_token + t] + 4 * step));
          if constexpr (K::kSigned) a = _mm256_sign_epi8(a, w);
          pairs[t] = _mm256_add_epi16(pairs[t], _mm256_maddubs_epi16(w_abs, a));
        }
      }
      for (int t = 0; t < T; ++t) {
        isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(pairs[t], scale));
      }
    }
  }
  const __m256 dx = _mm256_load_ps(s.dx[g]);
  for (int t = 0; t < T; ++t) {
    const int token = first_token + t;
    const __m256 dy = _mm256_set1_ps(s.dy[token]);
    float* lanes = s.acc[token] + g * kGroupRows;
    // The bsums term: minimums into msum, offsets into the level sum.
    __m256i sum = isum[t];
    __m256i msum = _mm256_setzero_si256();
    for (int p = 0; p < K::kPairs; ++p) {
      const __m256i factors =
          _mm256_load_si256(reinterpret_cast<const __m256i*>(s.pair_factors[g][p]));
      __m256i& into = K::kTerm == KTerm::kScaled ? sum : msum;
      into = _mm256_add_epi32(into,
                              _mm256_madd_epi16(factors, _mm256_set1_epi32(s.act_pairs[token][p])));
    }
    const __m256 dmin =
        K::kTerm == KTerm::kScaled ? _mm256_setzero_ps() : _mm256_load_ps(s.dmin[g]);
    _mm256_store_ps(lanes, add_term<K::kTerm>(_mm256_load_ps(lanes), sum, msum, dx, dmin, dy));
  }
}

// One part of at most kTileRows x kTileTokens.
template <class K>
void tile(const GemmOperands& m) {
  // Rows of a group are gathered with 32-bit offsets.
  assert(m.weight_row_bytes * (kGroupRows - 1) < (size_t{1} << 31));
  TileScratch& s = tiling::thread_scratch<TileScratch>();
  const uint8_t* weights = m.weights;
  const size_t w_row_bytes = m.weight_row_bytes;
  const int n_rows = static_cast<int>(m.n_rows);
  const int n_tokens = static_cast<int>(m.n_tokens);
  const int64_t n = m.n;
  const int n_groups = (n_rows + kGroupRows - 1) / kGroupRows;
  for (int t = 0; t < n_tokens; ++t) std::memset(s.acc[t], 0, sizeof(s.acc[t]));
  for (int64_t sb = 0; sb < n / kSuperBlockSize; ++sb) {
    for (int g = 0; g < n_groups; ++g) {
      pack_group<K>(weights + g * kGroupRows * w_row_bytes, w_row_bytes, n_rows - g * kGroupRows,
                    sb, s, g);
    }
    for (int t = 0; t < n_tokens; ++t) {
      const auto& y =
          reinterpret_cast<const BlockQ8_K*>(m.activations + t * m.activation_row_bytes)[sb];
      std::memcpy(s.act[t], y.qs, sizeof(y.qs));
      bsum_pairs<K::kSubBlocks>(y, s.act_pairs[t]);
      s.dy[t] = y.d;
    }
    for (int g = 0; g < n_groups; ++g) {
      for (int t = 0; t < n_tokens; t += kMicroTokens) {
        tiling::with_constant<kMicroTokens>(
            n_tokens - t < kMicroTokens ? n_tokens - t : kMicroTokens,
            [&](auto count) { micro_kernel<K, decltype(count)::value>(s, g, t); });
      }
    }
  }
  tiling::store_sums(s.acc, m);
}

// The GemmTileFn of kind K: parts of at most kTileRows x kTileTokens.
template <class K>
constexpr GemmTileFn gemm = &tiling::gemm_in_tiles<kTileRows, kTileTokens, tile<K>>;

}  // namespace locara::ops::avx2::kquant_gemm
