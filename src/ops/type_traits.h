// The kernel seam: for each tensor type, the functions that convert and multiply its rows.
// Reference (scalar) kernels fill the table; SIMD kernels replace entries at start-up.
#pragma once

#include <cstdint>

#include "gguf/tensor_type.h"

namespace locara::ops {

// Converts n elements (a multiple of the block size) of type T to float.
using ToFloatFn = void (*)(const void* src, float* dst, int64_t n);
// Quantizes/converts n floats into type T (reference rounding, as ggml's *_ref).
using FromFloatFn = void (*)(const float* src, void* dst, int64_t n);
// Dot product of n elements: x is a row of type T, y a row of T's vec_dot_type.
using VecDotFn = float (*)(int64_t n, const void* x, const void* y);

// Thread-safe: immutable after start-up.
struct TypeTraits {
  ToFloatFn to_float = nullptr;
  FromFloatFn from_float = nullptr;
  VecDotFn vec_dot = nullptr;
  // The type activations are converted to before vec_dot, as ggml chooses it
  // (Q4_0/Q5_0/Q8_0 -> Q8_0, Q4_1/Q5_1 -> Q8_1, F16 -> F16, BF16 -> BF16, F32 -> F32).
  TensorType vec_dot_type = TensorType::kF32;
};

// nullptr when the type has no kernels (yet).
const TypeTraits* type_traits(TensorType type);
// The scalar reference table, kept for testing the fast kernels against.
const TypeTraits* reference_type_traits(TensorType type);

}  // namespace locara::ops
