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

}  // namespace locara::ops::ref
