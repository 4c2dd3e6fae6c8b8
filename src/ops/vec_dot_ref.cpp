// Reference dot products of a quantized weight row with a quantized activation row, as
// ggml's *_generic kernels: an exact integer sum per block, then one float multiply-add
// per block into a float total (the float order below is ggml's, for bit-closeness).
#include <cassert>
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

// Bit 4 of each of the 32 5-bit quantities of a Q5 block, already shifted into place.
void high_bits(const uint8_t qh_bytes[4], int high[kQuantBlockSize]) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, sizeof(qh));
  for (int j = 0; j < kQuantBlockSize; ++j) high[j] = static_cast<int>(((qh >> j) & 1u) << 4);
}

}  // namespace

float vec_dot_q4_0_q8_0(int64_t n, const void* x, const void* y) {
  const auto* xb = static_cast<const BlockQ4_0*>(x);
  const auto* yb = static_cast<const BlockQ8_0*>(y);
  float sum = 0.0f;
  for (int64_t i = 0; i < block_count(n); ++i) {
    int sumi = 0;
    for (int j = 0; j < kHalf; ++j) {
      sumi += ((xb[i].qs[j] & 0x0f) - 8) * yb[i].qs[j];
      sumi += ((xb[i].qs[j] >> 4) - 8) * yb[i].qs[j + kHalf];
    }
    sum += static_cast<float>(sumi) * fp16_to_fp32(xb[i].d) * fp16_to_fp32(yb[i].d);
  }
  return sum;
}

float vec_dot_q4_1_q8_1(int64_t n, const void* x, const void* y) {
  const auto* xb = static_cast<const BlockQ4_1*>(x);
  const auto* yb = static_cast<const BlockQ8_1*>(y);
  float sum = 0.0f;
  for (int64_t i = 0; i < block_count(n); ++i) {
    int sumi = 0;
    for (int j = 0; j < kHalf; ++j) {
      sumi += (xb[i].qs[j] & 0x0f) * yb[i].qs[j];
      sumi += (xb[i].qs[j] >> 4) * yb[i].qs[j + kHalf];
    }
    // sum(q*d_x + m) * y = d_x*d_y*sum(q*q_y) + m * (d_y*sum(q_y)) = ... + m * s_y.
    sum += (fp16_to_fp32(xb[i].d) * fp16_to_fp32(yb[i].d)) * static_cast<float>(sumi) +
           fp16_to_fp32(xb[i].m) * fp16_to_fp32(yb[i].s);
  }
  return sum;
}

float vec_dot_q5_0_q8_0(int64_t n, const void* x, const void* y) {
  const auto* xb = static_cast<const BlockQ5_0*>(x);
  const auto* yb = static_cast<const BlockQ8_0*>(y);
  int high[kQuantBlockSize];
  float sum = 0.0f;
  for (int64_t i = 0; i < block_count(n); ++i) {
    high_bits(xb[i].qh, high);
    int sumi = 0;
    for (int j = 0; j < kHalf; ++j) {
      sumi += (((xb[i].qs[j] & 0x0f) | high[j]) - 16) * yb[i].qs[j];
      sumi += (((xb[i].qs[j] >> 4) | high[j + kHalf]) - 16) * yb[i].qs[j + kHalf];
    }
    sum += (fp16_to_fp32(xb[i].d) * fp16_to_fp32(yb[i].d)) * static_cast<float>(sumi);
  }
  return sum;
}

float vec_dot_q5_1_q8_1(int64_t n, const void* x, const void* y) {
  const auto* xb = static_cast<const BlockQ5_1*>(x);
  const auto* yb = static_cast<const BlockQ8_1*>(y);
  int high[kQuantBlockSize];
  float sum = 0.0f;
  for (int64_t i = 0; i < block_count(n); ++i) {
    high_bits(xb[i].qh, high);
    int sumi = 0;
    for (int j = 0; j < kHalf; ++j) {
      sumi += ((xb[i].qs[j] & 0x0f) | high[j]) * yb[i].qs[j];
      sumi += ((xb[i].qs[j] >> 4) | high[j + kHalf]) * yb[i].qs[j + kHalf];
    }
    sum += (fp16_to_fp32(xb[i].d) * fp16_to_fp32(yb[i].d)) * static_cast<float>(sumi) +
           fp16_to_fp32(xb[i].m) * fp16_to_fp32(yb[i].s);
  }
  return sum;
}

float vec_dot_q8_0_q8_0(int64_t n, const void* x, const void* y) {
  const auto* xb = static_cast<const BlockQ8_0*>(x);
  const auto* yb = static_cast<const BlockQ8_0*>(y);
  float sum = 0.0f;
  for (int64_t i = 0; i < block_count(n); ++i) {
    int sumi = 0;
    for (int j = 0; j < kQuantBlockSize; ++j) sumi += xb[i].qs[j] * yb[i].qs[j];
    sum += static_cast<float>(sumi) * (fp16_to_fp32(xb[i].d) * fp16_to_fp32(yb[i].d));
  }
  return sum;
}

}  // namespace locara::ops::ref
