// Internal to ops/: the x86-64 SIMD kernels of each instruction set, as
// install_kernels.cpp installs them. Declared here so that tests can call every ISA's
// kernels directly on a machine that has that ISA.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ops/kernel_table.h"

namespace locara::ops {

// Guarantees shared by both instruction sets (and what the tests check):
// - from_float of Q8_0, Q8_1, F16 and BF16 writes the reference's bytes exactly.
// - Quantized vec_dot and gemm_tile (Q4_0 .. Q8_0, IQ4_NL) return the reference's float
//   bits exactly: the integer sum of each block is exact, and the per-block float terms
//   are formed and added in the reference's order (lanes hold blocks or rows, never
//   partial sums of one block). So prompt processing (gemm_tile) and generation
//   (vec_dot) agree, and results do not depend on the ISA.
// - F32, F16 and BF16 dots accumulate in float vectors (the reference uses double), in
//   llama.cpp's order on AVX-512 (tinyBLAS, or ggml_vec_dot_* for lengths off its 16-wide
//   chunks), which AVX2 emulates: the same bits on both ISAs (vdpbf16ps aside) and, on
//   the same inputs, llama.cpp's. gemm_tile accumulates each (row, token) pair exactly as
//   vec_dot does.
// - Q8 activations must not hold -128 (from_float never writes it): AVX2's sign trick
//   cannot negate it. Weights may hold any byte.

#define LOCARA_X86_KERNEL_DECLARATIONS                                                             \
  void from_float_q8_0(const float* src, void* dst, int64_t n);                                    \
  void from_float_q8_1(const float* src, void* dst, int64_t n);                                    \
  void from_float_f16(const float* src, void* dst, int64_t n);                                     \
  void to_float_f16(const void* src, float* dst, int64_t n);                                       \
  void from_float_bf16(const float* src, void* dst, int64_t n);                                    \
  void to_float_bf16(const void* src, float* dst, int64_t n);                                      \
  float vec_dot_f32(int64_t n, const void* x, const void* y);                                      \
  float vec_dot_f16(int64_t n, const void* x, const void* y);                                      \
  float vec_dot_bf16(int64_t n, const void* x, const void* y);                                     \
  float vec_dot_q4_0_q8_0(int64_t n, const void* x, const void* y);                                \
  float vec_dot_q4_1_q8_1(int64_t n, const void* x, const void* y);                                \
  float vec_dot_q5_0_q8_0(int64_t n, const void* x, const void* y);                                \
  float vec_dot_q5_1_q8_1(int64_t n, const void* x, const void* y);                                \
  float vec_dot_q8_0_q8_0(int64_t n, const void* x, const void* y);                                \
  float vec_dot_iq4_nl_q8_0(int64_t n, const void* x, const void* y);                              \
  void gemm_tile_f32(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a,  \
                     size_t a_row_bytes, int64_t n_tokens, float* out, int64_t out_stride);        \
  void gemm_tile_f16(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a,  \
                     size_t a_row_bytes, int64_t n_tokens, float* out, int64_t out_stride);        \
  void gemm_tile_bf16(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a, \
                      size_t a_row_bytes, int64_t n_tokens, float* out, int64_t out_stride);       \
  void gemm_tile_q4_0(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a, \
                      size_t a_row_bytes, int64_t n_tokens, float* out, int64_t out_stride);       \
  void gemm_tile_q4_1(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a, \
                      size_t a_row_bytes, int64_t n_tokens, float* out, int64_t out_stride);       \
  void gemm_tile_q5_0(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a, \
                      size_t a_row_bytes, int64_t n_tokens, float* out, int64_t out_stride);       \
  void gemm_tile_q5_1(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a, \
                      size_t a_row_bytes, int64_t n_tokens, float* out, int64_t out_stride);       \
  void gemm_tile_q8_0(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a, \
                      size_t a_row_bytes, int64_t n_tokens, float* out, int64_t out_stride);       \
  void gemm_tile_iq4_nl(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows,              \
                        const void* a, size_t a_row_bytes, int64_t n_tokens, float* out,           \
                        int64_t out_stride);

// AVX2 + FMA + F16C (*_avx2.cpp).
namespace avx2 {
LOCARA_X86_KERNEL_DECLARATIONS
}  // namespace avx2

// AVX-512 F/BW/VL/DQ + VNNI (*_avx512.cpp). vec_dot_bf16 widens bf16 to f32; the
// _dpbf16 variants use AVX512_BF16's vdpbf16ps and need cpu_features().avx512_bf16.
namespace avx512 {
LOCARA_X86_KERNEL_DECLARATIONS
float vec_dot_bf16_dpbf16(int64_t n, const void* x, const void* y);
void gemm_tile_bf16_dpbf16(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows,
                           const void* a, size_t a_row_bytes, int64_t n_tokens, float* out,
                           int64_t out_stride);
}  // namespace avx512

#undef LOCARA_X86_KERNEL_DECLARATIONS

}  // namespace locara::ops
