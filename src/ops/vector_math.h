// Float kernels of the transformer block: normalisation, rotary embedding, softmax,
// activations. Each follows ggml's arithmetic (accumulation widths, operation order).
#pragma once

#include <cstdint>

namespace locara::ops {

// out = x / sqrt(mean(x^2) + eps) * weight  (sum of squares accumulated in double).
void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps);

// Rotates adjacent pairs (x[2i], x[2i+1]) of each of n_heads heads of head_dim
// values by position * freq_scale * base^(-2i/rope_dims) ("normal" RoPE, as llama).
// Only the first rope_dims values of each head rotate. freq_factors (rope_dims / 2
// values, or null) divide each pair's angle, as Llama 3.1's long-context scaling does.
void rope_normal(float* x, int64_t n_heads, int64_t head_dim, int64_t rope_dims, int64_t position,
                 float freq_base, float freq_scale, const float* freq_factors = nullptr);

// exp(x) as ggml's vector kernels compute it (a degree-5 polynomial after range
// reduction, within 2 ulp of expf). llama.cpp's softmax and SiLU use it, and using
// libm's expf instead flips enough f16 roundings downstream to drift from its logits.
float vector_expf(float x);

// The max of a softmax's inputs and the sum of exp(x - max) it divided by, so that
// softmaxes over pieces of a row can be merged (online softmax).
struct SoftmaxStats {
  float max = 0.0f;
  double sum = 0.0;
};

// In place: x = softmax(x) over n values (max subtracted, sum in double). Whole groups
// of 16 use vector_expf and are summed group by group; the tail uses expf, as in ggml.
// Runs the active SIMD kernel (vector_kernels.h); softmax_ref is the scalar reference.
SoftmaxStats softmax(float* x, int64_t n);
SoftmaxStats softmax_ref(float* x, int64_t n);

// out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)) with the same exp split.
void swiglu(const float* gate, const float* up, float* out, int64_t n);
void swiglu_ref(const float* gate, const float* up, float* out, int64_t n);

// out[i] = a[i] + b[i]
void add(const float* a, const float* b, float* out, int64_t n);

// Index of the largest value (lowest index on ties).
int64_t argmax(const float* x, int64_t n);

}  // namespace locara::ops
