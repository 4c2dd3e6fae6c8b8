// The 32-element block formats (and IQ4_NL) as the AVX-512 integer kernels (quant_dot_avx512.cpp,
// quant_gemm_avx512.cpp) see them. Only *_avx512.cpp files may include this header.
#pragma once

// clang-format off
#include "ops/x86/simd_avx512.h"  // first: it includes <immintrin.h>, see there
// clang-format on

#include "ops/quant_blocks.h"
#include "ops/quant_blocks_k.h"

namespace locara::ops::avx512 {

// vpdpbusd multiplies unsigned bytes by signed ones, so each kind unpacks a weight block
// into 32 UNSIGNED bytes in element order holding value + kOffset; a dot with a Q8 block y
// is then dpbusd(unpacked, y) - kOffset * sum(y), exact for every byte value.
// combine() is the reference's float term of one block, operation for operation, written
// once for scalars and vectors alike (lanes = blocks or rows): with -ffp-contract=off
// nothing fuses, so every lane rounds as the reference does.
//
// kNibbles: the low 4 bits sit in qs as Q4_0 packs them (element j low, j + 16 high);
// kHighBits: bit 4 of element j is bit j of qh; LooksUpLevels: the nibbles index a table.
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
  const __mmask32 high = _cvtu32_mask32(static_cast<uint32_t>(load_i32(qh)));
  return _mm256_mask_add_epi8(low, high, low, _mm256_set1_epi8(0x10));
}

struct KindQ8_0 {
  using Block = BlockQ8_0;
  using ActBlock = BlockQ8_0;
  static constexpr int kOffset = 128;
  static constexpr bool kHasMin = false;
  static constexpr bool kNibbles = false;
  static constexpr bool kHighBits = false;
  static __m256i unpack(const Block& b) {
    return _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs)),
                            _mm256_set1_epi8(static_cast<char>(0x80)));
  }
  template <class V>
  static V combine(V sumi, V dx, V /*mx*/, V dy, V /*sy*/) {
    return sumi * (dx * dy);
  }
};

struct KindQ4_0 {
  using Block = BlockQ4_0;
  using ActBlock = BlockQ8_0;
  static constexpr int kOffset = 8;
  static constexpr bool kHasMin = false;
  static constexpr bool kNibbles = true;
  static constexpr bool kHighBits = false;
  static __m256i unpack(const Block& b) { return unpack_nibbles(b.qs); }
  template <class V>
  static V combine(V sumi, V dx, V /*mx*/, V dy, V /*sy*/) {
    return sumi * dx * dy;
  }
};

struct KindQ5_0 {
  using Block = BlockQ5_0;
  using ActBlock = BlockQ8_0;
  static constexpr int kOffset = 16;
  static constexpr bool kHasMin = false;
  static constexpr bool kNibbles = true;
  static constexpr bool kHighBits = true;
  static __m256i unpack(const Block& b) { return add_high_bits(unpack_nibbles(b.qs), b.qh); }
  template <class V>
  static V combine(V sumi, V dx, V /*mx*/, V dy, V /*sy*/) {
    return (dx * dy) * sumi;
  }
};

struct KindQ4_1 {
  using Block = BlockQ4_1;
  using ActBlock = BlockQ8_1;
  static constexpr int kOffset = 0;
  static constexpr bool kHasMin = true;
  static constexpr bool kNibbles = true;
  static constexpr bool kHighBits = false;
  static __m256i unpack(const Block& b) { return unpack_nibbles(b.qs); }
  template <class V>
  static V combine(V sumi, V dx, V mx, V dy, V sy) {
    return (dx * dy) * sumi + mx * sy;
  }
};

struct KindQ5_1 {
  using Block = BlockQ5_1;
  using ActBlock = BlockQ8_1;
  static constexpr int kOffset = 0;
  static constexpr bool kHasMin = true;
  static constexpr bool kNibbles = true;
  static constexpr bool kHighBits = true;
  static __m256i unpack(const Block& b) { return add_high_bits(unpack_nibbles(b.qs), b.qh); }
  template <class V>
  static V combine(V sumi, V dx, V mx, V dy, V sy) {
    return (dx * dy) * sumi + mx * sy;
  }
};

// IQ4_NL: the nibbles index kIq4nlValues + 128 (1..241, unsigned as vpdpbusd needs).
struct KindIQ4_NL {
  using Block = BlockIQ4_NL;
  using ActBlock = BlockQ8_0;
  static constexpr int kOffset = 128;
  static constexpr bool kHasMin = false;
  static constexpr bool kNibbles = true;
  static constexpr bool kHighBits = false;
  // The levels of 16 nibbles, in each 128-bit lane.
  static __m512i levels() {
    const __m128i values = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues));
    return _mm512_broadcast_i32x4(_mm_xor_si128(values, _mm_set1_epi8(static_cast<char>(0x80))));
  }
  static __m512i lookup(__m512i nibbles) { return _mm512_shuffle_epi8(levels(), nibbles); }
  static __m256i unpack(const Block& b) {
    return _mm256_shuffle_epi8(_mm512_castsi512_si256(levels()), unpack_nibbles(b.qs));
  }
  template <class V>
  static V combine(V sumi, V dx, V /*mx*/, V dy, V /*sy*/) {
    return (dx * dy) * sumi;
  }
};

// Kinds whose nibbles index a table of levels (IQ4_NL) map them with lookup().
template <class K>
concept LooksUpLevels = requires(__m512i nibbles) {
  K::lookup(nibbles);
};

// The scales of 16 consecutive blocks: d as floats, and the high halves of the words that
// start the blocks (m of Q4_1 / Q5_1, s of Q8_1) as floats where `with_high`.
template <class Block, bool with_high>
inline void block_scales(const Block* blocks, __m512* d, __m512* high) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(blocks);
  if constexpr (with_high) {
    const __m512i words = block_fields<sizeof(Block), 4>(bytes);
    *d = low_halves_to_float(words);
    *high = high_halves_to_float(words);
  } else {
    *d = _mm512_cvtph_ps(_mm512_castsi512_si256(block_fields<sizeof(Block), 2>(bytes)));
  }
}

}  // namespace locara::ops::avx512
