// Internal to the AVX-512 K-format gemm tiles (kquant_gemm_avx512.cpp,
// kquant_gemm_low_avx512.cpp): the packed tile, its register block and the loop over
// super-blocks, written once for every format (a "kind", which unpacks its blocks).
// Only *_avx512.cpp files may include this header.
//
// For each super-block of the row length, the tile's weight rows are unpacked ONCE into
// unsigned 8-bit levels in a row-interleaved layout (64 steps of 64 bytes, step k holding
// elements 4k..4k+3 of 16 rows, one row per 32-bit lane; the packed bytes of 16 rows are
// transposed first, then split into levels), with each row's scales spread across lanes.
// A register block of 2 x 16 rows x 6 tokens then runs vpdpbusd against 4 activation
// bytes broadcast from memory; after each sub-block the 32-bit sums are multiplied by the
// rows' scales (vpmulld) into the super-block sum, and the minimums or level offsets come
// in through vpdpwssd with Q8_K's bsums. Lanes are rows: each (row, token) pair gets
// exactly the integer sums and float terms of vec_dot (kquant_kernels.h), so the results
// are vec_dot's bits.
//
// A kind K provides: Block; kSubBlocks (8 or 16) and kPairs (bsum pairs, <= 8); kTerm;
// pack_levels(column, row_bytes, valid, q) and pack_scales(column, row_bytes, valid, s, g),
// which fill a 16-row group's levels, scales, pair factors, dx and dmin for one
// super-block (rows past `valid` zero).
#pragma once

// clang-format off
#include "ops/x86/simd_avx512.h"  // first: it includes <immintrin.h>, see there
// clang-format on

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ops/quant_blocks_k.h"
#include "ops/tile_loop.h"
#include "ops/type_traits.h"
#include "ops/x86/kquant_common.h"

namespace locara::ops::avx512::kquant_gemm {

using kquant_detail::KTerm;
using tiling::GemmOperands;

constexpr int kGroupRows = 16;  // rows per packed group: the lanes of one vector
constexpr int kTileRows = 64;  // matmul's tiles are 64 x 512
constexpr int kTileGroups = kTileRows / kGroupRows;
// Tokens per call: each super-block of the tile's rows is unpacked once for all of them.
constexpr int kTileTokens = 512;
constexpr int kSteps = kSuperBlockSize / 4;  // 4-byte steps per super-block
constexpr int kMicroGroups = 2;              // register block: 2 groups x 6 tokens
constexpr int kMicroTokens = 6;

// Not thread-safe: one per thread (tiling::thread_scratch).
struct TileScratch {
  // The super-block's levels, interleaved.
  alignas(64) uint8_t q[kTileGroups][kSteps][64];
  // Per sub-block (8 of 32 elements, or 16 of 16): each row's scale.
  alignas(64) int32_t scales[kTileGroups][16][kGroupRows];
  // Pairs of 16-bit factors of the bsums term, e.g. Q4_K: (min 2k, min 2k+1), Q6_K:
  // (-32 * scale 2k, -32 * scale 2k+1).
  alignas(64) int32_t pair_factors[kTileGroups][8][kGroupRows];
  alignas(64) float dx[kTileGroups][kGroupRows];
  alignas(64) float dmin[kTileGroups][kGroupRows];
  // Each token's Q8_K levels (in place), dy and bsum pairs: for sub-blocks of 32, (sum
  // of sub-block 2k, sum of sub-block 2k+1), k < 4; of 16, (bsum 2k, bsum 2k+1), k < 8.
  const int8_t* act[kTileTokens];
  alignas(64) int32_t act_pairs[kTileTokens][8];
  alignas(64) float dy[kTileTokens];
  alignas(64) float acc[kTileTokens][kTileRows];
};

inline __m512i load512(const void* p) {
  return _mm512_loadu_si512(p);
}
inline __m256i load256(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// rows[r] holds 16 32-bit words of row r; sets out[k] = word k of every row (lane r).
// Only in-lane unpacks and 128-bit shuffles: vpermt2d would compete with vpdpbusd.
inline void transpose_16x16(const __m512i rows[16], __m512i out[16]) {
  __m512i t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(rows[2 * i], rows[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(rows[2 * i], rows[2 * i + 1]);
  }
  // u[4i + c], 128-bit lane L: word 4L + c of rows 4i..4i+3.
  __m512i u[16];
  for (int i = 0; i < 4; ++i) {
    u[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int c = 0; c < 4; ++c) {
    const __m512i even_a = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x88);  // lanes 0, 2
    const __m512i even_b = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x88);
    const __m512i odd_a = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xdd);  // lanes 1, 3
    const __m512i odd_b = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xdd);
    out[c] = _mm512_shuffle_i32x4(even_a, even_b, 0x88);
    out[8 + c] = _mm512_shuffle_i32x4(even_a, even_b, 0xdd);
    out[4 + c] = _mm512_shuffle_i32x4(odd_a, odd_b, 0x88);
    out[12 + c] = _mm512_shuffle_i32x4(odd_a, odd_b, 0xdd);
  }
}

// Words [16 * part, 16 * part + 16) of `bytes` bytes at `offset` in each of the group's
// rows (zero past `valid`), transposed: out[k] = word 16 * part + k of every row.
inline void transpose_rows(const uint8_t* column, size_t row_bytes, int valid, size_t offset,
                           int part, __m512i out[16]) {
  __m512i rows[16];
  for (int r = 0; r < 16; ++r) {
    rows[r] =
        r < valid ? load512(column + r * row_bytes + offset + 64 * part) : _mm512_setzero_si512();
  }
  transpose_16x16(rows, out);
}

// The 16-row group's 32-bit words at `offset` within super-block `sb` (zero past
// valid_rows).
inline __m512i gather_group(const uint8_t* rows, size_t row_bytes, int valid_rows, size_t offset) {
  const __m512i index =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(static_cast<int32_t>(row_bytes)));
  const __mmask16 valid =
      valid_rows >= kGroupRows ? __mmask16(0xffff) : __mmask16((1u << valid_rows) - 1);
  return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), valid, index, rows + offset, 1);
}

// Byte b (0-3) of each 32-bit lane, zero-extended.
inline __m512i lane_byte(__m512i v, int b) {
  return _mm512_and_si512(_mm512_srli_epi32(v, 8 * b), _mm512_set1_epi32(0xff));
}
// Byte b (0-3) of each 32-bit lane, sign-extended.
inline __m512i lane_signed_byte(__m512i v, int b) {
  return _mm512_srai_epi32(_mm512_slli_epi32(v, 24 - 8 * b), 24);
}
// Bytes b and b+1 of each lane as the two 16-bit halves, zero-extended.
inline __m512i lane_byte_pair(__m512i v, int b) {
  return _mm512_or_si512(lane_byte(v, b), _mm512_slli_epi32(lane_byte(v, b + 1), 16));
}

// Each 16-bit word shifted left by `by` (right by -by); callers mask out the bits that
// cross from one byte into the other.
inline __m512i shift_bits(__m512i v, int by) {
  if (by >= 0) return _mm512_slli_epi16(v, static_cast<unsigned>(by));
  return _mm512_srli_epi16(v, static_cast<unsigned>(-by));
}

// A token's bsum pairs for sub-blocks of 32 (Q4_K: the sums of sub-blocks 2k and 2k + 1,
// k < 4) or of 16 (Q6_K: bsums 2k and 2k + 1, k < 8), as 16-bit halves.
template <int kSubBlocks>
inline void bsum_pairs(const BlockQ8_K& y, int32_t pairs[8]) {
  if constexpr (kSubBlocks == 8) {
    const __m256i sums = _mm256_madd_epi16(load256(y.bsums), _mm256_set1_epi16(1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(pairs), _mm256_cvtepi32_epi16(sums));
  } else {
    std::memcpy(pairs, y.bsums, sizeof(y.bsums));
  }
}

// A super-block's share, added to total lane by lane, in the order of the scalar terms
// of kquant_common.h.
template <KTerm kTerm>
inline __m512 add_term(__m512 total, __m512i isum, __m512i msum, __m512 dx, __m512 dmin,
                       __m512 dy) {
  const __m512 levels = _mm512_cvtepi32_ps(isum);
  if constexpr (kTerm == KTerm::kQ2K) {
    const __m512 t =
        _mm512_sub_ps(_mm512_mul_ps(_mm512_mul_ps(dy, dx), levels),
                      _mm512_mul_ps(_mm512_mul_ps(dy, dmin), _mm512_cvtepi32_ps(msum)));
    return _mm512_add_ps(total, t);
  } else if constexpr (kTerm == KTerm::kScaledWithMin) {
    const __m512 t = _mm512_fnmadd_ps(dmin, _mm512_cvtepi32_ps(msum), _mm512_mul_ps(dx, levels));
    return _mm512_fmadd_ps(t, dy, total);
  } else {
    return _mm512_fmadd_ps(_mm512_mul_ps(dx, levels), dy, total);
  }
}

// Unpacks super-block sb of a group of 16 rows (rows past `valid` are zero) into
// s.q[g], s.scales[g], s.pair_factors[g], s.dx[g] and s.dmin[g].
template <class K>
void pack_group(const uint8_t* rows, size_t row_bytes, int valid, int64_t sb, TileScratch& s,
                int g) {
  using Block = typename K::Block;
  const uint8_t* column = rows + sb * sizeof(Block);
  K::pack_levels(column, row_bytes, valid, s.q[g]);
  K::pack_scales(column, row_bytes, valid, s, g);
}

// The register block: G groups (16 G rows) x T tokens over one super-block, into s.acc.
template <class K, int G, int T>
void micro_kernel(TileScratch& s, int first_group, int first_token) {
  constexpr int kSubSteps = kSteps / K::kSubBlocks;
  const int8_t* act[T];
  for (int t = 0; t < T; ++t) act[t] = s.act[first_token + t];
  __m512i isum[G][T];
  for (int g = 0; g < G; ++g) {
    for (int t = 0; t < T; ++t) isum[g][t] = _mm512_setzero_si512();
  }
  for (int j = 0; j < K::kSubBlocks; ++j) {
    __m512i acc[G][T];
    for (int g = 0; g < G; ++g) {
      for (int t = 0; t < T; ++t) acc[g][t] = _mm512_setzero_si512();
    }
#pragma GCC unroll 8
    for (int k = 0; k < kSubSteps; ++k) {
      const int step = j * kSubSteps + k;
      __m512i w[G];
      for (int g = 0; g < G; ++g) w[g] = _mm512_load_si512(s.q[first_group + g][step]);
      for (int t = 0; t < T; ++t) {
        const __m512i a = _mm512_set1_epi32(load_i32(act[t] + 4 * step));
        for (int g = 0; g < G; ++g) acc[g][t] = _mm512_dpbusd_epi32(acc[g][t], w[g], a);
      }
    }
    for (int g = 0; g < G; ++g) {
      const __m512i scale = _mm512_load_si512(s.scales[first_group + g][j]);
      for (int t = 0; t < T; ++t) {
        isum[g][t] = _mm512_add_epi32(isum[g][t], _mm512_mullo_epi32(acc[g][t], scale));
      }
    }
  }
  for (int g = 0; g < G; ++g) {
    const int group = first_group + g;
    const __m512 dx = _mm512_load_ps(s.dx[group]);
    for (int t = 0; t < T; ++t) {
      const int token = first_token + t;
      const __m512 dy = _mm512_set1_ps(s.dy[token]);
      float* lanes = s.acc[token] + group * kGroupRows;
      // The bsums term: minimums into msum, offsets into the level sum.
      __m512i sum = isum[g][t];
      __m512i msum = _mm512_setzero_si512();
      for (int p = 0; p < K::kPairs; ++p) {
        __m512i& into = K::kTerm == KTerm::kScaled ? sum : msum;
        into = _mm512_dpwssd_epi32(into, _mm512_load_si512(s.pair_factors[group][p]),
                                   _mm512_set1_epi32(s.act_pairs[token][p]));
      }
      const __m512 dmin =
          K::kTerm == KTerm::kScaled ? _mm512_setzero_ps() : _mm512_load_ps(s.dmin[group]);
      _mm512_store_ps(lanes, add_term<K::kTerm>(_mm512_load_ps(lanes), sum, msum, dx, dmin, dy));
    }
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
  const int64_t n_super_blocks = n / kSuperBlockSize;
  // The tile's rows are too many streams for the hardware prefetchers: while one
  // super-block is multiplied, its successor's cache lines are fetched a few at a time
  // (a burst of them would stall on the miss buffers).
  constexpr int kLinesPerRow = (sizeof(typename K::Block) + 63) / 64 + 1;
  const int micro_calls = ((n_groups + 1) / 2) * ((n_tokens + kMicroTokens - 1) / kMicroTokens);
  const int lines_per_call = (n_rows * kLinesPerRow + micro_calls - 1) / micro_calls;
  for (int64_t sb = 0; sb < n_super_blocks; ++sb) {
    for (int g = 0; g < n_groups; ++g) {
      pack_group<K>(weights + g * kGroupRows * w_row_bytes, w_row_bytes, n_rows - g * kGroupRows,
                    sb, s, g);
    }
    for (int t = 0; t < n_tokens; ++t) {
      const auto& y =
          reinterpret_cast<const BlockQ8_K*>(m.activations + t * m.activation_row_bytes)[sb];
      s.act[t] = y.qs;
      bsum_pairs<K::kSubBlocks>(y, s.act_pairs[t]);
      s.dy[t] = y.d;
    }
    const char* next =
        reinterpret_cast<const char*>(weights + (sb + 1) * sizeof(typename K::Block));
    int line = sb + 1 < n_super_blocks ? 0 : n_rows * kLinesPerRow;  // none after the last
    for (int g = 0; g < n_groups; g += kMicroGroups) {
      for (int t = 0; t < n_tokens; t += kMicroTokens) {
        for (int end = line + lines_per_call; line < end && line < n_rows * kLinesPerRow; ++line) {
          _mm_prefetch(next + (line / kLinesPerRow) * w_row_bytes + 64 * (line % kLinesPerRow),
                       _MM_HINT_T0);
        }
        const int tokens = n_tokens - t < kMicroTokens ? n_tokens - t : kMicroTokens;
        tiling::with_constant<kMicroTokens>(tokens, [&](auto count) {
          constexpr int T = decltype(count)::value;
          if (n_groups - g >= 2) {
            micro_kernel<K, 2, T>(s, g, t);
          } else {
            micro_kernel<K, 1, T>(s, g, t);
          }
        });
      }
    }
  }
  tiling::store_sums(s.acc, m);
}

// The GemmTileFn of kind K: parts of at most kTileRows x kTileTokens.
template <class K>
constexpr GemmTileFn gemm = &tiling::gemm_in_tiles<kTileRows, kTileTokens, tile<K>>;

}  // namespace locara::ops::avx512::kquant_gemm
