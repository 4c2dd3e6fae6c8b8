// Internal to ops/: the x86-64 SIMD kernels of the K formats (Q2_K .. Q6_K, IQ4_XS) and
// of Q8_K activation quantization, as install_kernels.cpp installs them. Declared here so
// that tests can call every ISA's kernels directly on a machine that has that ISA.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ops/kernel_table.h"

namespace locara::ops {

// Guarantees shared by both instruction sets (and what the tests check):
// - from_float_q8_k writes the reference's bytes exactly (d, levels and bsums).
// - A dot's integer sums per super-block are exact: isum = sum over sub-blocks of
//   scale * (levels . q8) and, for formats with minimums, msum = sum of min * (q8 sum);
//   each super-block then adds, in float and in this order (kquant_common.h),
//     t = d_x * float(isum);  t = t - d_min * float(msum) (one fused rounding);
//     total = t * d_y + total (fused).
//   The reference (ggml's generic code) rounds per lane (Q3_K .. Q6_K) or per sub-block
//   (IQ4_XS) instead, so results differ from it by float rounding only; but vec_dot and
//   gemm_tile, AVX2 and AVX-512, all return the same bits, so prompt processing and
//   generation agree and results do not depend on the ISA.
// - Q2_K's reference sums per super-block too; its float term follows the reference's
//   (total + ((d_y * d_x) * isum - (d_y * d_min) * msum)), so Q2_K returns the reference's
//   bits.
// - Q8_K activations hold levels in [-127, 127] (from_float never writes -128).

#define LOCARA_KQUANT_KERNEL_DECLARATIONS                                                          \
  void from_float_q8_k(const float* src, void* dst, int64_t n);                                    \
  float vec_dot_q2_k_q8_k(int64_t n, const void* x, const void* y);                                \
  float vec_dot_q3_k_q8_k(int64_t n, const void* x, const void* y);                                \
  float vec_dot_q4_k_q8_k(int64_t n, const void* x, const void* y);                                \
  float vec_dot_q5_k_q8_k(int64_t n, const void* x, const void* y);                                \
  float vec_dot_q6_k_q8_k(int64_t n, const void* x, const void* y);                                \
  float vec_dot_iq4_xs_q8_k(int64_t n, const void* x, const void* y);                              \
  void gemm_tile_q2_k(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a, \
                      size_t a_row_bytes, int64_t n_tokens, float* out, int64_t out_stride);       \
  void gemm_tile_q3_k(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a, \
                      size_t a_row_bytes, int64_t n_tokens, float* out, int64_t out_stride);       \
  void gemm_tile_q4_k(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a, \
                      size_t a_row_bytes, int64_t n_tokens, float* out, int64_t out_stride);       \
  void gemm_tile_q5_k(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a, \
                      size_t a_row_bytes, int64_t n_tokens, float* out, int64_t out_stride);       \
  void gemm_tile_q6_k(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a, \
                      size_t a_row_bytes, int64_t n_tokens, float* out, int64_t out_stride);       \
  void gemm_tile_iq4_xs(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows,              \
                        const void* a, size_t a_row_bytes, int64_t n_tokens, float* out,           \
                        int64_t out_stride);

// AVX2 + FMA + F16C (kquant_*_avx2.cpp).
namespace avx2 {
LOCARA_KQUANT_KERNEL_DECLARATIONS
}  // namespace avx2

// AVX-512 F/BW/VL/DQ + VNNI (kquant_*_avx512.cpp).
namespace avx512 {
LOCARA_KQUANT_KERNEL_DECLARATIONS
}  // namespace avx512

#undef LOCARA_KQUANT_KERNEL_DECLARATIONS

}  // namespace locara::ops
