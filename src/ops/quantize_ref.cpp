// Reference quantization and dequantization of the 32-element block formats. Each follows
// ggml's quantize_row_*_ref / dequantize_row_* step for step (same float operations in
// the same order), because model files and golden tensors are defined by that code.
#include <algorithm>
#include <cassert>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "ops/half.h"
#include "ops/kernels_ref.h"
#include "ops/quant_blocks.h"

namespace locara::ops::ref {
namespace {

constexpr int kHalf = kQuantBlockSize / 2;

int64_t block_count(int64_t n) {
  assert(n % kQuantBlockSize == 0);
  return n / kQuantBlockSize;
}

// The value of largest magnitude, with its sign; the first one wins ties.
float signed_absolute_max(const float* x) {
  float amax = 0.0f;
  float max = 0.0f;
  for (int j = 0; j < kQuantBlockSize; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

float absolute_max(const float* x) {
  float amax = 0.0f;
  for (int j = 0; j < kQuantBlockSize; ++j) amax = std::max(amax, std::fabs(x[j]));
  return amax;
}

void min_max(const float* x, float* min, float* max) {
  *min = FLT_MAX;
  *max = -FLT_MAX;
  for (int j = 0; j < kQuantBlockSize; ++j) {
    if (x[j] < *min) *min = x[j];
    if (x[j] > *max) *max = x[j];
  }
}

// The 5-bit quantities of Q5_0/Q5_1: 4 low bits from the nibbles, bit 4 from qh.
void unpack_5bit(const uint8_t qh_bytes[4], const uint8_t qs[kHalf], int q[kQuantBlockSize]) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, sizeof(qh));  // little-endian, as the file stores it
  for (int j = 0; j < kHalf; ++j) {
    q[j] = (qs[j] & 0x0f) | static_cast<int>(((qh >> j) & 1u) << 4);
    q[j + kHalf] = (qs[j] >> 4) | static_cast<int>(((qh >> (j + kHalf)) & 1u) << 4);
  }
}

// Packs 32 5-bit quantities: low nibbles pairwise into qs, bit 4 into qh.
void pack_5bit(const uint8_t q[kQuantBlockSize], uint8_t qh_bytes[4], uint8_t qs[kHalf]) {
  uint32_t qh = 0;
  for (int j = 0; j < kHalf; ++j) {
    qs[j] = static_cast<uint8_t>((q[j] & 0x0f) | ((q[j + kHalf] & 0x0f) << 4));
    qh |= static_cast<uint32_t>((q[j] & 0x10u) >> 4) << j;
    qh |= static_cast<uint32_t>((q[j + kHalf] & 0x10u) >> 4) << (j + kHalf);
  }
  std::memcpy(qh_bytes, &qh, sizeof(qh));
}

}  // namespace

void to_float_q4_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < block_count(n); ++i, dst += kQuantBlockSize) {
    const float d = fp16_to_fp32(blocks[i].d);
    for (int j = 0; j < kHalf; ++j) {
      dst[j] = static_cast<float>((blocks[i].qs[j] & 0x0f) - 8) * d;
      dst[j + kHalf] = static_cast<float>((blocks[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void from_float_q4_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ4_0*>(dst);
  for (int64_t i = 0; i < block_count(n); ++i, src += kQuantBlockSize) {
    // The extreme value maps to -8 exactly, which uses the full range [-8, 7].
    const float d = signed_absolute_max(src) / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kHalf; ++j) {
      // +8.5 then truncation: round half up into the unsigned range 0..16, clamped to 15.
      const int q0 = std::min(15, static_cast<int>(src[j] * id + 8.5f));
      const int q1 = std::min(15, static_cast<int>(src[j + kHalf] * id + 8.5f));
      blocks[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void to_float_q4_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_1*>(src);
  for (int64_t i = 0; i < block_count(n); ++i, dst += kQuantBlockSize) {
    const float d = fp16_to_fp32(blocks[i].d);
    const float m = fp16_to_fp32(blocks[i].m);
    for (int j = 0; j < kHalf; ++j) {
      dst[j] = static_cast<float>(blocks[i].qs[j] & 0x0f) * d + m;
      dst[j + kHalf] = static_cast<float>(blocks[i].qs[j] >> 4) * d + m;
    }
  }
}

void from_float_q4_1(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ4_1*>(dst);
  for (int64_t i = 0; i < block_count(n); ++i, src += kQuantBlockSize) {
    float min;
    float max;
    min_max(src, &min, &max);
    const float d = (max - min) / 15;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[i].d = fp32_to_fp16(d);
    blocks[i].m = fp32_to_fp16(min);
    for (int j = 0; j < kHalf; ++j) {
      const int q0 = std::min(15, static_cast<int>((src[j] - min) * id + 0.5f));
      const int q1 = std::min(15, static_cast<int>((src[j + kHalf] - min) * id + 0.5f));
      blocks[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void to_float_q5_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_0*>(src);
  int q[kQuantBlockSize];
  for (int64_t i = 0; i < block_count(n); ++i, dst += kQuantBlockSize) {
    const float d = fp16_to_fp32(blocks[i].d);
    unpack_5bit(blocks[i].qh, blocks[i].qs, q);
    for (int j = 0; j < kQuantBlockSize; ++j) dst[j] = static_cast<float>(q[j] - 16) * d;
  }
}

void from_float_q5_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ5_0*>(dst);
  uint8_t q[kQuantBlockSize];
  for (int64_t i = 0; i < block_count(n); ++i, src += kQuantBlockSize) {
    const float d = signed_absolute_max(src) / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQuantBlockSize; ++j) {
      q[j] = static_cast<uint8_t>(std::min(31, static_cast<int>(src[j] * id + 16.5f)));
    }
    pack_5bit(q, blocks[i].qh, blocks[i].qs);
  }
}

void to_float_q5_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_1*>(src);
  int q[kQuantBlockSize];
  for (int64_t i = 0; i < block_count(n); ++i, dst += kQuantBlockSize) {
    const float d = fp16_to_fp32(blocks[i].d);
    const float m = fp16_to_fp32(blocks[i].m);
    unpack_5bit(blocks[i].qh, blocks[i].qs, q);
    for (int j = 0; j < kQuantBlockSize; ++j) dst[j] = static_cast<float>(q[j]) * d + m;
  }
}

void from_float_q5_1(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ5_1*>(dst);
  uint8_t q[kQuantBlockSize];
  for (int64_t i = 0; i < block_count(n); ++i, src += kQuantBlockSize) {
    float min;
    float max;
    min_max(src, &min, &max);
    const float d = (max - min) / 31;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[i].d = fp32_to_fp16(d);
    blocks[i].m = fp32_to_fp16(min);
    // No clamp here (ggml has none): pack_5bit keeps the low 5 bits.
    for (int j = 0; j < kQuantBlockSize; ++j) {
      q[j] = static_cast<uint8_t>(static_cast<int>((src[j] - min) * id + 0.5f));
    }
    pack_5bit(q, blocks[i].qh, blocks[i].qs);
  }
}

void to_float_q8_0(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < block_count(n); ++i, dst += kQuantBlockSize) {
    const float d = fp16_to_fp32(blocks[i].d);
    for (int j = 0; j < kQuantBlockSize; ++j) dst[j] = static_cast<float>(blocks[i].qs[j]) * d;
  }
}

void from_float_q8_0(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < block_count(n); ++i, src += kQuantBlockSize) {
    const float d = absolute_max(src) / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQuantBlockSize; ++j) {
      blocks[i].qs[j] = static_cast<int8_t>(std::round(src[j] * id));
    }
  }
}

void to_float_q8_1(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_1*>(src);
  for (int64_t i = 0; i < block_count(n); ++i, dst += kQuantBlockSize) {
    const float d = fp16_to_fp32(blocks[i].d);
    for (int j = 0; j < kQuantBlockSize; ++j) dst[j] = static_cast<float>(blocks[i].qs[j]) * d;
  }
}

void from_float_q8_1(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < block_count(n); ++i, src += kQuantBlockSize) {
    const float d = absolute_max(src) / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    blocks[i].d = fp32_to_fp16(d);
    int sum = 0;
    for (int j = 0; j < kQuantBlockSize; ++j) {
      blocks[i].qs[j] = static_cast<int8_t>(std::round(src[j] * id));
      sum += blocks[i].qs[j];
    }
    blocks[i].s = fp32_to_fp16(static_cast<float>(sum) * d);
  }
}

}  // namespace locara::ops::ref
