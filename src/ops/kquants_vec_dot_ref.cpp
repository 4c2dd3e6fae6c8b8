// Reference dots of K-format weight rows with Q8_K activation rows, as ggml's
// ggml_vec_dot_q{2..6}_K_q8_K_generic: exact integer sums per super-block (scales
// applied in integers), then float scaling. Q3_K..Q6_K keep ggml's eight float lanes
// (element e of a super-block adds to lane e % 8) so that results match its rounding.
#include <cassert>
#include <type_traits>

#include "ops/half.h"
#include "ops/kernels_ref.h"
#include "ops/quant_blocks_k.h"

namespace locara::ops::ref {
namespace {

constexpr int kQK = static_cast<int>(kSuperBlockSize);
constexpr int kLanes = 8;

int64_t super_block_count(int64_t n) {
  assert(n % kSuperBlockSize == 0);
  return n / kSuperBlockSize;
}

// Adds sum over sub-blocks s of scale[s] * (levels . q8) to the integer lanes, element e
// going to lane e % 8, as ggml's generic kernels do (sub-blocks of 16 or 32 elements).
void accumulate_lanes(const int8_t* levels, const int8_t* q8, const int* scales, int sub_size,
                      int32_t lanes[kLanes]) {
  for (int e = 0; e < kQK; ++e) {
    lanes[e % kLanes] += scales[e / sub_size] * (q8[e] * levels[e]);
  }
}

// The 2-bit field of element e in Q2_K/Q3_K's qs.
int two_bit_field(const uint8_t* qs, int e) {
  return (qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
}

// The 8 scales and 8 minimums of a Q4_K/Q5_K block.
void scales_and_mins(const uint8_t packed[12], int scales[8], int mins[8]) {
  for (int j = 0; j < 8; ++j) {
    uint8_t sc;
    uint8_t m;
    q4k_scale_min(j, packed, &sc, &m);
    scales[j] = sc;
    mins[j] = m;
  }
}

// 4-bit levels of a Q4_K/Q5_K block in element order.
void unpack_nibbles(const uint8_t* qs, int8_t levels[kQK]) {
  for (int e = 0; e < kQK; ++e) {
    levels[e] = static_cast<int8_t>((qs[32 * (e / 64) + e % 32] >> (4 * ((e / 32) % 2))) & 0xF);
  }
}

float sum_lanes(const float sums[kLanes]) {
  float total = 0.0f;
  for (int l = 0; l < kLanes; ++l) total += sums[l];
  return total;
}

}  // namespace

float vec_dot_q2_k_q8_k(int64_t n, const void* x, const void* y) {
  const auto* xb = static_cast<const BlockQ2_K*>(x);
  const auto* yb = static_cast<const BlockQ8_K*>(y);
  float sumf = 0;
  for (int64_t i = 0; i < super_block_count(n); ++i) {
    // The minimums' share: dmin * sum over 16-groups of m * (sum of q8 in the group).
    int summs = 0;
    for (int j = 0; j < 16; ++j) summs += yb[i].bsums[j] * (xb[i].scales[j] >> 4);
    const float dall = yb[i].d * fp16_to_fp32(xb[i].d);
    const float dmin = yb[i].d * fp16_to_fp32(xb[i].dmin);
    int isum = 0;
    for (int sub = 0; sub < 16; ++sub) {
      int isuml = 0;
      for (int e = 16 * sub; e < 16 * sub + 16; ++e) {
        isuml += yb[i].qs[e] * two_bit_field(xb[i].qs, e);
      }
      isum += (xb[i].scales[sub] & 0xF) * isuml;
    }
    sumf += dall * static_cast<float>(isum) - dmin * static_cast<float>(summs);
  }
  return sumf;
}

float vec_dot_q3_k_q8_k(int64_t n, const void* x, const void* y) {
  const auto* xb = static_cast<const BlockQ3_K*>(x);
  const auto* yb = static_cast<const BlockQ8_K*>(y);
  int8_t levels[kQK];
  int8_t packed_scales[16];
  int scales[16];
  float sums[kLanes] = {};
  for (int64_t i = 0; i < super_block_count(n); ++i) {
    for (int e = 0; e < kQK; ++e) {
      const bool high_set = (xb[i].hmask[e % 32] >> (e / 32)) & 1;
      levels[e] = static_cast<int8_t>(two_bit_field(xb[i].qs, e) - (high_set ? 0 : 4));
    }
    q3k_scales(xb[i].scales, packed_scales);
    for (int s = 0; s < 16; ++s) scales[s] = packed_scales[s] - 32;
    int32_t lanes[kLanes] = {};
    accumulate_lanes(levels, yb[i].qs, scales, 16, lanes);
    const float d = fp16_to_fp32(xb[i].d) * yb[i].d;
    for (int l = 0; l < kLanes; ++l) sums[l] += d * static_cast<float>(lanes[l]);
  }
  return sum_lanes(sums);
}

namespace {

// Q4_K, and Q5_K whose bit 4 of element e is bit e / 32 of qh[e % 32].
template <class Block>
float dot_q4k_q5k(int64_t n, const void* x, const void* y) {
  const auto* xb = static_cast<const Block*>(x);
  const auto* yb = static_cast<const BlockQ8_K*>(y);
  int8_t levels[kQK];
  int scales[8];
  int mins[8];
  float sums[kLanes] = {};
  float sumf = 0;
  for (int64_t i = 0; i < super_block_count(n); ++i) {
    unpack_nibbles(xb[i].qs, levels);
    if constexpr (std::is_same_v<Block, BlockQ5_K>) {
      for (int e = 0; e < kQK; ++e) {
        if ((xb[i].qh[e % 32] >> (e / 32)) & 1) levels[e] = static_cast<int8_t>(levels[e] + 16);
      }
    }
    scales_and_mins(xb[i].scales, scales, mins);
    int sumi = 0;
    for (int j = 0; j < 16; ++j) sumi += yb[i].bsums[j] * mins[j / 2];
    int32_t lanes[kLanes] = {};
    accumulate_lanes(levels, yb[i].qs, scales, 32, lanes);
    const float d = fp16_to_fp32(xb[i].d) * yb[i].d;
    for (int l = 0; l < kLanes; ++l) sums[l] += d * static_cast<float>(lanes[l]);
    const float dmin = fp16_to_fp32(xb[i].dmin) * yb[i].d;
    sumf -= dmin * static_cast<float>(sumi);
  }
  return sumf + sum_lanes(sums);
}

}  // namespace

float vec_dot_q4_k_q8_k(int64_t n, const void* x, const void* y) {
  return dot_q4k_q5k<BlockQ4_K>(n, x, y);
}

float vec_dot_q5_k_q8_k(int64_t n, const void* x, const void* y) {
  return dot_q4k_q5k<BlockQ5_K>(n, x, y);
}

float vec_dot_q6_k_q8_k(int64_t n, const void* x, const void* y) {
  const auto* xb = static_cast<const BlockQ6_K*>(x);
  const auto* yb = static_cast<const BlockQ8_K*>(y);
  int8_t levels[kQK];
  int scales[16];
  float sums[kLanes] = {};
  for (int64_t i = 0; i < super_block_count(n); ++i) {
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = xb[i].ql + 64 * half;
      const uint8_t* qh = xb[i].qh + 32 * half;
      int8_t* a = levels + 128 * half;
      for (int l = 0; l < 32; ++l) {
        a[l + 0] = static_cast<int8_t>(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
        a[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        a[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        a[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    for (int s = 0; s < 16; ++s) scales[s] = xb[i].scales[s];
    int32_t lanes[kLanes] = {};
    accumulate_lanes(levels, yb[i].qs, scales, 16, lanes);
    const float d = fp16_to_fp32(xb[i].d) * yb[i].d;
    for (int l = 0; l < kLanes; ++l) sums[l] += d * static_cast<float>(lanes[l]);
  }
  return sum_lanes(sums);
}

}  // namespace locara::ops::ref
