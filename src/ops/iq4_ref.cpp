// Reference kernels of the non-linear 4-bit formats IQ4_NL (32-element blocks, dot with
// Q8_0) and IQ4_XS (256-element super-blocks with 6-bit sub-block scales, dot with Q8_K).
// Quantization is ggml's quantize_iq4_nl / quantize_iq4_xs without importance weights
// (what llama-quantize runs): per 32 values, a least-squares scale searched over 15
// candidates, each value mapped to the nearest of the 16 levels.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

#include "ops/half.h"
#include "ops/kernels_ref.h"
#include "ops/kquants_scale_search.h"
#include "ops/quant_blocks_k.h"

namespace locara::ops::ref {
namespace {

using kquants::best_iq4_index;
using kquants::nearest_int;

constexpr int kBlock = static_cast<int>(kQuantBlockSize);
constexpr int kHalf = kBlock / 2;
constexpr int kSubBlocks = static_cast<int>(kSuperBlockSize) / kBlock;
// Candidate scales tried each side of the first guess (ggml's ntry).
constexpr int kScaleTries = 7;

float level(int index) {
  return static_cast<float>(kIq4nlValues[index]);
}

// The best scale for 32 values and their level indices under it (weights x^2), as
// ggml's quantize_row_iq4_nl_impl does per block: start from max|x| -> -127 (the
// largest level in magnitude), fit, then try (values[0] + t) / max for |t| <= 7.
float fit_block_scale(const float* xb, uint8_t* L) {
  float weight[kBlock];
  for (int j = 0; j < kBlock; ++j) weight[j] = xb[j] * xb[j];
  float amax = 0;
  float max = 0;
  for (int j = 0; j < kBlock; ++j) {
    const float ax = std::fabs(xb[j]);
    if (ax > amax) {
      amax = ax;
      max = xb[j];
    }
  }
  if (amax < 1e-15f) {  // ggml's GROUP_MAX_EPS
    std::fill(L, L + kBlock, uint8_t{0});
    return 0.0f;
  }
  float d = -max / level(0);
  float id = 1 / d;
  float sumqx = 0;
  float sumq2 = 0;
  for (int j = 0; j < kBlock; ++j) {
    const int l = best_iq4_index(id * xb[j]);
    L[j] = static_cast<uint8_t>(l);
    const float q = level(l);
    sumqx += weight[j] * q * xb[j];
    sumq2 += weight[j] * q * q;
  }
  d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
  float best = d * sumqx;
  for (int itry = -kScaleTries; itry <= kScaleTries; ++itry) {
    id = static_cast<float>(itry + kIq4nlValues[0]) / max;
    sumqx = 0;
    sumq2 = 0;
    for (int j = 0; j < kBlock; ++j) {
      const float q = level(best_iq4_index(id * xb[j]));
      sumqx += weight[j] * q * xb[j];
      sumq2 += weight[j] * q * q;
    }
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      d = sumqx / sumq2;
      best = d * sumqx;
    }
  }
  return d;
}

void pack_levels(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kHalf; ++j) qs[j] = static_cast<uint8_t>(L[j] | (L[j + kHalf] << 4));
}

}  // namespace

void to_float_iq4_nl(const void* src, float* dst, int64_t n) {
  assert(n % kBlock == 0);
  const auto* blocks = static_cast<const BlockIQ4_NL*>(src);
  for (int64_t i = 0; i < n / kBlock; ++i, dst += kBlock) {
    const float d = fp16_to_fp32(blocks[i].d);
    for (int j = 0; j < kHalf; ++j) {
      dst[j] = d * level(blocks[i].qs[j] & 0xF);
      dst[j + kHalf] = d * level(blocks[i].qs[j] >> 4);
    }
  }
}

void from_float_iq4_nl(const float* src, void* dst, int64_t n) {
  assert(n % kBlock == 0);
  auto* blocks = static_cast<BlockIQ4_NL*>(dst);
  uint8_t L[kBlock];
  for (int64_t i = 0; i < n / kBlock; ++i, src += kBlock) {
    const float scale = fit_block_scale(src, L);
    blocks[i].d = fp32_to_fp16(scale);
    // Re-level under the final scale (the unrounded float, as ggml).
    const float id = scale != 0.0f ? 1 / scale : 0.0f;
    for (int j = 0; j < kBlock; ++j) L[j] = static_cast<uint8_t>(best_iq4_index(id * src[j]));
    pack_levels(L, blocks[i].qs);
  }
}

float vec_dot_iq4_nl_q8_0(int64_t n, const void* x, const void* y) {
  assert(n % kBlock == 0);
  const auto* xb = static_cast<const BlockIQ4_NL*>(x);
  const auto* yb = static_cast<const BlockQ8_0*>(y);
  float sumf = 0;
  for (int64_t i = 0; i < n / kBlock; ++i) {
    const float d = fp16_to_fp32(yb[i].d) * fp16_to_fp32(xb[i].d);
    int sumi1 = 0;
    int sumi2 = 0;
    for (int j = 0; j < kHalf; ++j) {
      sumi1 += yb[i].qs[j] * kIq4nlValues[xb[i].qs[j] & 0xF];
      sumi2 += yb[i].qs[j + kHalf] * kIq4nlValues[xb[i].qs[j] >> 4];
    }
    sumf += d * static_cast<float>(sumi1 + sumi2);
  }
  return sumf;
}

void to_float_iq4_xs(const void* src, float* dst, int64_t n) {
  assert(n % kSuperBlockSize == 0);
  const auto* blocks = static_cast<const BlockIQ4_XS*>(src);
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    const BlockIQ4_XS& x = blocks[i];
    const float d = fp16_to_fp32(x.d);
    for (int ib = 0; ib < kSubBlocks; ++ib, dst += kBlock) {
      const int ls =
          ((x.scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((x.scales_h >> (2 * ib)) & 3) << 4);
      const float dl = d * static_cast<float>(ls - 32);
      const uint8_t* qs = x.qs + kHalf * ib;
      for (int j = 0; j < kHalf; ++j) {
        dst[j] = dl * level(qs[j] & 0xF);
        dst[j + kHalf] = dl * level(qs[j] >> 4);
      }
    }
  }
}

void from_float_iq4_xs(const float* src, void* dst, int64_t n) {
  assert(n % kSuperBlockSize == 0);
  auto* blocks = static_cast<BlockIQ4_XS*>(dst);
  uint8_t L[kSuperBlockSize];
  float scales[kSubBlocks];
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i, src += kSuperBlockSize) {
    BlockIQ4_XS& y = blocks[i];
    float max_scale = 0;  // the sub-block scale of largest magnitude, with its sign
    float amax_scale = 0;
    for (int ib = 0; ib < kSubBlocks; ++ib) {
      scales[ib] = fit_block_scale(src + kBlock * ib, L + kBlock * ib);
      const float abs_d = std::fabs(scales[ib]);
      if (abs_d > amax_scale) {
        amax_scale = abs_d;
        max_scale = scales[ib];
      }
    }
    // 6-bit signed sub-block scales under d, whose sign makes the largest one -32.
    const float d = -max_scale / 32;
    y.d = fp32_to_fp16(d);
    y.scales_h = 0;
    const float id = d != 0.0f ? 1 / d : 0.f;
    for (int ib = 0; ib < kSubBlocks; ++ib) {
      int l = nearest_int(id * scales[ib]);
      l = std::max(-32, std::min(31, l));
      const float dl = d * static_cast<float>(l);
      const float idl = dl != 0.0f ? 1 / dl : 0.f;
      uint8_t* Lb = L + kBlock * ib;
      const float* xb = src + kBlock * ib;
      for (int j = 0; j < kBlock; ++j) Lb[j] = static_cast<uint8_t>(best_iq4_index(idl * xb[j]));
      l += 32;
      const auto l_low = static_cast<uint8_t>(l & 0xF);
      const auto l_high = static_cast<uint16_t>(l >> 4);
      if (ib % 2 == 0) {
        y.scales_l[ib / 2] = l_low;
      } else {
        y.scales_l[ib / 2] |= static_cast<uint8_t>(l_low << 4);
      }
      y.scales_h = static_cast<uint16_t>(y.scales_h | (l_high << (2 * (ib % 8))));
    }
    for (int ib = 0; ib < kSubBlocks; ++ib) pack_levels(L + kBlock * ib, y.qs + kHalf * ib);
  }
}

float vec_dot_iq4_xs_q8_k(int64_t n, const void* x, const void* y) {
  assert(n % kSuperBlockSize == 0);
  const auto* xb = static_cast<const BlockIQ4_XS*>(x);
  const auto* yb = static_cast<const BlockQ8_K*>(y);
  float sumf = 0;
  for (int64_t i = 0; i < n / kSuperBlockSize; ++i) {
    const float d4d8 = fp16_to_fp32(xb[i].d) * yb[i].d;
    for (int ib = 0; ib < kSubBlocks; ++ib) {
      const int ls = ((xb[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) |
                     (((xb[i].scales_h >> (2 * ib)) & 3) << 4);
      const float dl = d4d8 * static_cast<float>(ls - 32);
      const uint8_t* qs = xb[i].qs + kHalf * ib;
      const int8_t* q8 = yb[i].qs + kBlock * ib;
      int sumi1 = 0;
      int sumi2 = 0;
      for (int j = 0; j < kHalf; ++j) {
        sumi1 += q8[j] * kIq4nlValues[qs[j] & 0xF];
        sumi2 += q8[j + kHalf] * kIq4nlValues[qs[j] >> 4];
      }
      sumf += dl * static_cast<float>(sumi1 + sumi2);
    }
  }
  return sumf;
}

}  // namespace locara::ops::ref
