// The per-token float ops of a transformer block (RMSNorm, SwiGLU, residual add) over a
// batch of token rows, split across the thread pool. Each row gets vector_math's bits.
#pragma once

#include <cstdint>

#include "ops/thread_pool.h"

namespace locara::ops {

// out[t] = rms_norm(x[t]) * weight for each of n_rows rows of n values.
void rms_norm_rows(ThreadPool& pool, const float* x, const float* weight, float* out,
                   int64_t n_rows, int64_t n, float eps);

// out[t] = silu(gate[t]) * up[t] for each of n_rows rows of n values (the exp split into
// groups of 16 restarts at every row, as ggml applies SwiGLU row by row).
void swiglu_rows(ThreadPool& pool, const float* gate, const float* up, float* out, int64_t n_rows,
                 int64_t n);

// out = a + b over n values.
void add_parallel(ThreadPool& pool, const float* a, const float* b, float* out, int64_t n);

}  // namespace locara::ops
