// Matrix products of a weight matrix (any type with kernels) by float activations,
// split across a thread pool. Weights are read in place from the mapping.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "gguf/tensor_type.h"
#include "ops/thread_pool.h"

namespace locara::ops {

// A weight matrix of n_rows rows, each of row_length elements of `type`, stored
// row-major with row_bytes between rows. Does not own its bytes.
struct WeightMatrix {
  TensorType type = TensorType::kF32;
  const void* data = nullptr;
  int64_t row_length = 0;  // n_in
  int64_t n_rows = 0;      // n_out
  size_t row_bytes = 0;
};

// Reusable buffer for activations converted to a weight type's vec_dot_type.
// Not thread-safe; one per execution context.
struct MatmulScratch {
  std::vector<uint8_t> converted;
};

// out[t][r] = dot(W row r, x[t]) for t < n_tokens, r < n_rows.
// x: [n_tokens][W.row_length] floats; out: [n_tokens][W.n_rows] floats.
void matmul(const WeightMatrix& weights, const float* x, int64_t n_tokens, float* out,
            MatmulScratch& scratch, ThreadPool& pool);

// Copies row `row` of the weights into dst as floats (embedding lookup).
void dequantize_row(const WeightMatrix& weights, int64_t row, float* dst);

}  // namespace locara::ops
