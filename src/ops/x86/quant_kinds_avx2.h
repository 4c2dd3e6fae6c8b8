// The 32-element block formats (and IQ4_NL) as the AVX2 integer kernels (quant_dot_avx2.cpp,
// quant_gemm_avx2.cpp) see them. Only *_avx2.cpp files may include this header.
#pragma once

#include <immintrin.h>

#include "ops/quant_blocks.h"
#include "ops/quant_blocks_k.h"
#include "ops/x86/simd_avx2.h"

namespace locara::ops::avx2 {

// vpmaddubsw multiplies unsigned bytes by signed ones into saturating 16-bit pair sums.
// The 4- and 5-bit kinds unpack a weight block into 32 unsigned bytes (value + kOffset),
// small enough that no pair sum saturates; a dot with a Q8 block y is then
// maddubs(unpacked, y) - kOffset * sum(y). Q8_0 weights are signed: its dot takes |x|
// and y with x's sign (sign trick), exact as long as y never holds -128 (Q8 activations
// never do). kInt16Steps: how many 4-byte steps of 16-bit pair sums add up without
// overflow (|pair| <= 2 * max value * 128).
// combine() is the reference's float term of one block, operation for operation, for
// scalars and vectors alike (with -ffp-contract=off nothing fuses).
//
// A 32-bit word read at the start of a block holds d in its low half, and m (Q4_1, Q5_1)
// or s (Q8_1) in its high half: one gather fetches both scales.

inline __m256i unpack_nibbles(const uint8_t* qs) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both =
      _mm256_inserti128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

// Adds bit 4 (qh bit j) to byte j of the 4-bit values.
inline __m256i add_high_bits(__m256i low, const uint8_t qh[4]) {
  // Byte j takes byte j / 8 of qh, keeps bit j % 8, and becomes 0x10 where it was set.
  const __m256i replicated = _mm256_shuffle_epi8(
      _mm256_set1_epi32(load_i32(qh)), _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                                          0x0202020202020202, 0x0303030303030303));
  const __m256i bit = _mm256_set1_epi64x(0x8040201008040201);
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(replicated, bit), bit);
  return _mm256_or_si256(low, _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
}

struct KindQ8_0 {
  using Block = BlockQ8_0;
  using ActBlock = BlockQ8_0;
  static constexpr bool kSigned = true;
  static constexpr int kOffset = 0;
  static constexpr bool kHasMin = false;
  static constexpr int kInt16Steps = 1;
  static __m256i unpack(const Block& b) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
  }
  template <class V>
  static V combine(V sumi, V dx, V /*mx*/, V dy, V /*sy*/) {
    return sumi * (dx * dy);
  }
};

struct KindQ4_0 {
  using Block = BlockQ4_0;
  using ActBlock = BlockQ8_0;
  static constexpr bool kSigned = false;
  static constexpr int kOffset = 8;
  static constexpr bool kHasMin = false;
  static constexpr int kInt16Steps = 8;
  static __m256i unpack(const Block& b) { return unpack_nibbles(b.qs); }
  template <class V>
  static V combine(V sumi, V dx, V /*mx*/, V dy, V /*sy*/) {
    return sumi * dx * dy;
  }
};

struct KindQ5_0 {
  using Block = BlockQ5_0;
  using ActBlock = BlockQ8_0;
  static constexpr bool kSigned = false;
  static constexpr int kOffset = 16;
  static constexpr bool kHasMin = false;
  static constexpr int kInt16Steps = 4;
  static __m256i unpack(const Block& b) { return add_high_bits(unpack_nibbles(b.qs), b.qh); }
  template <class V>
  static V combine(V sumi, V dx, V /*mx*/, V dy, V /*sy*/) {
    return (dx * dy) * sumi;
  }
};

struct KindQ4_1 {
  using Block = BlockQ4_1;
  using ActBlock = BlockQ8_1;
  static constexpr bool kSigned = false;
  static constexpr int kOffset = 0;
  static constexpr bool kHasMin = true;
  static constexpr int kInt16Steps = 8;
  static __m256i unpack(const Block& b) { return unpack_nibbles(b.qs); }
  template <class V>
  static V combine(V sumi, V dx, V mx, V dy, V sy) {
    return (dx * dy) * sumi + mx * sy;
  }
};

struct KindQ5_1 {
  using Block = BlockQ5_1;
  using ActBlock = BlockQ8_1;
  static constexpr bool kSigned = false;
  static constexpr int kOffset = 0;
  static constexpr bool kHasMin = true;
  static constexpr int kInt16Steps = 4;
  static __m256i unpack(const Block& b) { return add_high_bits(unpack_nibbles(b.qs), b.qh); }
  template <class V>
  static V combine(V sumi, V dx, V mx, V dy, V sy) {
    return (dx * dy) * sumi + mx * sy;
  }
};

// IQ4_NL: the nibbles index kIq4nlValues, whose signed levels (-127..113) take Q8_0's
// sign trick (as unsigned bytes + 128 their pair sums would saturate).
struct KindIQ4_NL {
  using Block = BlockIQ4_NL;
  using ActBlock = BlockQ8_0;
  static constexpr bool kSigned = true;
  static constexpr int kOffset = 0;
  static constexpr bool kHasMin = false;
  static constexpr int kInt16Steps = 1;
  static __m256i unpack(const Block& b) {
    const __m256i levels = _mm256_broadcastsi128_si256(
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
    return _mm256_shuffle_epi8(levels, unpack_nibbles(b.qs));
  }
  template <class V>
  static V combine(V sumi, V dx, V /*mx*/, V dy, V /*sy*/) {
    return (dx * dy) * sumi;
  }
};

// 16-bit pair sums of 32 weight bytes (as unpack() makes them) times 32 Q8 bytes.
template <class K>
inline __m256i pair_sums(__m256i w, __m256i y) {
  if constexpr (K::kSigned) {
    return _mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(y, w));
  } else {
    return _mm256_maddubs_epi16(w, y);
  }
}

}  // namespace locara::ops::avx2
