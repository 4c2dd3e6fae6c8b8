// AVX2 gemm tiles of Q4_K, Q5_K and Q6_K (prompt processing on CPUs without VNNI).
//
// As the AVX-512 tiles (kquant_gemm_avx512.cpp), with 8-row groups: for each super-block
// the tile's rows are unpacked ONCE into unsigned 8-bit levels, interleaved (64 steps of
// 32 bytes, step k holding elements 4k..4k+3 of 8 rows, one row per 32-bit lane). A
// register block of 8 rows x 6 tokens runs vpmaddubsw against 4 broadcast activation
// bytes and adds the 16-bit pair sums for as many steps as cannot overflow (a whole
// 32-element Q4_K sub-block, 4 steps of Q5_K, 2 of Q6_K), then vpmaddwd with the row's
// scale pairs widens and scales them in one instruction. Each (row, token) lane gets exactly
// vec_dot's integer sums and float terms (kquant_kernels.h), hence its bits.
#include <immintrin.h>

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ops/quant_blocks_k.h"
#include "ops/x86/kquant_kernels.h"
#include "ops/x86/simd_avx2.h"

namespace locara::ops::avx2 {
namespace {

constexpr int kGroupRows = 8;  // rows per packed group: the lanes of one vector
constexpr int kTileRows = 64;  // matmul's tiles are 64 x 64
constexpr int kTileGroups = kTileRows / kGroupRows;
constexpr int kTileTokens = 64;
constexpr int kSteps = kSuperBlockSize / 4;  // 4-byte steps per super-block
constexpr int kMicroTokens = 6;              // register block: 8 rows x 6 tokens

// Not thread-safe: one per thread (scratch()).
struct TileScratch {
  alignas(32) uint8_t q[kTileGroups][kSteps][32];
  // Per sub-block: each row's scale in both 16-bit halves of its lane.
  alignas(32) int32_t scales[kTileGroups][16][kGroupRows];
  // As in the AVX-512 tiles: Q4_K (min 2k, min 2k+1), Q6_K (-32 * scale 2k, -32 * scale 2k+1).
  alignas(32) int32_t pair_factors[kTileGroups][8][kGroupRows];
  alignas(32) float dx[kTileGroups][kGroupRows];
  alignas(32) float dmin[kTileGroups][kGroupRows];
  alignas(32) int8_t act[kTileTokens][kSuperBlockSize];
  alignas(32) int32_t act_pairs[kTileTokens][8];
  alignas(32) float dy[kTileTokens];
  alignas(32) float acc[kTileTokens][kTileRows];
};

// Plain new/delete rather than std:: templates: code in this file is built for AVX2, and
// an out-of-line template instance could be shared with code built for any CPU.
struct ScratchHolder {
  TileScratch* scratch = nullptr;
  ~ScratchHolder() { delete scratch; }
};

TileScratch& scratch() {
  thread_local ScratchHolder holder;
  if (holder.scratch == nullptr) holder.scratch = new TileScratch;
  return *holder.scratch;
}

inline __m256i load(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// rows[r] holds 8 32-bit words of row r; writes out[k] = word k of every row (lane r).
inline void transpose_8x8(const __m256i rows[8], uint8_t out[8][32]) {
  __m256i t[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_epi32(rows[2 * i], rows[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_epi32(rows[2 * i], rows[2 * i + 1]);
  }
  // u[4i + c], 128-bit lane L: word 4L + c of rows 4i..4i+3.
  __m256i u[8];
  for (int i = 0; i < 2; ++i) {
    u[4 * i + 0] = _mm256_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int c = 0; c < 4; ++c) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(out[c]),
                       _mm256_permute2x128_si256(u[c], u[4 + c], 0x20));
    _mm256_store_si256(reinterpret_cast<__m256i*>(out[4 + c]),
                       _mm256_permute2x128_si256(u[c], u[4 + c], 0x31));
  }
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

struct KindQ4_K {
  using Block = BlockQ4_K;
  static constexpr int kSubBlocks = 8;
  static constexpr int kPairs = 4;
  static constexpr bool kHasMin = true;
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

  // Pairs of 32-element sub-block sums of the activations.
  static void prepare_pairs(const BlockQ8_K& y, int32_t pairs[8]) {
    const __m256i sums = _mm256_madd_epi16(load(y.bsums), _mm256_set1_epi16(1));
    const __m128i words =
        _mm_packs_epi32(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(pairs), words);
  }
};

// Q4_K's levels plus a fifth bit (bit k of qh byte l is bit 4 of element 32k + l); scales
// and minimums as Q4_K's, at the same offsets.
struct KindQ5_K {
  using Block = BlockQ5_K;
  static constexpr int kSubBlocks = 8;
  static constexpr int kPairs = 4;
  static constexpr bool kHasMin = true;
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
  static void prepare_pairs(const BlockQ8_K& y, int32_t pairs[8]) {
    KindQ4_K::prepare_pairs(y, pairs);
  }
};

struct KindQ6_K {
  using Block = BlockQ6_K;
  static constexpr int kSubBlocks = 16;
  static constexpr int kPairs = 8;
  static constexpr bool kHasMin = false;
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

  static void prepare_pairs(const BlockQ8_K& y, int32_t pairs[8]) {
    std::memcpy(pairs, y.bsums, sizeof(y.bsums));
  }
};

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
        for (int t = 0; t < T; ++t) {
          const __m256i a = _mm256_set1_epi32(load_i32(s.act[first_token + t] + 4 * step));
          pairs[t] = _mm256_add_epi16(pairs[t], _mm256_maddubs_epi16(w, a));
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
    __m256i extra = _mm256_setzero_si256();
    for (int p = 0; p < K::kPairs; ++p) {
      const __m256i factors =
          _mm256_load_si256(reinterpret_cast<const __m256i*>(s.pair_factors[g][p]));
      extra = _mm256_add_epi32(
          extra, _mm256_madd_epi16(factors, _mm256_set1_epi32(s.act_pairs[token][p])));
    }
    __m256 term;
    if constexpr (K::kHasMin) {
      term = _mm256_mul_ps(dx, _mm256_cvtepi32_ps(isum[t]));
      term = _mm256_fnmadd_ps(_mm256_load_ps(s.dmin[g]), _mm256_cvtepi32_ps(extra), term);
    } else {
      term = _mm256_mul_ps(dx, _mm256_cvtepi32_ps(_mm256_add_epi32(isum[t], extra)));
    }
    _mm256_store_ps(lanes, _mm256_fmadd_ps(term, dy, _mm256_load_ps(lanes)));
  }
}

template <class K>
void run_tokens(TileScratch& s, int g, int first_token, int n_tokens) {
  switch (n_tokens) {
    case 1:
      return micro_kernel<K, 1>(s, g, first_token);
    case 2:
      return micro_kernel<K, 2>(s, g, first_token);
    case 3:
      return micro_kernel<K, 3>(s, g, first_token);
    case 4:
      return micro_kernel<K, 4>(s, g, first_token);
    case 5:
      return micro_kernel<K, 5>(s, g, first_token);
    default:
      return micro_kernel<K, kMicroTokens>(s, g, first_token);
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
  for (int64_t sb = 0; sb < n / kSuperBlockSize; ++sb) {
    for (int g = 0; g < n_groups; ++g) {
      pack_group<K>(weights + g * kGroupRows * w_row_bytes, w_row_bytes, n_rows - g * kGroupRows,
                    sb, s, g);
    }
    for (int t = 0; t < n_tokens; ++t) {
      const auto& y = reinterpret_cast<const BlockQ8_K*>(activations + t * a_row_bytes)[sb];
      std::memcpy(s.act[t], y.qs, sizeof(y.qs));
      K::prepare_pairs(y, s.act_pairs[t]);
      s.dy[t] = y.d;
    }
    for (int g = 0; g < n_groups; ++g) {
      for (int t = 0; t < n_tokens; t += kMicroTokens) {
        run_tokens<K>(s, g, t, n_tokens - t < kMicroTokens ? n_tokens - t : kMicroTokens);
      }
    }
  }
  for (int t = 0; t < n_tokens; ++t) {
    float* row = out + t * out_stride;
    std::memcpy(row, s.acc[t], sizeof(float) * static_cast<size_t>(n_rows));
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

}  // namespace locara::ops::avx2
