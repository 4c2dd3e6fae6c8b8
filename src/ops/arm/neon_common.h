// Building blocks shared by the arm64 kernel files: the per-ISA namespace, fp16 scalar
// conversions and the 32-element int8 dot product (with or without the dotprod extension).
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

// Each kernel file is compiled with its own -march flags (src/ops/CMakeLists.txt). Inline
// and template code from these headers lands in a namespace named after the flags, so the
// linker never merges a dotprod-compiled copy into the plain NEON path (or back).
#if defined(__ARM_FEATURE_DOTPROD)
#define LOCARA_ARM_ISA dotprod
#else
#define LOCARA_ARM_ISA neon
#endif

#define LOCARA_ARM_INLINE inline __attribute__((always_inline))

namespace locara::ops::arm::LOCARA_ARM_ISA {

// fp16 bits <-> float with the FCVT instruction (base ARMv8, no +fp16 needed). Exact, and
// rounds to nearest even as half.h does; they differ only in NaN payloads.
LOCARA_ARM_INLINE float half_to_float(uint16_t bits) {
  __fp16 h;
  std::memcpy(&h, &bits, sizeof(h));
  return static_cast<float>(h);
}

LOCARA_ARM_INLINE uint16_t float_to_half(float f) {
  const __fp16 h = static_cast<__fp16>(f);
  uint16_t bits;
  std::memcpy(&bits, &h, sizeof(bits));
  return bits;
}

// The integer dot product of 32 int8 pairs (x = lo|hi, y = lo|hi), spread over 4 lanes.
// Which lane holds which partial sum depends on the ISA; the total does not.
LOCARA_ARM_INLINE int32x4_t dot_i8x32(int8x16_t x_lo, int8x16_t x_hi, int8x16_t y_lo,
                                      int8x16_t y_hi) {
#if defined(__ARM_FEATURE_DOTPROD)
  return vdotq_s32(vdotq_s32(vdupq_n_s32(0), x_lo, y_lo), x_hi, y_hi);
#else
  // Widening products are exact in int16 (|q| <= 128); pairwise adds widen to int32
  // before two products ever meet, so nothing overflows.
  int32x4_t sum = vpaddlq_s16(vmull_s8(vget_low_s8(x_lo), vget_low_s8(y_lo)));
  sum = vpadalq_s16(sum, vmull_high_s8(x_lo, y_lo));
  sum = vpadalq_s16(sum, vmull_s8(vget_low_s8(x_hi), vget_low_s8(y_hi)));
  return vpadalq_s16(sum, vmull_high_s8(x_hi, y_hi));
#endif
}

// The integer dot product of 16 int8 pairs, spread over 4 lanes.
LOCARA_ARM_INLINE int32x4_t dot_i8x16(int8x16_t x, int8x16_t y) {
#if defined(__ARM_FEATURE_DOTPROD)
  return vdotq_s32(vdupq_n_s32(0), x, y);
#else
  const int32x4_t sum = vpaddlq_s16(vmull_s8(vget_low_s8(x), vget_low_s8(y)));
  return vpadalq_s16(sum, vmull_high_s8(x, y));
#endif
}

}  // namespace locara::ops::arm::LOCARA_ARM_ISA
