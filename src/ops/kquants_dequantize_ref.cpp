// Reference dequantization of the K formats, as ggml's dequantize_row_q{2..6,8}_K: each
// sub-block's float scale (and minimum) is formed first, then value = scale * q - min,
// in that order, so that results are bit-exact with ggml's (and gguf-py's) values.
#include <cassert>
#include <cstdint>
#include <type_traits>

#include "ops/half.h"
#include "ops/kernels_ref.h"
#include "ops/quant_blocks_k.h"

namespace locara::ops::ref {
namespace {

constexpr int kQK = static_cast<int>(kSuperBlockSize);

int64_t super_block_count(int64_t n) {
  assert(n % kSuperBlockSize == 0);
  return n / kSuperBlockSize;
}

}  // namespace

void to_float_q2_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ2_K*>(src);
  for (int64_t i = 0; i < super_block_count(n); ++i) {
    const BlockQ2_K& x = blocks[i];
    const float d = fp16_to_fp32(x.d);
    const float min = fp16_to_fp32(x.dmin);
    // Element e is 2-bit field (e / 32) % 4 of qs[32 * (e / 128) + e % 32], scaled by
    // scales[e / 16].
    for (int e = 0; e < kQK; ++e) {
      const int half = e / 128;
      const int field = (e / 32) % 4;
      const int q = (x.qs[32 * half + e % 32] >> (2 * field)) & 3;
      const uint8_t sc = x.scales[e / 16];
      const float dl = d * static_cast<float>(sc & 0xF);
      const float ml = min * static_cast<float>(sc >> 4);
      *dst++ = dl * static_cast<float>(q) - ml;
    }
  }
}

void to_float_q3_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ3_K*>(src);
  int8_t scales[16];
  for (int64_t i = 0; i < super_block_count(n); ++i) {
    const BlockQ3_K& x = blocks[i];
    const float d_all = fp16_to_fp32(x.d);
    q3k_scales(x.scales, scales);
    for (int e = 0; e < kQK; ++e) {
      const int half = e / 128;
      const int field = (e / 32) % 4;
      const int low = (x.qs[32 * half + e % 32] >> (2 * field)) & 3;
      const int high_set = (x.hmask[e % 32] >> (e / 32)) & 1;
      const float dl = d_all * static_cast<float>(scales[e / 16] - 32);
      *dst++ = dl * static_cast<float>(low - (high_set ? 0 : 4));
    }
  }
}

namespace {

// Q4_K, and Q5_K whose bit 4 of element 32 * sub + l is bit sub of qh[l].
template <class Block>
void to_float_q4k_q5k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const Block*>(src);
  for (int64_t i = 0; i < super_block_count(n); ++i) {
    const Block& x = blocks[i];
    const float d = fp16_to_fp32(x.d);
    const float min = fp16_to_fp32(x.dmin);
    for (int sub = 0; sub < kQK / 32; ++sub) {
      uint8_t sc;
      uint8_t m;
      q4k_scale_min(sub, x.scales, &sc, &m);
      const float d1 = d * sc;
      const float m1 = min * m;
      // Even sub-blocks are the low nibbles of a 32-byte group, odd ones the high.
      const uint8_t* q = x.qs + 32 * (sub / 2);
      const int shift = 4 * (sub % 2);
      for (int l = 0; l < 32; ++l) {
        int level = (q[l] >> shift) & 0xF;
        if constexpr (std::is_same_v<Block, BlockQ5_K>) level += (x.qh[l] >> sub) & 1 ? 16 : 0;
        *dst++ = d1 * static_cast<float>(level) - m1;
      }
    }
  }
}

}  // namespace

void to_float_q4_k(const void* src, float* dst, int64_t n) {
  to_float_q4k_q5k<BlockQ4_K>(src, dst, n);
}

void to_float_q5_k(const void* src, float* dst, int64_t n) {
  to_float_q4k_q5k<BlockQ5_K>(src, dst, n);
}

void to_float_q6_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ6_K*>(src);
  for (int64_t i = 0; i < super_block_count(n); ++i, dst += kQK) {
    const BlockQ6_K& x = blocks[i];
    const float d = fp16_to_fp32(x.d);
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = x.ql + 64 * half;
      const uint8_t* qh = x.qh + 32 * half;
      const int8_t* sc = x.scales + 8 * half;
      float* y = dst + 128 * half;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l + 0] = d * sc[is + 0] * static_cast<float>(q1);
        y[l + 32] = d * sc[is + 2] * static_cast<float>(q2);
        y[l + 64] = d * sc[is + 4] * static_cast<float>(q3);
        y[l + 96] = d * sc[is + 6] * static_cast<float>(q4);
      }
    }
  }
}

void to_float_q8_k(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_K*>(src);
  for (int64_t i = 0; i < super_block_count(n); ++i) {
    for (int j = 0; j < kQK; ++j) *dst++ = blocks[i].d * static_cast<float>(blocks[i].qs[j]);
  }
}

}  // namespace locara::ops::ref
