// Internal to the x86 K-format kernels: scalar pieces that every instruction set's
// kernels share, so that they agree bit for bit: the packed 6-bit scales of Q4_K / Q5_K
// decoded eight at a time, and the float terms that close each super-block.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

// Every function here has internal linkage (static): this header is included by files
// built for different instruction sets, and one shared out-of-line copy could carry
// AVX-512 code into a function that AVX2 machines run.
namespace locara::ops::kquant_detail {

// Byte j of `scales` / `mins` is sub-block j's scale / minimum (q4k_scale_min's values).
struct ScalesMins {
  uint64_t scales;
  uint64_t mins;
};

// Sub-blocks 0-3 keep their 6 bits in bytes 0-3 (scales) and 4-7 (mins); sub-blocks 4-7
// keep their low 4 bits in the nibbles of bytes 8-11 and their top 2 bits in the spare
// bits 6-7 of bytes 0-3 (scales) and 4-7 (mins).
static inline ScalesMins decode_q4k_scales(const uint8_t packed[12]) {
  uint32_t w[3];
  std::memcpy(w, packed, sizeof(w));
  const uint32_t low6 = 0x3f3f3f3fu;
  const uint32_t low4 = 0x0f0f0f0fu;
  const uint32_t bits45 = 0x30303030u;
  const uint32_t scales_low = w[0] & low6;
  const uint32_t mins_low = w[1] & low6;
  const uint32_t scales_high = (w[2] & low4) | ((w[0] >> 2) & bits45);
  const uint32_t mins_high = ((w[2] >> 4) & low4) | ((w[1] >> 2) & bits45);
  return {scales_low | (uint64_t{scales_high} << 32), mins_low | (uint64_t{mins_high} << 32)};
}

// One super-block's share of a dot, given its exact integer sums (kquant_kernels.h):
// the gemm tiles form the same terms lane-wise with _mm*_mul_ps / fnmadd / fmadd.
static inline float add_term_with_min(float total, int32_t isum, int32_t msum, float dx, float dmin,
                                      float dy) {
  float t = dx * static_cast<float>(isum);
  t = std::fma(-dmin, static_cast<float>(msum), t);
  return std::fma(t, dy, total);
}

static inline float add_term(float total, int32_t isum, float dx, float dy) {
  const float t = dx * static_cast<float>(isum);
  return std::fma(t, dy, total);
}

}  // namespace locara::ops::kquant_detail
