// AVX-512 dot products of one K-format weight row with one Q8_K activation row (the
// generation path, bound by reading the weights). Per super-block: levels unpacked to
// bytes in element order, vpmaddubsw against the activations, then vpdpwssd with the
// sub-block scales as 16-bit words, so the scaled integer sum is exact; the minimums
// come from Q8_K's bsums. The float terms follow kquant_common.h.
// clang-format off
#include "ops/x86/simd_avx512.h"  // first: it includes <immintrin.h>, see there
// clang-format on

#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ops/half.h"
#include "ops/quant_blocks_k.h"
#include "ops/x86/kquant_common.h"
#include "ops/x86/kquant_kernels.h"

namespace locara::ops::avx512 {
namespace {

using kquant_detail::add_term;
using kquant_detail::add_term_with_min;

// vpshufb controls, one byte per lane byte (Z = zero the byte).
constexpr int8_t Z = -128;
using Control = std::array<int8_t, 64>;

// For 64 elements starting at sub-block 2h of a Q4_K block: 16-bit words holding scale
// byte 2h (low 256 bits) and 2h+1 (high 256 bits), from a vector whose every 64-bit lane
// holds the eight scale bytes.
constexpr Control q4k_scale_control(int h) {
  Control c{};
  for (int i = 0; i < 64; ++i) c[i] = i % 2 == 1 ? Z : static_cast<int8_t>(2 * h + i / 32);
  return c;
}
alignas(64) constexpr Control kQ4kScaleControl[4] = {q4k_scale_control(0), q4k_scale_control(1),
                                                     q4k_scale_control(2), q4k_scale_control(3)};

// For Q8_K's 16 bsums (two per 32-element sub-block): word w holds minimum w / 2, from
// a vector whose every 64-bit lane holds the eight minimum bytes.
constexpr std::array<int8_t, 32> q4k_min_control() {
  std::array<int8_t, 32> c{};
  for (int i = 0; i < 32; ++i) c[i] = i % 2 == 1 ? Z : static_cast<int8_t>(i / 4);
  return c;
}
alignas(32) constexpr std::array<int8_t, 32> kQ4kMinControl = q4k_min_control();

// For 64 elements of a Q6_K block starting at sub-block 4k: in 128-bit lane L, scale byte
// 4k + L in both bytes of every word (an arithmetic shift by 8 then sign-extends it),
// from a vector whose every 128-bit lane holds the 16 scale bytes.
constexpr Control q6k_scale_control(int k) {
  Control c{};
  for (int i = 0; i < 64; ++i) c[i] = static_cast<int8_t>(4 * k + i / 16);
  return c;
}
alignas(64) constexpr Control kQ6kScaleControl[4] = {q6k_scale_control(0), q6k_scale_control(1),
                                                     q6k_scale_control(2), q6k_scale_control(3)};

inline __m512i load_control(const Control& c) {
  return _mm512_load_si512(c.data());
}

inline __m512i load512(const void* p) {
  return _mm512_loadu_si512(p);
}
inline __m256i load256(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

// Elements 64h .. 64h + 63 of a Q4_K block: the 32 bytes qs[32h..] hold the first 32 in
// their low nibbles and the next 32 in their high nibbles.
inline __m512i q4k_levels(const uint8_t* qs, int h) {
  const __m512i packed = _mm512_broadcast_i64x4(load256(qs + 32 * h));
  const __m512i shifted = _mm512_mask_srli_epi16(packed, 0xffff0000u, packed, 4);
  return _mm512_and_si512(shifted, _mm512_set1_epi8(0x0f));
}

// The 6-bit levels (0..63, unsigned) of elements 128 * half + [0, 64) (*low) and
// 128 * half + [64, 128) (*high) of a Q6_K block.
inline void q6k_levels(const BlockQ6_K& b, int half, __m512i* low, __m512i* high) {
  const __m512i ql = load512(b.ql + 64 * half);
  const __m512i qh = _mm512_broadcast_i64x4(load256(b.qh + 32 * half));
  // Low 256 bits: qh; high 256 bits: qh >> 2. Then bits 0-1 of each byte are the top
  // bits of `low`'s element, bits 4-5 those of `high`'s.
  const __m512i top = _mm512_mask_srli_epi16(qh, 0xffff0000u, qh, 2);
  const __m512i mask4 = _mm512_set1_epi8(0x0f);
  const __m512i mask_top = _mm512_set1_epi8(0x30);
  // ternary logic 0xf8: a | (b & c)
  *low = _mm512_ternarylogic_epi32(_mm512_and_si512(ql, mask4), _mm512_slli_epi16(top, 4), mask_top,
                                   0xf8);
  *high = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(ql, 4), mask4), top,
                                    mask_top, 0xf8);
}

inline __m256i fold512(__m512i v) {
  return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

// Eight vectors of partial sums -> their 8 totals, in order.
inline __m256i reduce8(const __m256i s[8]) {
  const __m256i s0123 =
      _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
  const __m256i s4567 =
      _mm256_hadd_epi32(_mm256_hadd_epi32(s[4], s[5]), _mm256_hadd_epi32(s[6], s[7]));
  return _mm256_add_epi32(_mm256_permute2x128_si256(s0123, s4567, 0x20),
                          _mm256_permute2x128_si256(s0123, s4567, 0x31));
}

// Super-blocks are reduced four at a time (one horizontal reduction for 4 x 2 sums);
// row lengths that are not a multiple of 4 super-blocks pad the last group with zeros.
constexpr int kGroup = 4;

// decode_q4k_scales on vectors: the 16 bytes at the start of a Q4_K block (d, dmin, 12
// scale bytes) -> 64-bit lane 0: the 8 scales, lane 1: the 8 minimums (one byte each).
inline __m128i q4k_scales_and_mins(__m128i head) {
  const __m128i words = _mm_shuffle_epi32(head, _MM_SHUFFLE(3, 2, 3, 1));  // w0 w2 w1 w2
  const __m128i tops = _mm_shuffle_epi32(head, _MM_SHUFFLE(2, 2, 1, 1));   // w0 w0 w1 w1
  const __m128i low = _mm_and_si128(_mm_srlv_epi32(words, _mm_setr_epi32(0, 0, 0, 4)),
                                    _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
  const __m128i high =
      _mm_and_si128(_mm_srli_epi32(tops, 2), _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
  return _mm_or_si128(low, high);
}

// Adds 16 to the levels of elements 64h .. 64h + 63 of a Q5_K block whose fifth bit is
// set: bit 2h (first 32) or 2h + 1 (next 32) of qh[l].
inline __m512i add_fifth_bits(__m512i levels, const uint8_t* qh, int h) {
  const __m512i bits = _mm512_broadcast_i64x4(load256(qh));
  const __m512i select = _mm512_inserti64x4(_mm512_set1_epi8(static_cast<char>(1 << (2 * h))),
                                            _mm256_set1_epi8(static_cast<char>(2 << (2 * h))), 1);
  const __mmask64 high = _mm512_test_epi8_mask(bits, select);
  return _mm512_mask_add_epi8(levels, high, levels, _mm512_set1_epi8(0x10));
}

// The scaled level sums (lanes of *sums) and minimum sums (lanes of *mins) of one
// Q4_K or Q5_K super-block, and its d and dmin.
template <class Block>
inline void min_partial_sums(const Block& x, const BlockQ8_K& y, __m256i* sums, __m256i* mins,
                             float* dx, float* dmin) {
  const __m128i head = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&x));
  const __m128 d = _mm_cvtph_ps(head);
  *dx = _mm_cvtss_f32(d);
  *dmin = _mm_cvtss_f32(_mm_movehdup_ps(d));
  const __m128i scales_mins = q4k_scales_and_mins(head);
  const __m512i scale_bytes = _mm512_broadcastq_epi64(scales_mins);
  __m512i acc = _mm512_setzero_si512();
  for (int h = 0; h < 4; ++h) {
    __m512i levels = q4k_levels(x.qs, h);
    if constexpr (std::is_same_v<Block, BlockQ5_K>) levels = add_fifth_bits(levels, x.qh, h);
    const __m512i products = _mm512_maddubs_epi16(levels, load512(y.qs + 64 * h));
    const __m512i scales = _mm512_shuffle_epi8(scale_bytes, load_control(kQ4kScaleControl[h]));
    acc = _mm512_dpwssd_epi32(acc, products, scales);
  }
  *sums = fold512(acc);
  const __m256i min_words =
      _mm256_shuffle_epi8(_mm256_broadcastq_epi64(_mm_unpackhi_epi64(scales_mins, scales_mins)),
                          _mm256_load_si256(reinterpret_cast<const __m256i*>(&kQ4kMinControl)));
  *mins = _mm256_madd_epi16(load256(y.bsums), min_words);
}

template <class Block>
float dot_with_mins(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const Block*>(vx);
  const auto* y = static_cast<const BlockQ8_K*>(vy);
  const int64_t n_blocks = n / kSuperBlockSize;
  float total = 0.0f;
  for (int64_t i = 0; i < n_blocks; i += kGroup) {
    const int count = n_blocks - i < kGroup ? static_cast<int>(n_blocks - i) : kGroup;
    __m256i parts[2 * kGroup];  // level sums of the group's blocks, then minimum sums
    float dx[kGroup];
    float dmin[kGroup];
    for (int b = 0; b < kGroup; ++b) {
      if (b < count) {
        min_partial_sums(x[i + b], y[i + b], &parts[b], &parts[kGroup + b], &dx[b], &dmin[b]);
      } else {
        parts[b] = parts[kGroup + b] = _mm256_setzero_si256();
      }
    }
    alignas(32) int32_t totals[2 * kGroup];
    _mm256_store_si256(reinterpret_cast<__m256i*>(totals), reduce8(parts));
    for (int b = 0; b < count; ++b) {
      total = add_term_with_min(total, totals[b], totals[kGroup + b], dx[b], dmin[b], y[i + b].d);
    }
  }
  return total;
}

// The level sums of one Q6_K super-block, less 32 * the scaled bsums (levels are stored
// + 32: sum of scale * (q - 32) . y = scale * q . y - 32 * scale * bsum).
inline __m256i q6k_partial_sums(const BlockQ6_K& x, const BlockQ8_K& y) {
  const __m128i scale_bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x.scales));
  const __m512i scale_lanes = _mm512_broadcast_i32x4(scale_bytes);
  __m512i acc = _mm512_setzero_si512();
  for (int half = 0; half < 2; ++half) {
    __m512i levels[2];
    q6k_levels(x, half, &levels[0], &levels[1]);
    for (int part = 0; part < 2; ++part) {
      const int k = 2 * half + part;
      const __m512i products = _mm512_maddubs_epi16(levels[part], load512(y.qs + 64 * k));
      const __m512i scales =
          _mm512_srai_epi16(_mm512_shuffle_epi8(scale_lanes, load_control(kQ6kScaleControl[k])), 8);
      acc = _mm512_dpwssd_epi32(acc, products, scales);
    }
  }
  const __m256i offset = _mm256_madd_epi16(load256(y.bsums), _mm256_cvtepi8_epi16(scale_bytes));
  return _mm256_sub_epi32(fold512(acc), _mm256_slli_epi32(offset, 5));
}

}  // namespace

float vec_dot_q4_k_q8_k(int64_t n, const void* x, const void* y) {
  return dot_with_mins<BlockQ4_K>(n, x, y);
}

float vec_dot_q5_k_q8_k(int64_t n, const void* x, const void* y) {
  return dot_with_mins<BlockQ5_K>(n, x, y);
}

float vec_dot_q6_k_q8_k(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const BlockQ6_K*>(vx);
  const auto* y = static_cast<const BlockQ8_K*>(vy);
  const int64_t n_blocks = n / kSuperBlockSize;
  float total = 0.0f;
  for (int64_t i = 0; i < n_blocks; i += 2 * kGroup) {
    const int count = n_blocks - i < 2 * kGroup ? static_cast<int>(n_blocks - i) : 2 * kGroup;
    __m256i parts[2 * kGroup];
    for (int b = 0; b < 2 * kGroup; ++b) {
      parts[b] = b < count ? q6k_partial_sums(x[i + b], y[i + b]) : _mm256_setzero_si256();
    }
    alignas(32) int32_t totals[2 * kGroup];
    _mm256_store_si256(reinterpret_cast<__m256i*>(totals), reduce8(parts));
    for (int b = 0; b < count; ++b) {
      total = add_term(total, totals[b], fp16_to_float(x[i + b].d), y[i + b].d);
    }
  }
  return total;
}

// IQ4_XS: levels looked up in kIq4nlValues + 128 (unsigned, for vpdpbusd), the offset
// taken back with the bsums; each sub-block's float term is added in its own lane
// (lane = sub-block), so results differ from the reference by float rounding only.
float vec_dot_iq4_xs_q8_k(int64_t n, const void* vx, const void* vy) {
  const auto* x = static_cast<const BlockIQ4_XS*>(vx);
  const auto* y = static_cast<const BlockQ8_K*>(vy);
  alignas(16) int8_t table[16];
  for (int i = 0; i < 16; ++i) table[i] = static_cast<int8_t>(kIq4nlValues[i] + 128);
  const __m512i lut =
      _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(table)));
  const __m512i mask4 = _mm512_set1_epi8(0x0f);
  const __m256i low_shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
  const __m256i high_shifts = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    // Pairs of sub-blocks: 16 bytes of qs each, low nibbles elements 0-15, high 16-31.
    __m512i sums[4];
    for (int p = 0; p < 4; ++p) {
      const __m512i packed = _mm512_castsi256_si512(load256(x[i].qs + 32 * p));
      const __m512i lanes = _mm512_shuffle_i64x2(packed, packed, _MM_SHUFFLE(1, 1, 0, 0));
      const __m512i nibbles =
          _mm512_and_si512(_mm512_mask_srli_epi16(lanes, 0xff00ff00u, lanes, 4), mask4);
      sums[p] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_shuffle_epi8(lut, nibbles),
                                    load512(y[i].qs + 64 * p));
    }
    // Lanes 0-7 of sums[p]: sub-block 2p, 8-15: 2p + 1 -> one total per sub-block.
    __m256i halves[8];
    for (int p = 0; p < 4; ++p) {
      halves[2 * p] = _mm512_castsi512_si256(sums[p]);
      halves[2 * p + 1] = _mm512_extracti64x4_epi64(sums[p], 1);
    }
    const __m256i offsets = _mm256_slli_epi32(
        _mm256_madd_epi16(load256(y[i].bsums), _mm256_set1_epi16(1)), 7);  // 128 * sum(y)
    const __m256i totals = _mm256_sub_epi32(reduce8(halves), offsets);
    uint32_t low_bits;
    std::memcpy(&low_bits, x[i].scales_l, sizeof(low_bits));
    const __m256i low = _mm256_and_si256(
        _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int32_t>(low_bits)), low_shifts),
        _mm256_set1_epi32(0xf));
    const __m256i high = _mm256_and_si256(
        _mm256_srlv_epi32(_mm256_set1_epi32(x[i].scales_h), high_shifts), _mm256_set1_epi32(3));
    const __m256i ls =
        _mm256_sub_epi32(_mm256_or_si256(low, _mm256_slli_epi32(high, 4)), _mm256_set1_epi32(32));
    const __m256 dl =
        _mm256_mul_ps(_mm256_set1_ps(fp16_to_float(x[i].d) * y[i].d), _mm256_cvtepi32_ps(ls));
    acc = _mm256_fmadd_ps(dl, _mm256_cvtepi32_ps(totals), acc);
  }
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

}  // namespace locara::ops::avx512
