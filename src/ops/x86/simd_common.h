// Building blocks of 128- and 256-bit code that the AVX2 and the AVX-512 kernel files share
// (simd_avx2.h and simd_avx512.h bring them into their namespaces). Both are built with at
// least AVX2 + F16C; every function here has internal linkage (static), so each file gets
// its own copy built with its own flags and no copy can leak into another ISA's code.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace locara::ops::x86_common {

// The generation path's dots read each weight byte once, from memory. Their float sums
// are chains of dependent adds in the reference's order, which fill the core's
// out-of-order window, so the hardware alone keeps too few cache misses in flight to reach
// the memory's bandwidth (Q8_0 ran at ~60% of it). Each group of blocks therefore
// prefetches the bytes kPrefetchAhead further on: past the row's end too, since the next
// row follows it in a matmul (a prefetch never faults).
constexpr int kPrefetchAhead = 8192;

static inline void prefetch_weights_ahead(const void* group, int group_bytes) {
  const char* ahead = static_cast<const char*>(group) + kPrefetchAhead;
  for (int offset = 0; offset < group_bytes; offset += 64) {
    _mm_prefetch(ahead + offset, _MM_HINT_T0);
  }
}

static inline int32_t load_i32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

static inline float fp16_to_float(uint16_t h) {
  return _cvtsh_ss(h);
}

static inline int32_t hsum_epi32(__m256i v) {
  __m128i q = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  q = _mm_add_epi32(q, _mm_unpackhi_epi64(q, q));
  q = _mm_add_epi32(q, _mm_shuffle_epi32(q, 1));
  return _mm_cvtsi128_si32(q);
}

// Eight vectors of partial sums, s[i] all of block i -> the 8 block totals in order.
static inline __m256i reduce_blocks(const __m256i s[8]) {
  const __m256i s0123 =
      _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
  const __m256i s4567 =
      _mm256_hadd_epi32(_mm256_hadd_epi32(s[4], s[5]), _mm256_hadd_epi32(s[6], s[7]));
  return _mm256_add_epi32(_mm256_permute2x128_si256(s0123, s4567, 0x20),
                          _mm256_permute2x128_si256(s0123, s4567, 0x31));
}

}  // namespace locara::ops::x86_common
