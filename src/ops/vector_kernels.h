// The float row kernels outside matmul that are worth SIMD (exp-based softmax and SwiGLU),
// dispatched like the weight types' kernels: scalar reference, replaced per ISA at start-up.
#pragma once

#include <cstdint>

#include "ops/vector_math.h"

namespace locara::ops {

// Thread-safe: immutable after start-up. Every implementation gives the reference's bits
// (the same IEEE operations in the same order, only several lanes at a time).
struct VectorKernels {
  SoftmaxStats (*softmax)(float* x, int64_t n) = nullptr;
  void (*swiglu)(const float* gate, const float* up, float* out, int64_t n) = nullptr;
};

// The active kernels (the widest ISA cpu_features() allows) and the scalar reference.
const VectorKernels& vector_kernels();
const VectorKernels& reference_vector_kernels();

// Defined in each ISA's file; called in this order when cpu_features() allows it.
void install_avx2_vector_kernels(VectorKernels& kernels);
void install_avx512_vector_kernels(VectorKernels& kernels);
void install_neon_vector_kernels(VectorKernels& kernels);

}  // namespace locara::ops
