// AVX2 dot products of one quantized weight row with one Q8 activation row (the
// generation path, bound by reading the weights). Each block's integer sum is exact
// (vpmaddubsw + vpmaddwd); the sums of 8 blocks are reduced into the lanes of one vector,
// their float terms formed lane-wise, then added to the total one by one in block order:
// the reference's bits. Those 8 dependent adds are issued after the next group's work,
// which hides their latency.
#include <immintrin.h>

#include <cstdint>

#include "ops/x86/quant_kinds_avx2.h"
#include "ops/x86/simd_avx2.h"
#include "ops/x86/x86_kernels.h"

namespace locara::ops::avx2 {
namespace {

// Partial integer sums (8 lanes) of one block.
template <class K>
inline __m256i block_dot(const typename K::Block& x, const typename K::ActBlock& y) {
  const __m256i yv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs));
  __m256i pairs = pair_sums<K>(K::unpack(x), yv);
  if constexpr (K::kOffset != 0) {
    const __m256i offset = _mm256_set1_epi8(static_cast<char>(K::kOffset));
    pairs = _mm256_sub_epi16(pairs, _mm256_maddubs_epi16(offset, yv));
  }
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

// The scales of 8 consecutive blocks: d as floats, and the high halves of the words that
// start the blocks (m of Q4_1 / Q5_1, s of Q8_1) as floats where `with_high`. Inserted
// one by one: AVX2 gathers cost more.
template <class Block, bool with_high>
inline void block_scales(const Block* blocks, __m256* d, __m256* high) {
  if constexpr (with_high) {
    __m128i low4 = _mm_cvtsi32_si128(load_i32(&blocks[0]));
    __m128i high4 = _mm_cvtsi32_si128(load_i32(&blocks[4]));
    low4 = _mm_insert_epi32(low4, load_i32(&blocks[1]), 1);
    high4 = _mm_insert_epi32(high4, load_i32(&blocks[5]), 1);
    low4 = _mm_insert_epi32(low4, load_i32(&blocks[2]), 2);
    high4 = _mm_insert_epi32(high4, load_i32(&blocks[6]), 2);
    low4 = _mm_insert_epi32(low4, load_i32(&blocks[3]), 3);
    high4 = _mm_insert_epi32(high4, load_i32(&blocks[7]), 3);
    const __m256i words = _mm256_set_m128i(high4, low4);
    *d = low_halves_to_float(words);
    *high = high_halves_to_float(words);
  } else {
    __m128i halves = _mm_cvtsi32_si128(blocks[0].d);
    halves = _mm_insert_epi16(halves, blocks[1].d, 1);
    halves = _mm_insert_epi16(halves, blocks[2].d, 2);
    halves = _mm_insert_epi16(halves, blocks[3].d, 3);
    halves = _mm_insert_epi16(halves, blocks[4].d, 4);
    halves = _mm_insert_epi16(halves, blocks[5].d, 5);
    halves = _mm_insert_epi16(halves, blocks[6].d, 6);
    halves = _mm_insert_epi16(halves, blocks[7].d, 7);
    *d = _mm256_cvtph_ps(halves);
  }
}

// The float terms of 8 consecutive blocks whose integer sums are in `sums`.
template <class K>
inline __m256 block_terms(__m256i sums, const typename K::Block* x, const typename K::ActBlock* y) {
  __m256 dx;
  __m256 dy;
  __m256 mx = _mm256_setzero_ps();
  __m256 sy = _mm256_setzero_ps();
  block_scales<typename K::Block, K::kHasMin>(x, &dx, &mx);
  block_scales<typename K::ActBlock, K::kHasMin>(y, &dy, &sy);
  return K::combine(_mm256_cvtepi32_ps(sums), dx, mx, dy, sy);
}

// The integer sums of 8 consecutive blocks, in block order.
template <class K>
inline __m256i block_sums(const typename K::Block* x, const typename K::ActBlock* y) {
  __m256i partial[8];
  for (int i = 0; i < 8; ++i) partial[i] = block_dot<K>(x[i], y[i]);
  return reduce_blocks(partial);
}

// Adds the 8 lanes to sum one by one, in lane order (the reference's order).
inline float add_in_order(float sum, __m256 terms) {
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, terms);
  for (int i = 0; i < 8; ++i) sum += lanes[i];
  return sum;
}

template <class K>
inline float block_term(const typename K::Block& x, const typename K::ActBlock& y) {
  float mx = 0.0f;
  float sy = 0.0f;
  if constexpr (K::kHasMin) {
    mx = fp16_to_float(x.m);
    sy = fp16_to_float(y.s);
  }
  return K::combine(static_cast<float>(hsum_epi32(block_dot<K>(x, y))), fp16_to_float(x.d), mx,
                    fp16_to_float(y.d), sy);
}

template <class K>
float quant_dot(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const typename K::Block*>(vx);
  const auto* y = static_cast<const typename K::ActBlock*>(vy);
  const int64_t n_blocks = n / kQuantBlockSize;
  float sum = 0.0f;
  int64_t b = 0;
  if (n_blocks >= 8) {
    // Software-pipelined: the in-order adds of one group (a chain of 8 float adds) come
    // after the next group's independent work, which overlaps their latency.
    __m256 pending = block_terms<K>(block_sums<K>(x, y), x, y);
    for (b = 8; b + 8 <= n_blocks; b += 8) {
      prefetch_weights_ahead(x + b, 8 * sizeof(*x));
      const __m256 terms = block_terms<K>(block_sums<K>(x + b, y + b), x + b, y + b);
      sum = add_in_order(sum, pending);
      pending = terms;
    }
    sum = add_in_order(sum, pending);
  }
  for (; b < n_blocks; ++b) sum += block_term<K>(x[b], y[b]);
  return sum;
}

}  // namespace

float vec_dot_q4_0_q8_0(int64_t n, const void* x, const void* y) {
  return quant_dot<KindQ4_0>(n, x, y);
}
float vec_dot_q4_1_q8_1(int64_t n, const void* x, const void* y) {
  return quant_dot<KindQ4_1>(n, x, y);
}
float vec_dot_q5_0_q8_0(int64_t n, const void* x, const void* y) {
  return quant_dot<KindQ5_0>(n, x, y);
}
float vec_dot_q5_1_q8_1(int64_t n, const void* x, const void* y) {
  return quant_dot<KindQ5_1>(n, x, y);
}
float vec_dot_q8_0_q8_0(int64_t n, const void* x, const void* y) {
  return quant_dot<KindQ8_0>(n, x, y);
}
float vec_dot_iq4_nl_q8_0(int64_t n, const void* x, const void* y) {
  return quant_dot<KindIQ4_NL>(n, x, y);
}

}  // namespace locara::ops::avx2
