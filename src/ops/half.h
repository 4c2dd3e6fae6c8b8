// Half-precision conversions: IEEE fp16 and bfloat16, bit-exact with ggml's
// (fp16 round-to-nearest-even; bf16 rounds to nearest even and keeps NaNs quiet).
#pragma once

#include <cstdint>

namespace locara::ops {

float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f);
float bf16_to_fp32(uint16_t h);
uint16_t fp32_to_bf16(float f);

// Round-trips through fp16: what storing a value in an f16 cache does to it.
inline float round_to_fp16(float f) {
  return fp16_to_fp32(fp32_to_fp16(f));
}

}  // namespace locara::ops
