// AVX2 gemm tiles of the 32-element block formats (prompt processing, compute bound).
// Per pass over a chunk of the row length, the tile's weight rows are unpacked ONCE into
// a row-interleaved 8-bit layout in per-thread scratch: for each block, 8 steps of 32
// bytes, step k holding bytes 4k..4k+3 of 8 rows (one row per 32-bit lane). Then one
// vpmaddubsw multiplies 8 rows by 4 activation bytes broadcast from the Q8 block as it
// lies in memory, and a register block of 2 x 8 rows x 4 tokens reuses each unpacked
// vector for 4 tokens. Lanes are rows, so each (row, token) sum is a lane that receives
// the reference's float term of every block in block order: the results are the
// reference's bits, the same as vec_dot's.
#include <immintrin.h>

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ops/tile_loop.h"
#include "ops/x86/quant_kinds_avx2.h"
#include "ops/x86/simd_avx2.h"
#include "ops/x86/x86_kernels.h"

namespace locara::ops::avx2 {
namespace {

using tiling::GemmOperands;

// Rows per packed group: the 8 lanes of one vector.
constexpr int kGroupRows = 8;
// Rows and tokens per pass (matmul's tiles are 64 x 64).
constexpr int kTileRows = 64;
constexpr int kTileGroups = kTileRows / kGroupRows;
constexpr int kTileTokens = 64;
// Blocks of the row length per pass: the packed weights of a pass (64 KiB) stay in L2.
constexpr int kChunkBlocks = 32;
// Tokens per register block of 2 groups: 8 accumulators (plus 8 of 16-bit sums) of 16.
constexpr int kMicroTokens = 4;
// 4-byte steps per block.
constexpr int kSteps = kQuantBlockSize / 4;

// Not thread-safe: one per thread (scratch()).
struct TileScratch {
  alignas(32) uint8_t q[kTileGroups][kChunkBlocks][kSteps][32];
  alignas(32) float dx[kTileGroups][kChunkBlocks][kGroupRows];
  alignas(32) float mx[kTileGroups][kChunkBlocks][kGroupRows];
  alignas(32) float dy[kTileTokens][kChunkBlocks];
  alignas(32) float sy[kTileTokens][kChunkBlocks];
  alignas(32) int32_t correction[kTileTokens][kChunkBlocks];  // -kOffset * sum(y)
  alignas(32) float acc[kTileTokens][kTileRows];
};

// Unpacks blocks [first_block, first_block + n_blocks) of 8 rows (rows past valid_rows
// are zero) into the interleaved layout, with their scales as floats.
template <class K>
void pack_group(const uint8_t* rows, size_t row_bytes, int valid_rows, int64_t first_block,
                int n_blocks, uint8_t q[][kSteps][32], float dx[][kGroupRows],
                float mx[][kGroupRows]) {
  using Block = typename K::Block;
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i valid = _mm256_cmpgt_epi32(_mm256_set1_epi32(valid_rows), lanes);
  const __m256i row_offsets =
      _mm256_mullo_epi32(lanes, _mm256_set1_epi32(static_cast<int32_t>(row_bytes)));
  for (int b = 0; b < n_blocks; ++b) {
    const uint8_t* column = rows + (first_block + b) * sizeof(Block);
    __m256i unpacked[kGroupRows];
    for (int r = 0; r < kGroupRows; ++r) {
      unpacked[r] = r < valid_rows
                        ? K::unpack(*reinterpret_cast<const Block*>(column + r * row_bytes))
                        : _mm256_setzero_si256();
    }
    transpose_8x8(unpacked, q[b]);
    const __m256i words = _mm256_mask_i32gather_epi32(
        _mm256_setzero_si256(), reinterpret_cast<const int*>(column), row_offsets, valid, 1);
    _mm256_store_ps(dx[b], low_halves_to_float(words));
    if constexpr (K::kHasMin) _mm256_store_ps(mx[b], high_halves_to_float(words));
  }
}

// Sum of the 32 signed bytes of a Q8 block (|sum| <= 4096).
inline int32_t block_sum(const int8_t* qs) {
  const __m256i biased = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs)),
                                          _mm256_set1_epi8(static_cast<char>(0x80)));
  const __m256i sums = _mm256_sad_epu8(biased, _mm256_setzero_si256());
  const __m128i half =
      _mm_add_epi64(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
  return static_cast<int32_t>(
             _mm_cvtsi128_si32(_mm_add_epi64(half, _mm_unpackhi_epi64(half, half)))) -
         32 * 128;
}

// Per token and block of the chunk: d (and s) as floats, and the offset correction.
template <class K>
void prepare_activations(const uint8_t* activations, size_t row_bytes, int n_tokens,
                         int64_t first_block, int n_blocks, TileScratch& s) {
  using ActBlock = typename K::ActBlock;
  for (int t = 0; t < n_tokens; ++t) {
    const auto* y = reinterpret_cast<const ActBlock*>(activations + t * row_bytes) + first_block;
    for (int b = 0; b < n_blocks; b += 8) {
      const int count = n_blocks - b < 8 ? n_blocks - b : 8;
      const __m256i words = gather_words(y + b, sizeof(ActBlock), count);
      _mm256_store_ps(&s.dy[t][b], low_halves_to_float(words));
      if constexpr (K::kHasMin) _mm256_store_ps(&s.sy[t][b], high_halves_to_float(words));
    }
    if constexpr (K::kOffset != 0) {
      for (int b = 0; b < n_blocks; ++b) s.correction[t][b] = -K::kOffset * block_sum(y[b].qs);
    }
  }
}

// T tokens x 2 groups (16 rows) over the chunk's blocks, into s.acc.
template <class K, int T>
void micro_kernel(TileScratch& s, int group, int first_token, int n_blocks,
                  const typename K::ActBlock* const* y) {
  const int t0 = first_token;
  const __m256i ones = _mm256_set1_epi16(1);
  for (int b = 0; b < n_blocks; ++b) {
    __m256i sum0[T];
    __m256i sum1[T];
    for (int j = 0; j < T; ++j) {
      sum0[j] =
          K::kOffset != 0 ? _mm256_set1_epi32(s.correction[t0 + j][b]) : _mm256_setzero_si256();
      sum1[j] = sum0[j];
    }
    // 16-bit pair sums add up for kInt16Steps steps, then widen (see quant_kinds_avx2.h).
#pragma GCC unroll 8
    for (int first = 0; first < kSteps; first += K::kInt16Steps) {
      __m256i pairs0[T];
      __m256i pairs1[T];
      for (int j = 0; j < T; ++j) pairs0[j] = pairs1[j] = _mm256_setzero_si256();
#pragma GCC unroll 8
      for (int k = first; k < first + K::kInt16Steps; ++k) {
        const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(s.q[group][b][k]));
        const __m256i w1 =
            _mm256_load_si256(reinterpret_cast<const __m256i*>(s.q[group + 1][b][k]));
#pragma GCC unroll 8
        for (int j = 0; j < T; ++j) {
          const __m256i a = _mm256_set1_epi32(load_i32(y[j][b].qs + 4 * k));
          pairs0[j] = _mm256_add_epi16(pairs0[j], pair_sums<K>(w0, a));
          pairs1[j] = _mm256_add_epi16(pairs1[j], pair_sums<K>(w1, a));
        }
      }
      for (int j = 0; j < T; ++j) {
        sum0[j] = _mm256_add_epi32(sum0[j], _mm256_madd_epi16(pairs0[j], ones));
        sum1[j] = _mm256_add_epi32(sum1[j], _mm256_madd_epi16(pairs1[j], ones));
      }
    }
    const __m256 dx0 = _mm256_load_ps(s.dx[group][b]);
    const __m256 dx1 = _mm256_load_ps(s.dx[group + 1][b]);
    __m256 mx0 = _mm256_setzero_ps();
    __m256 mx1 = _mm256_setzero_ps();
    if constexpr (K::kHasMin) {
      mx0 = _mm256_load_ps(s.mx[group][b]);
      mx1 = _mm256_load_ps(s.mx[group + 1][b]);
    }
    for (int j = 0; j < T; ++j) {
      const __m256 dy = _mm256_set1_ps(s.dy[t0 + j][b]);
      const __m256 sy = K::kHasMin ? _mm256_set1_ps(s.sy[t0 + j][b]) : _mm256_setzero_ps();
      float* sums = s.acc[t0 + j] + group * kGroupRows;
      const __m256 term0 = K::combine(_mm256_cvtepi32_ps(sum0[j]), dx0, mx0, dy, sy);
      const __m256 term1 = K::combine(_mm256_cvtepi32_ps(sum1[j]), dx1, mx1, dy, sy);
      _mm256_store_ps(sums, _mm256_add_ps(_mm256_load_ps(sums), term0));
      _mm256_store_ps(sums + kGroupRows, _mm256_add_ps(_mm256_load_ps(sums + kGroupRows), term1));
    }
  }
}

// One part of at most kTileRows x kTileTokens.
template <class K>
void tile(const GemmOperands& m) {
  using ActBlock = typename K::ActBlock;
  // Rows of a group are gathered with 32-bit offsets.
  assert(m.weight_row_bytes * (kGroupRows - 1) < (size_t{1} << 31));
  TileScratch& s = tiling::thread_scratch<TileScratch>();
  const int n_rows = static_cast<int>(m.n_rows);
  const int n_tokens = static_cast<int>(m.n_tokens);
  const int64_t n_blocks = m.n / kQuantBlockSize;
  // Groups come in pairs (the register block); a missing one is packed as zeros.
  const int n_groups = (n_rows + 2 * kGroupRows - 1) / (2 * kGroupRows) * 2;
  for (int t = 0; t < n_tokens; ++t) {
    std::memset(s.acc[t], 0, sizeof(float) * kGroupRows * n_groups);
  }
  for (int64_t first_block = 0; first_block < n_blocks; first_block += kChunkBlocks) {
    const int chunk = static_cast<int>(
        n_blocks - first_block < kChunkBlocks ? n_blocks - first_block : kChunkBlocks);
    for (int g = 0; g < n_groups; ++g) {
      const int valid = n_rows - g * kGroupRows;  // <= 0: a padding group
      const uint8_t* rows = valid > 0 ? m.weights + g * kGroupRows * m.weight_row_bytes : m.weights;
      pack_group<K>(rows, m.weight_row_bytes, valid < 0 ? 0 : valid, first_block, chunk, s.q[g],
                    s.dx[g], s.mx[g]);
    }
    prepare_activations<K>(m.activations, m.activation_row_bytes, n_tokens, first_block, chunk, s);
    for (int t = 0; t < n_tokens; t += kMicroTokens) {
      const int tokens = n_tokens - t < kMicroTokens ? n_tokens - t : kMicroTokens;
      const ActBlock* y[kMicroTokens];
      for (int j = 0; j < tokens; ++j) {
        y[j] = reinterpret_cast<const ActBlock*>(m.activations + (t + j) * m.activation_row_bytes) +
               first_block;
      }
      tiling::with_constant<kMicroTokens>(tokens, [&](auto count) {
        for (int g = 0; g < n_groups; g += 2) {
          micro_kernel<K, decltype(count)::value>(s, g, t, chunk, y);
        }
      });
    }
  }
  tiling::store_sums(s.acc, m);
}

// The GemmTileFn of kind K: parts of at most kTileRows x kTileTokens.
template <class K>
constexpr GemmTileFn gemm = &tiling::gemm_in_tiles<kTileRows, kTileTokens, tile<K>>;

}  // namespace

LOCARA_DEFINE_GEMM_TILE(gemm_tile_q4_0, gemm<KindQ4_0>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_q4_1, gemm<KindQ4_1>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_q5_0, gemm<KindQ5_0>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_q5_1, gemm<KindQ5_1>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_q8_0, gemm<KindQ8_0>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_iq4_nl, gemm<KindIQ4_NL>)

}  // namespace locara::ops::avx2
