// The scalar reference kernels behind reference_type_traits(): row conversions and dot
// products per type, each following ggml's scalar code operation for operation.
#pragma once

#include <cstdint>

// Internal to ops/: the rest of the engine reaches these through type_traits.h. All are
// pure functions of their arguments (thread-safe). n is a multiple of the type's block
// size; the signatures match ToFloatFn, FromFloatFn and VecDotFn.
namespace locara::ops::ref {

// Plain floats (convert_ref.cpp). Dots multiply in float and accumulate in double, as
// ggml's scalar path does (its ggml_float).
void to_float_f32(const void* src, float* dst, int64_t n);
void from_float_f32(const float* src, void* dst, int64_t n);
float vec_dot_f32(int64_t n, const void* x, const void* y);

void to_float_f16(const void* src, float* dst, int64_t n);
void from_float_f16(const float* src, void* dst, int64_t n);
float vec_dot_f16(int64_t n, const void* x, const void* y);

void to_float_bf16(const void* src, float* dst, int64_t n);
void from_float_bf16(const float* src, void* dst, int64_t n);
float vec_dot_bf16(int64_t n, const void* x, const void* y);

// Block quantization (quantize_ref.cpp): dequantize_row_* and quantize_row_*_ref of ggml.
void to_float_q4_0(const void* src, float* dst, int64_t n);
void from_float_q4_0(const float* src, void* dst, int64_t n);
void to_float_q4_1(const void* src, float* dst, int64_t n);
void from_float_q4_1(const float* src, void* dst, int64_t n);
void to_float_q5_0(const void* src, float* dst, int64_t n);
void from_float_q5_0(const float* src, void* dst, int64_t n);
void to_float_q5_1(const void* src, float* dst, int64_t n);
void from_float_q5_1(const float* src, void* dst, int64_t n);
void to_float_q8_0(const void* src, float* dst, int64_t n);
void from_float_q8_0(const float* src, void* dst, int64_t n);
void to_float_q8_1(const void* src, float* dst, int64_t n);
void from_float_q8_1(const float* src, void* dst, int64_t n);

// Quantized dots (vec_dot_ref.cpp): integer sums per block, scaled in float per block.
float vec_dot_q4_0_q8_0(int64_t n, const void* x, const void* y);
float vec_dot_q4_1_q8_1(int64_t n, const void* x, const void* y);
float vec_dot_q5_0_q8_0(int64_t n, const void* x, const void* y);
float vec_dot_q5_1_q8_1(int64_t n, const void* x, const void* y);
float vec_dot_q8_0_q8_0(int64_t n, const void* x, const void* y);

// K formats on 256-element super-blocks (quant_blocks_k.h): dequantize_row_q*_K
// (kquants_dequantize_ref.cpp), quantize_row_q*_K_ref (kquants_quantize_ref.cpp) and the
// *_q8_K_generic dots (kquants_vec_dot_ref.cpp). Q8_K holds activations only.
void to_float_q2_k(const void* src, float* dst, int64_t n);
void from_float_q2_k(const float* src, void* dst, int64_t n);
void to_float_q3_k(const void* src, float* dst, int64_t n);
void from_float_q3_k(const float* src, void* dst, int64_t n);
void to_float_q4_k(const void* src, float* dst, int64_t n);
void from_float_q4_k(const float* src, void* dst, int64_t n);
void to_float_q5_k(const void* src, float* dst, int64_t n);
void from_float_q5_k(const float* src, void* dst, int64_t n);
void to_float_q6_k(const void* src, float* dst, int64_t n);
void from_float_q6_k(const float* src, void* dst, int64_t n);
void to_float_q8_k(const void* src, float* dst, int64_t n);
void from_float_q8_k(const float* src, void* dst, int64_t n);
float vec_dot_q2_k_q8_k(int64_t n, const void* x, const void* y);
float vec_dot_q3_k_q8_k(int64_t n, const void* x, const void* y);
float vec_dot_q4_k_q8_k(int64_t n, const void* x, const void* y);
float vec_dot_q5_k_q8_k(int64_t n, const void* x, const void* y);
float vec_dot_q6_k_q8_k(int64_t n, const void* x, const void* y);

// Non-linear 4-bit formats (iq4_ref.cpp): IQ4_NL (32-element blocks, dots with Q8_0) and
// IQ4_XS (super-blocks, dots with Q8_K); from_float is llama-quantize's quantize_iq4_*.
void to_float_iq4_nl(const void* src, float* dst, int64_t n);
void from_float_iq4_nl(const float* src, void* dst, int64_t n);
float vec_dot_iq4_nl_q8_0(int64_t n, const void* x, const void* y);
void to_float_iq4_xs(const void* src, float* dst, int64_t n);
void from_float_iq4_xs(const float* src, void* dst, int64_t n);
float vec_dot_iq4_xs_q8_k(int64_t n, const void* x, const void* y);

}  // namespace locara::ops::ref
