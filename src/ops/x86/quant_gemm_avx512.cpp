// AVX-512 VNNI gemm tiles of the 32-element block formats (prompt processing, compute
// bound). Per pass over a chunk of the row length, the tile's 64 weight rows are unpacked
// ONCE into a row-interleaved 8-bit layout in per-thread scratch: for each block, 8 steps
// of 64 bytes, step k holding bytes 4k..4k+3 of 16 rows (one row per 32-bit lane). Then
// one vpdpbusd multiplies 16 rows by 4 broadcast activation bytes, and a register block
// of 64 rows x 3 tokens keeps 12 integer accumulators busy (4 weight loads and 3
// broadcasts per 12 vpdpbusd) beside its 12 float sums. Lanes are rows, so each (row, token) sum is
// a lane that receives the reference's float term of every block in block order: the results are
// the reference's bits, the same as vec_dot's.
// clang-format off
#include "ops/x86/simd_avx512.h"  // first: it includes <immintrin.h>, see there
// clang-format on

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ops/tile_loop.h"
#include "ops/x86/quant_kinds_avx512.h"
#include "ops/x86/x86_kernels.h"

namespace locara::ops::avx512 {
namespace {

using tiling::GemmOperands;

// Rows per packed group: the 16 lanes of one vector.
constexpr int kGroupRows = 16;
// Rows per call, and tokens per pass over a chunk's activations (their scales and sums).
constexpr int kTileRows = 64;
constexpr int kTileGroups = kTileRows / kGroupRows;
constexpr int kTileTokens = 64;
// Tokens per call (matmul's tiles are 64 x 512): each weight chunk is unpacked once for
// all of them.
constexpr int kCallTokens = 512;
// Blocks of the row length per pass: the packed weights of a pass (64 KiB) stay in L2.
constexpr int kChunkBlocks = 32;
// Tokens per register block, which spans all 4 groups: 12 integer accumulators and 12
// float sums of the 32 registers (4 tokens spill; 3 measured 3-7% faster than 6 tokens
// with the sums in memory).
constexpr int kMicroTokens = 3;
// 4-byte steps per block.
constexpr int kSteps = kQuantBlockSize / 4;

// Not thread-safe: one per thread (scratch()).
struct TileScratch {
  alignas(64) uint8_t q[kTileGroups][kChunkBlocks][kSteps][64];
  alignas(64) float dx[kTileGroups][kChunkBlocks][kGroupRows];
  alignas(64) float mx[kTileGroups][kChunkBlocks][kGroupRows];
  alignas(64) float dy[kTileTokens][kChunkBlocks];
  alignas(64) float sy[kTileTokens][kChunkBlocks];
  alignas(64) int32_t correction[kTileTokens][kChunkBlocks];  // -kOffset * sum(y)
  // The activation bytes of one register block's tokens, block-major, so that every
  // broadcast in the inner loop addresses [base + constant].
  alignas(64) int8_t act[kChunkBlocks][kMicroTokens][kQuantBlockSize];
  alignas(64) float acc[kCallTokens][kTileRows];
};

// 16 rows of 8 32-bit words -> 8 vectors, vector k holding word k of every row (lane =
// row): two 8x8 transposes, one per 256-bit half.
inline void transpose_16x8(const __m256i rows[16], uint8_t out[kSteps][64]) {
  __m512i z[8];
  for (int i = 0; i < 8; ++i) {
    z[i] = _mm512_inserti64x4(_mm512_castsi256_si512(rows[i]), rows[i + 8], 1);
  }
  __m512i t[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(z[2 * i], z[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(z[2 * i], z[2 * i + 1]);
  }
  // v[e] (rows 0-3 | 8-11) and v[4+e] (rows 4-7 | 12-15): word e of each chunk.
  __m512i v[8];
  for (int h = 0; h < 2; ++h) {
    v[4 * h + 0] = _mm512_unpacklo_epi64(t[4 * h + 0], t[4 * h + 2]);
    v[4 * h + 1] = _mm512_unpackhi_epi64(t[4 * h + 0], t[4 * h + 2]);
    v[4 * h + 2] = _mm512_unpacklo_epi64(t[4 * h + 1], t[4 * h + 3]);
    v[4 * h + 3] = _mm512_unpackhi_epi64(t[4 * h + 1], t[4 * h + 3]);
  }
  const __m512i first_words = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
  const __m512i last_words = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
  for (int e = 0; e < 4; ++e) {
    _mm512_store_si512(out[e], _mm512_permutex2var_epi64(v[e], first_words, v[4 + e]));
    _mm512_store_si512(out[4 + e], _mm512_permutex2var_epi64(v[e], last_words, v[4 + e]));
  }
}

// Unpacks blocks [first_block, first_block + n_blocks) of 16 rows (rows past valid_rows
// are zero) into the interleaved layout, with their scales as floats.
template <class K>
void pack_group(const uint8_t* rows, size_t row_bytes, int valid_rows, int64_t first_block,
                int n_blocks, uint8_t q[][kSteps][64], float dx[][kGroupRows],
                float mx[][kGroupRows]) {
  using Block = typename K::Block;
  const __mmask16 valid =
      valid_rows >= kGroupRows ? __mmask16(0xffff) : __mmask16((1u << valid_rows) - 1);
  const __m512i row_offsets =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(static_cast<int32_t>(row_bytes)));
  for (int b = 0; b < n_blocks; ++b) {
    const uint8_t* column = rows + (first_block + b) * sizeof(Block);
    __m256i unpacked[kGroupRows];
    for (int r = 0; r < kGroupRows; ++r) {
      unpacked[r] = r < valid_rows
                        ? K::unpack(*reinterpret_cast<const Block*>(column + r * row_bytes))
                        : _mm256_setzero_si256();
    }
    transpose_16x8(unpacked, q[b]);
    const __m512i words =
        _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), valid, row_offsets, column, 1);
    _mm512_store_ps(dx[b], low_halves_to_float(words));
    if constexpr (K::kHasMin) _mm512_store_ps(mx[b], high_halves_to_float(words));
  }
}

// Integer sums of `count` <= 16 consecutive Q8 blocks (lanes past count are zero).
template <class ActBlock>
inline __m512i block_sums(const ActBlock* y, int count) {
  const auto load = [&](int i) {
    return i < count ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].qs))
                     : _mm256_setzero_si256();
  };
  const __m512i ones = _mm512_set1_epi8(1);
  __m512i pairs[8];
  for (int i = 0; i < 8; ++i) {
    const __m512i both =
        _mm512_inserti64x4(_mm512_castsi256_si512(load(2 * i)), load(2 * i + 1), 1);
    pairs[i] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, both);
  }
  return reduce_block_pairs(pairs);
}

// Per token and block of the chunk: d (and s) as floats, and the offset correction.
template <class K>
void prepare_activations(const uint8_t* activations, size_t row_bytes, int n_tokens,
                         int64_t first_block, int n_blocks, TileScratch& s) {
  using ActBlock = typename K::ActBlock;
  for (int t = 0; t < n_tokens; ++t) {
    const auto* y = reinterpret_cast<const ActBlock*>(activations + t * row_bytes) + first_block;
    for (int b = 0; b < n_blocks; b += 16) {
      const int count = n_blocks - b < 16 ? n_blocks - b : 16;
      __m512 dy;
      __m512 sy = _mm512_setzero_ps();
      if (count == 16) {
        block_scales<ActBlock, K::kHasMin>(y + b, &dy, &sy);
      } else {
        const __m512i words = gather_words(y + b, sizeof(ActBlock), count);
        dy = low_halves_to_float(words);
        sy = high_halves_to_float(words);
      }
      _mm512_store_ps(&s.dy[t][b], dy);
      if constexpr (K::kHasMin) _mm512_store_ps(&s.sy[t][b], sy);
      if constexpr (K::kOffset != 0) {
        _mm512_store_si512(&s.correction[t][b], _mm512_mullo_epi32(block_sums(y + b, count),
                                                                   _mm512_set1_epi32(-K::kOffset)));
      }
    }
  }
}

// T tokens x the tile's 4 groups (64 rows) over the chunk's blocks, into s.acc: each
// step loads 4 weight vectors and broadcasts T activation words into 4 * T vpdpbusd.
// The float sums stay in registers for the whole chunk (4 * T of them, beside the 4 * T
// integer accumulators): adding each block's term in memory instead cost a load, a store
// and address arithmetic per accumulator and block.
template <class K, int T>
void micro_kernel(TileScratch& s, int first_token, int n_blocks, float (*acc_rows)[kTileRows]) {
  __m512 sums[kTileGroups][T];
  for (int j = 0; j < T; ++j) {
    for (int g = 0; g < kTileGroups; ++g) {
      sums[g][j] = _mm512_load_ps(acc_rows[first_token + j] + g * kGroupRows);
    }
  }
  for (int b = 0; b < n_blocks; ++b) {
    __m512i acc[kTileGroups][T];
    for (int j = 0; j < T; ++j) {
      for (int g = 0; g < kTileGroups; ++g) {
        acc[g][j] = K::kOffset != 0 ? _mm512_set1_epi32(s.correction[first_token + j][b])
                                    : _mm512_setzero_si512();
      }
    }
    // Fully unrolled: GCC otherwise rotates the accumulators through copies.
#pragma GCC unroll 8
    for (int k = 0; k < kSteps; ++k) {
#pragma GCC unroll 4
      for (int g = 0; g < kTileGroups; ++g) {
        const __m512i w = _mm512_load_si512(s.q[g][b][k]);
#pragma GCC unroll 8
        for (int j = 0; j < T; ++j) {
          const __m512i a = _mm512_set1_epi32(load_i32(s.act[b][j] + 4 * k));
          acc[g][j] = _mm512_dpbusd_epi32(acc[g][j], w, a);
        }
      }
    }
    for (int g = 0; g < kTileGroups; ++g) {
      const __m512 dx = _mm512_load_ps(s.dx[g][b]);
      const __m512 mx = K::kHasMin ? _mm512_load_ps(s.mx[g][b]) : _mm512_setzero_ps();
      for (int j = 0; j < T; ++j) {
        const __m512 dy = _mm512_set1_ps(s.dy[first_token + j][b]);
        const __m512 sy =
            K::kHasMin ? _mm512_set1_ps(s.sy[first_token + j][b]) : _mm512_setzero_ps();
        sums[g][j] =
            _mm512_add_ps(sums[g][j], K::combine(_mm512_cvtepi32_ps(acc[g][j]), dx, mx, dy, sy));
      }
    }
  }
  for (int j = 0; j < T; ++j) {
    for (int g = 0; g < kTileGroups; ++g) {
      _mm512_store_ps(acc_rows[first_token + j] + g * kGroupRows, sums[g][j]);
    }
  }
}

// One part of at most kTileRows x kCallTokens.
template <class K>
void tile(const GemmOperands& m) {
  using ActBlock = typename K::ActBlock;
  // Rows of a group are gathered with 32-bit offsets.
  assert(m.weight_row_bytes * (kGroupRows - 1) < (size_t{1} << 31));
  TileScratch& s = tiling::thread_scratch<TileScratch>();
  const int n_rows = static_cast<int>(m.n_rows);
  const int n_tokens = static_cast<int>(m.n_tokens);
  const int64_t n_blocks = m.n / kQuantBlockSize;
  // The register block spans all 4 groups; missing rows are packed as zeros.
  for (int t = 0; t < n_tokens; ++t) std::memset(s.acc[t], 0, sizeof(s.acc[t]));
  for (int64_t first_block = 0; first_block < n_blocks; first_block += kChunkBlocks) {
    const int chunk = static_cast<int>(
        n_blocks - first_block < kChunkBlocks ? n_blocks - first_block : kChunkBlocks);
    for (int g = 0; g < kTileGroups; ++g) {
      const int valid = n_rows - g * kGroupRows;  // <= 0: a padding group
      const uint8_t* rows = valid > 0 ? m.weights + g * kGroupRows * m.weight_row_bytes : m.weights;
      pack_group<K>(rows, m.weight_row_bytes, valid < 0 ? 0 : valid, first_block, chunk, s.q[g],
                    s.dx[g], s.mx[g]);
    }
    // Passes of kTileTokens tokens reuse the chunk's unpacked weights.
    for (int pass = 0; pass < n_tokens; pass += kTileTokens) {
      const int pass_tokens = n_tokens - pass < kTileTokens ? n_tokens - pass : kTileTokens;
      const uint8_t* activations = m.activations + pass * m.activation_row_bytes;
      prepare_activations<K>(activations, m.activation_row_bytes, pass_tokens, first_block, chunk,
                             s);
      for (int t = 0; t < pass_tokens; t += kMicroTokens) {
        const int tokens = pass_tokens - t < kMicroTokens ? pass_tokens - t : kMicroTokens;
        for (int j = 0; j < tokens; ++j) {
          const auto* y =
              reinterpret_cast<const ActBlock*>(activations + (t + j) * m.activation_row_bytes) +
              first_block;
          for (int b = 0; b < chunk; ++b) std::memcpy(s.act[b][j], y[b].qs, kQuantBlockSize);
        }
        tiling::with_constant<kMicroTokens>(tokens, [&](auto count) {
          micro_kernel<K, decltype(count)::value>(s, t, chunk, s.acc + pass);
        });
      }
    }
  }
  tiling::store_sums(s.acc, m);
}

// The GemmTileFn of kind K: parts of at most kTileRows x kTileTokens.
template <class K>
constexpr GemmTileFn gemm = &tiling::gemm_in_tiles<kTileRows, kCallTokens, tile<K>>;

}  // namespace

LOCARA_DEFINE_GEMM_TILE(gemm_tile_q4_0, gemm<KindQ4_0>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_q4_1, gemm<KindQ4_1>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_q5_0, gemm<KindQ5_0>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_q5_1, gemm<KindQ5_1>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_q8_0, gemm<KindQ8_0>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_iq4_nl, gemm<KindIQ4_NL>)

}  // namespace locara::ops::avx512
