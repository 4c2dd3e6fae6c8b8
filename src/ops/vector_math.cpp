#include "ops/vector_math.h"

#include <cassert>
#include <cmath>

#include "ops/vector_kernels.h"

namespace locara::ops {

float vector_expf(float x) {
  // exp(x) = 2^n * exp(b), n = round(x / ln2) found with the 1.5 * 2^23 shift trick,
  // b = x - n ln2 in two parts, exp(b) by a degree-5 polynomial in FMAs, then an exact
  // scaling by 2^n; |n| > 192 flushes to 0 or infinity.
  const float shift = 0x1.8p23f;
  const float z = std::fma(x, 0x1.715476p+0f, shift);
  const float n = z - shift;
  const float b = std::fma(-n, 0x1.7f7d1cp-20f, std::fma(-n, 0x1.62e4p-1f, x));
  if (std::fabs(n) > 192.0f) return n <= 0.0f ? 0.0f : INFINITY;
  const float u = b * b;
  const float j = std::fma(std::fma(std::fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                                    std::fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                           u, std::fma(0x1.ffffecp-1f, b, 1.0f));
  return std::ldexp(j, static_cast<int>(n));
}

namespace {

// Sum of 16 values in the pairwise order of a 512-bit horizontal add.
float sum_of_16(const float* v) {
  float half[8];
  for (int i = 0; i < 8; ++i) half[i] = v[i] + v[i + 8];
  float quarter[4];
  for (int i = 0; i < 4; ++i) quarter[i] = half[i] + half[i + 4];
  return (quarter[0] + quarter[2]) + (quarter[1] + quarter[3]);
}

}  // namespace

// Each kernel repeats ggml's CPU arithmetic (ggml-cpu ops.cpp / vec.h) in the same
// precision and order, so that our logits stay within llama.cpp's own rounding noise.

void rms_norm(const float* x, const float* weight, float* out, int64_t n, float eps) {
  assert(n > 0);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  // ggml scales in the norm op and applies the weight in a separate multiply: two
  // roundings, in this order.
  for (int64_t i = 0; i < n; ++i) {
    const float normalized = x[i] * scale;
    out[i] = normalized * weight[i];
  }
}

void rope_normal(float* x, int64_t n_heads, int64_t head_dim, int64_t rope_dims, int64_t position,
                 float freq_base, float freq_scale, const float* freq_factors) {
  assert(rope_dims % 2 == 0 && rope_dims <= head_dim);
  const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(rope_dims));
  // The angle of pair i is position * theta_scale^i, built by repeated float
  // multiplication as ggml's rope cache does (not by pow per pair: the bits differ).
  float theta_extrap = static_cast<float>(position);
  for (int64_t i0 = 0; i0 < rope_dims; i0 += 2) {
    const float factor = freq_factors ? freq_factors[i0 / 2] : 1.0f;
    const float theta = freq_scale * (theta_extrap / factor);
    const float cos_theta = std::cos(theta);
    const float sin_theta = std::sin(theta);
    for (int64_t h = 0; h < n_heads; ++h) {
      float* pair = x + h * head_dim + i0;
      const float x0 = pair[0];
      const float x1 = pair[1];
      pair[0] = x0 * cos_theta - x1 * sin_theta;
      pair[1] = x0 * sin_theta + x1 * cos_theta;
    }
    theta_extrap *= theta_scale;
  }
}

SoftmaxStats softmax_ref(float* x, int64_t n) {
  assert(n > 0);
  float max = -INFINITY;
  for (int64_t i = 0; i < n; ++i) max = x[i] > max ? x[i] : max;
  // Whole groups of 16 use the vector exp and add up group by group; the tail uses
  // libm's expf, as ggml's softmax does.
  double sum = 0.0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int64_t k = i; k < i + 16; ++k) x[k] = vector_expf(x[k] - max);
    sum += static_cast<double>(sum_of_16(x + i));
  }
  for (; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += static_cast<double>(x[i]);
  }
  const auto inverse = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inverse;
  return {max, sum};
}

void swiglu_ref(const float* gate, const float* up, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int64_t k = i; k < i + 16; ++k) out[k] = gate[k] / (1.0f + vector_expf(-gate[k])) * up[k];
  }
  for (; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

SoftmaxStats softmax(float* x, int64_t n) { return vector_kernels().softmax(x, n); }

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  vector_kernels().swiglu(gate, up, out, n);
}

void add(const float* a, const float* b, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

int64_t argmax(const float* x, int64_t n) {
  assert(n > 0);
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (x[i] > x[best]) best = i;
  }
  return best;
}

}  // namespace locara::ops
