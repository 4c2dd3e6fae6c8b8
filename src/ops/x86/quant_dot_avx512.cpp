// AVX-512 VNNI dot products of one quantized weight row with one Q8 activation row (the
// generation path, bound by reading the weights). Each block's integer sum is exact
// (vpdpbusd); the sums of 16 blocks are reduced into the lanes of one vector, their float
// terms formed lane-wise (scales fetched with constant permutes: gathers are slow on
// Zen 4), then added to the total one by one in block order: the reference's bits. Those
// 16 dependent adds are issued after the next group's work, which hides their latency.
// clang-format off
#include "ops/x86/simd_avx512.h"  // first: it includes <immintrin.h>, see there
// clang-format on

#include <cstdint>

#include "ops/x86/quant_kinds_avx512.h"
#include "ops/x86/x86_kernels.h"

namespace locara::ops::avx512 {
namespace {

inline __m256i load_qs(const int8_t* qs) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs));
}

// Partial integer sums of blocks i and i+1 of 32 bytes (Q8_0): lanes 0-7 block i, lanes
// 8-15 block i+1.
template <class K>
inline __m512i pair_dot(const typename K::Block* x, const typename K::ActBlock* y) {
  const __m512i xv =
      _mm512_inserti64x4(_mm512_castsi256_si512(K::unpack(x[0])), K::unpack(x[1]), 1);
  const __m512i yv =
      _mm512_inserti64x4(_mm512_castsi256_si512(load_qs(y[0].qs)), load_qs(y[1].qs), 1);
  __m512i sum = _mm512_dpbusd_epi32(_mm512_setzero_si512(), xv, yv);
  if constexpr (K::kOffset != 0) {
    const __m512i offset = _mm512_set1_epi8(static_cast<char>(K::kOffset));
    sum = _mm512_sub_epi32(sum, _mm512_dpbusd_epi32(_mm512_setzero_si512(), offset, yv));
  }
  return sum;
}

// Partial integer sums of 4 blocks of 4-bit pairs, 128-bit chunk k holding block k's:
// the packed bytes of 4 blocks fill one vector, split into low nibbles (elements 0-15)
// and high ones (16-31), against the activations' first and second halves.
template <class K>
inline __m512i quad_dot(const typename K::Block* x, const typename K::ActBlock* y) {
  const auto qs = [&](int k) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[k].qs)); };
  __m512i packed = _mm512_castsi128_si512(qs(0));
  packed = _mm512_inserti32x4(packed, qs(1), 1);
  packed = _mm512_inserti32x4(packed, qs(2), 2);
  packed = _mm512_inserti32x4(packed, qs(3), 3);
  const __m512i nibble = _mm512_set1_epi8(0x0f);
  __m512i low = _mm512_and_si512(packed, nibble);
  __m512i high = _mm512_and_si512(_mm512_srli_epi16(packed, 4), nibble);
  if constexpr (LooksUpLevels<K>) {
    low = K::lookup(low);
    high = K::lookup(high);
  }
  if constexpr (K::kHighBits) {
    uint64_t low_bits = 0;
    uint64_t high_bits = 0;
    for (int k = 0; k < 4; ++k) {
      const auto qh = static_cast<uint32_t>(load_i32(x[k].qh));
      low_bits |= static_cast<uint64_t>(qh & 0xffffu) << (16 * k);
      high_bits |= static_cast<uint64_t>(qh >> 16) << (16 * k);
    }
    const __m512i bit4 = _mm512_set1_epi8(0x10);
    low = _mm512_mask_add_epi8(low, _cvtu64_mask64(low_bits), low, bit4);
    high = _mm512_mask_add_epi8(high, _cvtu64_mask64(high_bits), high, bit4);
  }
  // [y0 | y1] and [y2 | y3] -> first halves of y0..y3, and second halves.
  const __m512i y01 =
      _mm512_inserti64x4(_mm512_castsi256_si512(load_qs(y[0].qs)), load_qs(y[1].qs), 1);
  const __m512i y23 =
      _mm512_inserti64x4(_mm512_castsi256_si512(load_qs(y[2].qs)), load_qs(y[3].qs), 1);
  const __m512i first =
      _mm512_permutex2var_epi64(y01, _mm512_setr_epi64(0, 1, 4, 5, 8, 9, 12, 13), y23);
  const __m512i second =
      _mm512_permutex2var_epi64(y01, _mm512_setr_epi64(2, 3, 6, 7, 10, 11, 14, 15), y23);
  __m512i sum =
      _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), low, first), high, second);
  if constexpr (K::kOffset != 0) {
    const __m512i offset = _mm512_set1_epi8(static_cast<char>(K::kOffset));
    sum = _mm512_sub_epi32(
        sum, _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), offset, first), offset,
                                 second));
  }
  return sum;
}

// Four quad_dot results (v[k], chunk c: block 4k + c) -> the 16 block totals in order.
inline __m512i reduce_block_quads(const __m512i v[4]) {
  const __m512i t0 =
      _mm512_add_epi32(_mm512_unpacklo_epi32(v[0], v[1]), _mm512_unpackhi_epi32(v[0], v[1]));
  const __m512i t1 =
      _mm512_add_epi32(_mm512_unpacklo_epi32(v[2], v[3]), _mm512_unpackhi_epi32(v[2], v[3]));
  // Lane 4c + k: the total of block 4k + c.
  const __m512i sums =
      _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1), _mm512_unpackhi_epi64(t0, t1));
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return _mm512_permutexvar_epi32(order, sums);
}

// The integer sums of 16 consecutive blocks, in block order.
template <class K>
inline __m512i block_sums(const typename K::Block* x, const typename K::ActBlock* y) {
  if constexpr (K::kNibbles) {
    __m512i quads[4];
    for (int k = 0; k < 4; ++k) quads[k] = quad_dot<K>(x + 4 * k, y + 4 * k);
    return reduce_block_quads(quads);
  } else {
    __m512i pairs[8];
    for (int i = 0; i < 8; ++i) pairs[i] = pair_dot<K>(x + 2 * i, y + 2 * i);
    return reduce_block_pairs(pairs);
  }
}

// The integer sum of one block (the tails).
template <class K>
inline int32_t block_sum(const typename K::Block& x, const typename K::ActBlock& y) {
  const __m256i yv = load_qs(y.qs);
  __m256i sum = _mm256_dpbusd_epi32(_mm256_setzero_si256(), K::unpack(x), yv);
  if constexpr (K::kOffset != 0) {
    const __m256i offset = _mm256_set1_epi8(static_cast<char>(K::kOffset));
    sum = _mm256_sub_epi32(sum, _mm256_dpbusd_epi32(_mm256_setzero_si256(), offset, yv));
  }
  return hsum_epi32(sum);
}

// The float terms of 16 consecutive blocks whose integer sums are in `sums`.
template <class K>
inline __m512 block_terms(__m512i sums, const typename K::Block* x, const typename K::ActBlock* y) {
  __m512 dx;
  __m512 dy;
  __m512 mx = _mm512_setzero_ps();
  __m512 sy = _mm512_setzero_ps();
  block_scales<typename K::Block, K::kHasMin>(x, &dx, &mx);
  block_scales<typename K::ActBlock, K::kHasMin>(y, &dy, &sy);
  return K::combine(_mm512_cvtepi32_ps(sums), dx, mx, dy, sy);
}

template <class K>
inline float block_term(const typename K::Block& x, const typename K::ActBlock& y) {
  float mx = 0.0f;
  float sy = 0.0f;
  if constexpr (K::kHasMin) {
    mx = fp16_to_float(x.m);
    sy = fp16_to_float(y.s);
  }
  return K::combine(static_cast<float>(block_sum<K>(x, y)), fp16_to_float(x.d), mx,
                    fp16_to_float(y.d), sy);
}

// Adds the 16 lanes to sum one by one, in lane order (the reference's order).
inline float add_in_order(float sum, __m512 terms) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, terms);
  for (int i = 0; i < 16; ++i) sum += lanes[i];
  return sum;
}

template <class K>
float quant_dot(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const typename K::Block*>(vx);
  const auto* y = static_cast<const typename K::ActBlock*>(vy);
  const int64_t n_blocks = n / kQuantBlockSize;
  float sum = 0.0f;
  int64_t b = 0;
  if (n_blocks >= 16) {
    // Software-pipelined: the in-order adds of one group (a chain of 16 float adds) come
    // after the next group's independent work, which overlaps their latency.
    __m512 pending = block_terms<K>(block_sums<K>(x, y), x, y);
    for (b = 16; b + 16 <= n_blocks; b += 16) {
      prefetch_weights_ahead(x + b, 16 * sizeof(*x));
      const __m512 terms = block_terms<K>(block_sums<K>(x + b, y + b), x + b, y + b);
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

}  // namespace locara::ops::avx512
