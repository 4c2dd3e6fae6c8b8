// Reference quantization into the K formats: ggml's quantize_row_q{2..6,8}_K_ref step for
// step, which is what llama-quantize runs without an importance matrix. Each picks a
// scale (and minimum) per 16- or 32-element sub-block, quantizes those to 4, 6 or 8 bits
// against a super-block scale, then re-levels every element under the rounded scales.
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

using kquants::make_q3_quants;
using kquants::make_qkx2_quants;
using kquants::make_qx_quants;
using kquants::nearest_int;

constexpr int kQK = static_cast<int>(kSuperBlockSize);

int64_t super_block_count(int64_t n) {
  assert(n % kSuperBlockSize == 0);
  return n / kSuperBlockSize;
}

// Packs 256 2-bit levels as Q2_K/Q3_K store them: element 128h + 32k + l in bits 2k of
// qs[32h + l].
void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kQK; j += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[j / 4 + l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                           (L[j + l + 96] << 6));
    }
  }
}

// Stores the 6-bit scale and minimum of sub-block j of a Q4_K/Q5_K block (the inverse of
// q4k_scale_min); sub-blocks 0..3 must be stored before 4..7.
void store_scale_min(int j, uint8_t ls, uint8_t lm, uint8_t scales[12]) {
  if (j < 4) {
    scales[j] = ls;
    scales[j + 4] = lm;
  } else {
    scales[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
    scales[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
    scales[j] |= static_cast<uint8_t>((lm >> 4) << 6);
  }
}

// The shared part of Q4_K and Q5_K: levels in [0, nmax] under 6-bit scales and minimums
// of each 32-element sub-block. Fills d, dmin, scales and L (256 levels).
void quantize_scale_min_block(const float* x, int nmax, float rmin, float rdelta, int nstep,
                              uint16_t* d_out, uint16_t* dmin_out, uint8_t scales_out[12],
                              uint8_t L[kQK]) {
  float weights[32];
  uint8_t laux[32];
  float mins[kQK / 32];
  float scales[kQK / 32];
  float max_scale = 0;  // scales are positive once the minimum is taken out
  float max_min = 0;
  for (int j = 0; j < kQK / 32; ++j) {
    const float* xb = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xb[l] * xb[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xb[l]);
    scales[j] = make_qkx2_quants(32, nmax, xb, weights, L + 32 * j, &mins[j], laux, rmin, rdelta,
                                 nstep, false);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  for (int j = 0; j < kQK / 32; ++j) {
    // ggml stores the rounded value in a byte before clamping; keep its wrap-around.
    const auto ls = static_cast<uint8_t>(nearest_int(inv_scale * scales[j]));
    const auto lm = static_cast<uint8_t>(nearest_int(inv_min * mins[j]));
    store_scale_min(j, std::min<uint8_t>(63, ls), std::min<uint8_t>(63, lm), scales_out);
  }
  *d_out = fp32_to_fp16(max_scale / 63.f);
  *dmin_out = fp32_to_fp16(max_min / 63.f);

  // Re-level every element under the scales as stored.
  for (int j = 0; j < kQK / 32; ++j) {
    uint8_t sc;
    uint8_t m;
    q4k_scale_min(j, scales_out, &sc, &m);
    const float d = fp16_to_fp32(*d_out) * sc;
    if (d == 0.0f) continue;
    const float dm = fp16_to_fp32(*dmin_out) * m;
    for (int ii = 0; ii < 32; ++ii) {
      const int l = nearest_int((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    }
  }
}

}  // namespace

void from_float_q2_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ2_K*>(dst);
  uint8_t L[kQK];
  uint8_t laux[16];
  float weights[16];
  float mins[kQK / 16];
  float scales[kQK / 16];
  const float q4scale = 15.f;
  for (int64_t i = 0; i < super_block_count(n); ++i, src += kQK) {
    BlockQ2_K& y = blocks[i];
    float max_scale = 0;
    float max_min = 0;
    for (int j = 0; j < kQK / 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(src[16 * j + l]);
      scales[j] = make_qkx2_quants(16, 3, src + 16 * j, weights, L + 16 * j, &mins[j], laux, -0.5f,
                                   0.1f, 15, true);
      max_scale = std::max(max_scale, scales[j]);
      max_min = std::max(max_min, mins[j]);
    }
    // 4-bit scales in the low nibbles, 4-bit minimums in the high ones.
    if (max_scale > 0) {
      const float iscale = q4scale / max_scale;
      for (int j = 0; j < kQK / 16; ++j) {
        y.scales[j] = static_cast<uint8_t>(nearest_int(iscale * scales[j]));
      }
      y.d = fp32_to_fp16(max_scale / q4scale);
    } else {
      std::fill(y.scales, y.scales + kQK / 16, uint8_t{0});
      y.d = fp32_to_fp16(0.f);
    }
    if (max_min > 0) {
      const float iscale = q4scale / max_min;
      for (int j = 0; j < kQK / 16; ++j) {
        y.scales[j] |=
            static_cast<uint8_t>(static_cast<unsigned>(nearest_int(iscale * mins[j])) << 4);
      }
      y.dmin = fp32_to_fp16(max_min / q4scale);
    } else {
      y.dmin = fp32_to_fp16(0.f);
    }
    for (int j = 0; j < kQK / 16; ++j) {
      const float d = fp16_to_fp32(y.d) * (y.scales[j] & 0xF);
      if (d == 0.0f) continue;
      const float dm = fp16_to_fp32(y.dmin) * (y.scales[j] >> 4);
      for (int ii = 0; ii < 16; ++ii) {
        const int l = nearest_int((src[16 * j + ii] + dm) / d);
        L[16 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(3, l)));
      }
    }
    pack_2bit(L, y.qs);
  }
}

void from_float_q3_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ3_K*>(dst);
  int8_t L[kQK];
  float scales[kQK / 16];
  for (int64_t i = 0; i < super_block_count(n); ++i, src += kQK) {
    BlockQ3_K& y = blocks[i];
    float max_scale = 0;  // the scale of largest magnitude, with its sign
    float amax = 0;
    for (int j = 0; j < kQK / 16; ++j) {
      scales[j] = make_q3_quants(16, 4, src + 16 * j, L + 16 * j, true);
      const float scale = std::fabs(scales[j]);
      if (scale > amax) {
        amax = scale;
        max_scale = scales[j];
      }
    }
    std::memset(y.scales, 0, sizeof(y.scales));
    if (max_scale != 0.0f) {
      const float iscale = -32.f / max_scale;
      for (int j = 0; j < kQK / 16; ++j) {
        auto l = static_cast<int8_t>(nearest_int(iscale * scales[j]));
        l = static_cast<int8_t>(std::max<int>(-32, std::min<int>(31, l)) + 32);
        if (j < 8) {
          y.scales[j] = l & 0xF;
        } else {
          y.scales[j - 8] |= static_cast<uint8_t>((l & 0xF) << 4);
        }
        l = static_cast<int8_t>(l >> 4);
        y.scales[j % 4 + 8] |= static_cast<uint8_t>(l << (2 * (j / 4)));
      }
      y.d = fp32_to_fp16(1 / iscale);
    } else {
      y.d = fp32_to_fp16(0.f);
    }
    int8_t unpacked[16];
    q3k_scales(y.scales, unpacked);
    for (int j = 0; j < kQK / 16; ++j) {
      const float d = fp16_to_fp32(y.d) * static_cast<float>(unpacked[j] - 32);
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) {
        const int l = nearest_int(src[16 * j + ii] / d);
        L[16 * j + ii] = static_cast<int8_t>(std::max(-4, std::min(3, l)) + 4);
      }
    }
    // Bit 2 of each level goes to hmask (element 32k + l -> bit k of hmask[l]).
    std::memset(y.hmask, 0, sizeof(y.hmask));
    for (int j = 0; j < kQK; ++j) {
      if (L[j] > 3) {
        y.hmask[j % 32] |= static_cast<uint8_t>(1u << (j / 32));
        L[j] = static_cast<int8_t>(L[j] - 4);
      }
    }
    pack_2bit(reinterpret_cast<const uint8_t*>(L), y.qs);
  }
}

void from_float_q4_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ4_K*>(dst);
  uint8_t L[kQK];
  for (int64_t i = 0; i < super_block_count(n); ++i, src += kQK) {
    BlockQ4_K& y = blocks[i];
    quantize_scale_min_block(src, 15, -1.f, 0.1f, 20, &y.d, &y.dmin, y.scales, L);
    uint8_t* q = y.qs;
    for (int j = 0; j < kQK; j += 64, q += 32) {
      for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
    }
  }
}

void from_float_q5_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ5_K*>(dst);
  uint8_t L[kQK];
  for (int64_t i = 0; i < super_block_count(n); ++i, src += kQK) {
    BlockQ5_K& y = blocks[i];
    quantize_scale_min_block(src, 31, -0.5f, 0.1f, 15, &y.d, &y.dmin, y.scales, L);
    std::memset(y.qh, 0, sizeof(y.qh));
    uint8_t* ql = y.qs;
    uint8_t m1 = 1;
    uint8_t m2 = 2;
    for (int j0 = 0; j0 < kQK; j0 += 64, ql += 32) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[j0 + j];
        if (l1 > 15) {
          l1 -= 16;
          y.qh[j] |= m1;
        }
        int l2 = L[j0 + j + 32];
        if (l2 > 15) {
          l2 -= 16;
          y.qh[j] |= m2;
        }
        ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
      }
      m1 = static_cast<uint8_t>(m1 << 2);
      m2 = static_cast<uint8_t>(m2 << 2);
    }
  }
}

void from_float_q6_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ6_K*>(dst);
  int8_t L[kQK];
  float scales[kQK / 16];
  for (int64_t i = 0; i < super_block_count(n); ++i, src += kQK) {
    BlockQ6_K& y = blocks[i];
    float max_scale = 0;
    float max_abs_scale = 0;
    for (int ib = 0; ib < kQK / 16; ++ib) {
      const float scale = make_qx_quants(16, 32, src + 16 * ib, L + 16 * ib, 1);
      scales[ib] = scale;
      const float abs_scale = std::fabs(scale);
      if (abs_scale > max_abs_scale) {
        max_abs_scale = abs_scale;
        max_scale = scale;
      }
    }
    if (max_abs_scale < 1e-15f) {  // an all-zero block (ggml's GROUP_MAX_EPS)
      std::memset(&y, 0, sizeof(y));
      y.d = fp32_to_fp16(0.f);
      continue;
    }
    const float iscale = -128.f / max_scale;
    y.d = fp32_to_fp16(1 / iscale);
    for (int ib = 0; ib < kQK / 16; ++ib) {
      y.scales[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
    }
    for (int j = 0; j < kQK / 16; ++j) {
      const float d = fp16_to_fp32(y.d) * y.scales[j];
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) {
        const int l = nearest_int(src[16 * j + ii] / d);
        L[16 * j + ii] = static_cast<int8_t>(std::max(-32, std::min(31, l)) + 32);
      }
    }
    uint8_t* ql = y.ql;
    uint8_t* qh = y.qh;
    for (int j = 0; j < kQK; j += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; ++l) {
        const int q1 = L[j + l + 0] & 0xF;
        const int q2 = L[j + l + 32] & 0xF;
        const int q3 = L[j + l + 64] & 0xF;
        const int q4 = L[j + l + 96] & 0xF;
        ql[l + 0] = static_cast<uint8_t>(q1 | (q3 << 4));
        ql[l + 32] = static_cast<uint8_t>(q2 | (q4 << 4));
        qh[l] = static_cast<uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                                     ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
      }
    }
  }
}

void from_float_q8_k(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < super_block_count(n); ++i, src += kQK) {
    BlockQ8_K& y = blocks[i];
    float max = 0;
    float amax = 0;
    for (int j = 0; j < kQK; ++j) {
      const float ax = std::fabs(src[j]);
      if (ax > amax) {
        amax = ax;
        max = src[j];
      }
    }
    if (amax == 0.0f) {
      std::memset(&y, 0, sizeof(y));  // ggml leaves bsums as they were; we clear them
      continue;
    }
    // -127 rather than -128 keeps every level in [-127, 127] (ggml needs that for IQ2).
    const float iscale = -127.f / max;
    for (int j = 0; j < kQK; ++j) {
      y.qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * src[j])));
    }
    for (int j = 0; j < kQK / 16; ++j) {
      int sum = 0;
      for (int ii = 0; ii < 16; ++ii) sum += y.qs[j * 16 + ii];
      y.bsums[j] = static_cast<int16_t>(sum);
    }
    y.d = 1 / iscale;
  }
}

}  // namespace locara::ops::ref
