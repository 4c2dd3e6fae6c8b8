#include "ops/half.h"

#include <bit>

namespace locara::ops {

// Integer implementations: every case (zero, subnormal, normal, overflow, inf, NaN) is
// an explicit branch, so the code can be checked by reading it. They give the same
// bits as ggml's F16C-free scalar path (ggml_compute_fp32_to_fp16 and back), which
// the tests verify against a port of that algorithm.

float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) {
    // Inf keeps its bits; a NaN comes out quiet, as ggml's float arithmetic leaves it.
    const uint32_t quiet = mantissa != 0 ? 0x00400000u : 0u;
    return std::bit_cast<float>(sign | 0x7f800000u | quiet | (mantissa << 13));
  }
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24 is exact in float.
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return std::bit_cast<float>(sign | std::bit_cast<uint32_t>(magnitude));
  }
  // Normal: rebias the exponent from 15 to 127 and widen the mantissa.
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t fp32_to_fp16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t magnitude = bits & 0x7fffffffu;

  if (magnitude > 0x7f800000u) return sign | 0x7e00u;   // NaN -> canonical quiet NaN (as ggml)
  if (magnitude >= 0x47800000u) return sign | 0x7c00u;  // >= 65536 (or inf) -> inf

  if (magnitude < 0x38800000u) {
    // Below 2^-14, the smallest normal half: the result is round(value / 2^-24),
    // a subnormal (or zero, or the smallest normal after rounding up).
    if (magnitude <= 0x33000000u) return sign;  // <= 2^-25: rounds to (even) zero
    const uint32_t exponent = magnitude >> 23;  // 102..112 here
    const uint32_t significand = (magnitude & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126 - exponent;  // 14..24
    uint32_t result = significand >> shift;
    const uint32_t remainder = significand & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (result & 1u))) ++result;
    return static_cast<uint16_t>(sign | result);
  }

  // Normal: rebias the exponent (127 -> 15) and round 23 mantissa bits to 10, to nearest
  // even. A carry out of the mantissa bumps the exponent, which is what rounding
  // 65520 and up to inf needs.
  const uint32_t rebiased = magnitude - (112u << 23);
  uint32_t result = rebiased >> 13;
  const uint32_t remainder = rebiased & 0x1fffu;
  if (remainder > 0x1000u || (remainder == 0x1000u && (result & 1u))) ++result;
  return static_cast<uint16_t>(sign | result);
}

float bf16_to_fp32(uint16_t h) {
  return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
}

uint16_t fp32_to_bf16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    // NaN: truncating could clear every mantissa bit left (making inf); setting bit 6
    // forces a quiet NaN, as GGML_FP32_TO_BF16 does.
    return static_cast<uint16_t>((bits >> 16) | 64u);
  }
  // Round to nearest even: add just under half an ulp, plus one if the kept lsb is odd.
  return static_cast<uint16_t>((bits + (0x7fffu + ((bits >> 16) & 1u))) >> 16);
}

}  // namespace locara::ops
