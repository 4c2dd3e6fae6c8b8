// AVX-512 VNNI gemm tiles of Q4_K, Q5_K and Q6_K (prompt processing, compute bound).
//
// For each super-block of the row length, the tile's weight rows are unpacked ONCE into
// unsigned 8-bit levels in a row-interleaved layout (64 steps of 64 bytes, step k holding
// elements 4k..4k+3 of 16 rows, one row per 32-bit lane; the packed bytes of 16 rows are
// transposed first, then split into levels), with each row's scales spread across lanes. A register
// block of 2 x 16 rows x 6 tokens then runs vpdpbusd against 4 activation bytes broadcast from
// memory; after each sub-block the 32-bit sums are multiplied by the rows' scales (vpmulld) into
// the super-block sum, and the minimums (Q4_K) or the -32 offset (Q6_K) come in through vpdpwssd
// with Q8_K's bsums. Lanes are rows: each (row, token) pair gets exactly the integer sums and float
// terms of vec_dot (kquant_kernels.h), so the results are vec_dot's bits.
// clang-format off
#include "ops/x86/simd_avx512.h"  // first: it includes <immintrin.h>, see there
// clang-format on

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ops/quant_blocks_k.h"
#include "ops/x86/kquant_kernels.h"

namespace locara::ops::avx512 {
namespace {

constexpr int kGroupRows = 16;  // rows per packed group: the lanes of one vector
constexpr int kTileRows = 64;   // matmul's tiles are 64 x 64
constexpr int kTileGroups = kTileRows / kGroupRows;
constexpr int kTileTokens = 64;
constexpr int kSteps = kSuperBlockSize / 4;  // 4-byte steps per super-block
constexpr int kMicroGroups = 2;              // register block: 2 groups x 6 tokens
constexpr int kMicroTokens = 6;

// Not thread-safe: one per thread (scratch()).
struct TileScratch {
  // The super-block's levels, interleaved.
  alignas(64) uint8_t q[kTileGroups][kSteps][64];
  // Per sub-block (8 for Q4_K, 16 for Q6_K): each row's scale.
  alignas(64) int32_t scales[kTileGroups][16][kGroupRows];
  // Pairs of 16-bit factors of the bsums term: Q4_K: (min 2k, min 2k+1), Q6_K:
  // (-32 * scale 2k, -32 * scale 2k+1).
  alignas(64) int32_t pair_factors[kTileGroups][8][kGroupRows];
  alignas(64) float dx[kTileGroups][kGroupRows];
  alignas(64) float dmin[kTileGroups][kGroupRows];
  // Each token's Q8_K levels (in place), dy and bsum pairs: Q4_K: (sum of sub-block 2k,
  // sum of sub-block 2k+1), k < 4; Q6_K: (bsum 2k, bsum 2k+1), k < 8.
  const int8_t* act[kTileTokens];
  alignas(64) int32_t act_pairs[kTileTokens][8];
  alignas(64) float dy[kTileTokens];
  alignas(64) float acc[kTileTokens][kTileRows];
};

// Plain new/delete rather than std:: templates: code in this file is built for AVX-512,
// and an out-of-line template instance could be shared with code built for any CPU.
struct ScratchHolder {
  TileScratch* scratch = nullptr;
  ~ScratchHolder() { delete scratch; }
};

TileScratch& scratch() {
  thread_local ScratchHolder holder;
  if (holder.scratch == nullptr) holder.scratch = new TileScratch;
  return *holder.scratch;
}

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

struct KindQ4_K {
  using Block = BlockQ4_K;
  static constexpr int kSubBlocks = 8;
  static constexpr int kPairs = 4;
  static constexpr bool kHasMin = true;

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

  // Pairs of 32-element sub-block sums of the activations.
  static void prepare_pairs(const BlockQ8_K& y, int32_t pairs[8]) {
    const __m256i sums = _mm256_madd_epi16(load256(y.bsums), _mm256_set1_epi16(1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(pairs), _mm256_cvtepi32_epi16(sums));
  }
};

// Q4_K's levels plus a fifth bit: bit k of qh byte l is bit 4 of element 32k + l. Scales,
// minimums and their offsets in the block are Q4_K's.
struct KindQ5_K {
  using Block = BlockQ5_K;
  static constexpr int kSubBlocks = 8;
  static constexpr int kPairs = 4;
  static constexpr bool kHasMin = true;
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
  static void prepare_pairs(const BlockQ8_K& y, int32_t pairs[8]) {
    KindQ4_K::prepare_pairs(y, pairs);
  }
};

struct KindQ6_K {
  using Block = BlockQ6_K;
  static constexpr int kSubBlocks = 16;
  static constexpr int kPairs = 8;
  static constexpr bool kHasMin = false;

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

  static void prepare_pairs(const BlockQ8_K& y, int32_t pairs[8]) {
    std::memcpy(pairs, y.bsums, sizeof(y.bsums));
  }
};

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
      __m512 term;
      if constexpr (K::kHasMin) {
        __m512i msum = _mm512_setzero_si512();
        for (int p = 0; p < K::kPairs; ++p) {
          msum = _mm512_dpwssd_epi32(msum, _mm512_load_si512(s.pair_factors[group][p]),
                                     _mm512_set1_epi32(s.act_pairs[token][p]));
        }
        term = _mm512_mul_ps(dx, _mm512_cvtepi32_ps(isum[g][t]));
        term = _mm512_fnmadd_ps(_mm512_load_ps(s.dmin[group]), _mm512_cvtepi32_ps(msum), term);
      } else {
        __m512i sum = isum[g][t];
        for (int p = 0; p < K::kPairs; ++p) {
          sum = _mm512_dpwssd_epi32(sum, _mm512_load_si512(s.pair_factors[group][p]),
                                    _mm512_set1_epi32(s.act_pairs[token][p]));
        }
        term = _mm512_mul_ps(dx, _mm512_cvtepi32_ps(sum));
      }
      _mm512_store_ps(lanes, _mm512_fmadd_ps(term, dy, _mm512_load_ps(lanes)));
    }
  }
}

template <class K, int G>
void run_tokens(TileScratch& s, int first_group, int first_token, int n_tokens) {
  switch (n_tokens) {
    case 1:
      return micro_kernel<K, G, 1>(s, first_group, first_token);
    case 2:
      return micro_kernel<K, G, 2>(s, first_group, first_token);
    case 3:
      return micro_kernel<K, G, 3>(s, first_group, first_token);
    case 4:
      return micro_kernel<K, G, 4>(s, first_group, first_token);
    case 5:
      return micro_kernel<K, G, 5>(s, first_group, first_token);
    default:
      return micro_kernel<K, G, kMicroTokens>(s, first_group, first_token);
  }
}

// At most kTileRows x kTileTokens.
template <class K>
void tile(int64_t n, const uint8_t* weights, size_t w_row_bytes, int n_rows,
          const uint8_t* activations, size_t a_row_bytes, int n_tokens, float* out,
          int64_t out_stride) {
  TileScratch& s = scratch();
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
      const auto& y = reinterpret_cast<const BlockQ8_K*>(activations + t * a_row_bytes)[sb];
      s.act[t] = y.qs;
      K::prepare_pairs(y, s.act_pairs[t]);
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
        if (n_groups - g >= 2) {
          run_tokens<K, 2>(s, g, t, tokens);
        } else {
          run_tokens<K, 1>(s, g, t, tokens);
        }
      }
    }
  }
  for (int t = 0; t < n_tokens; ++t) {
    for (int g = 0; g < n_groups; ++g) {
      const int valid = n_rows - g * kGroupRows;
      const __mmask16 mask = valid >= kGroupRows ? __mmask16(0xffff) : __mmask16((1u << valid) - 1);
      _mm512_mask_storeu_ps(out + t * out_stride + g * kGroupRows, mask,
                            _mm512_load_ps(s.acc[t] + g * kGroupRows));
    }
  }
}

template <class K>
void gemm(int64_t n, const void* weights, size_t w_row_bytes, int64_t n_rows,
          const void* activations, size_t a_row_bytes, int64_t n_tokens, float* out,
          int64_t out_stride) {
  // Rows of a group are gathered with 32-bit offsets.
  assert(w_row_bytes * (kGroupRows - 1) < (size_t{1} << 31));
  const auto* w = static_cast<const uint8_t*>(weights);
  const auto* a = static_cast<const uint8_t*>(activations);
  for (int64_t r = 0; r < n_rows; r += kTileRows) {
    const int rows = static_cast<int>(n_rows - r < kTileRows ? n_rows - r : kTileRows);
    for (int64_t t = 0; t < n_tokens; t += kTileTokens) {
      const int tokens = static_cast<int>(n_tokens - t < kTileTokens ? n_tokens - t : kTileTokens);
      tile<K>(n, w + r * w_row_bytes, w_row_bytes, rows, a + t * a_row_bytes, a_row_bytes, tokens,
              out + t * out_stride + r, out_stride);
    }
  }
}

}  // namespace

void gemm_tile_q4_k(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a,
                    size_t a_row_bytes, int64_t n_tokens, float* out, int64_t out_stride) {
  gemm<KindQ4_K>(n, w, w_row_bytes, n_rows, a, a_row_bytes, n_tokens, out, out_stride);
}

void gemm_tile_q5_k(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a,
                    size_t a_row_bytes, int64_t n_tokens, float* out, int64_t out_stride) {
  gemm<KindQ5_K>(n, w, w_row_bytes, n_rows, a, a_row_bytes, n_tokens, out, out_stride);
}

void gemm_tile_q6_k(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a,
                    size_t a_row_bytes, int64_t n_tokens, float* out, int64_t out_stride) {
  gemm<KindQ6_K>(n, w, w_row_bytes, n_rows, a, a_row_bytes, n_tokens, out, out_stride);
}

}  // namespace locara::ops::avx512
