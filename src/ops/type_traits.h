// The kernel seam: for each tensor type, the functions that convert and multiply its rows.
// Reference (scalar) kernels fill the table; SIMD kernels replace entries at start-up.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/tensor_type.h"

namespace locara::ops {

// Converts n elements (a multiple of the block size) of type T to float.
using ToFloatFn = void (*)(const void* src, float* dst, int64_t n);
// Quantizes/converts n floats into type T (reference rounding, as ggml's *_ref).
using FromFloatFn = void (*)(const float* src, void* dst, int64_t n);
// Dot product of n elements: x is a row of type T, y a row of T's vec_dot_type.
using VecDotFn = float (*)(int64_t n, const void* x, const void* y);

// A tile of a matrix product: for r < n_rows and t < n_tokens,
//   out[t * out_stride + r] = dot(weight row r, activation row t)
// over n elements, with weight rows weight_row_bytes apart (type T) and activation
// rows activation_row_bytes apart (T's vec_dot_type). A tile kernel unpacks each weight
// block once and reuses it for every token, which is what makes prompt processing
// compute-bound rather than bound by reading weights. Results equal vec_dot's up to
// float summation order. Callers keep tiles small enough for the caches.
using GemmTileFn = void (*)(int64_t n, const void* weights, size_t weight_row_bytes,
                            int64_t n_rows, const void* activations,
                            size_t activation_row_bytes, int64_t n_tokens, float* out,
                            int64_t out_stride);

// Thread-safe: immutable after start-up.
struct TypeTraits {
  ToFloatFn to_float = nullptr;
  FromFloatFn from_float = nullptr;
  VecDotFn vec_dot = nullptr;
  // The type activations are converted to before vec_dot, as ggml chooses it
  // (Q4_0/Q5_0/Q8_0 -> Q8_0, Q4_1/Q5_1 -> Q8_1, F16 -> F16, BF16 -> BF16, F32 -> F32).
  TensorType vec_dot_type = TensorType::kF32;
  // Geometry of T, so that callers can size rows without the GGUF layer's tables.
  int64_t block_size = 1;  // elements per block
  size_t type_size = 0;    // bytes per block
  GemmTileFn gemm_tile = nullptr;  // optional; matmul falls back to vec_dot per pair

  // Bytes of a row of n elements (n a multiple of block_size).
  size_t row_bytes(int64_t n) const { return static_cast<size_t>(n / block_size) * type_size; }
};

// The active table: what the forward pass calls. nullptr when the type has no kernels
// (yet). Entries without a vec_dot (Q8_1) only convert. Every entry's vec_dot_type has an
// entry with a from_float.
const TypeTraits* type_traits(TensorType type);
// The scalar reference table, kept for testing the fast kernels against.
const TypeTraits* reference_type_traits(TensorType type);

}  // namespace locara::ops
