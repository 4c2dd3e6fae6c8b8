#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/half.h"
#include "ops/vector_math.h"

namespace locara::ops {
namespace {

// Reads element i of a cached row of the given type.
inline float cached_value(const uint8_t* row, TensorType type, int64_t i) {
  if (type == TensorType::kF16) return fp16_to_fp32(reinterpret_cast<const uint16_t*>(row)[i]);
  return reinterpret_cast<const float*>(row)[i];
}

}  // namespace

void attend_one_head(const float* query, int64_t head_dim, const KvRows& kv, int64_t head_offset,
                     int64_t n_keys, float scale, float* scores, float* out) {
  const bool half = kv.type == TensorType::kF16;
  // ggml multiplies an f16 K by Q after converting Q to f16 (F16's vec_dot_type);
  // skipping that rounding moves logprobs by more than the golden tolerance allows.
  float q[512];
  std::vector<float> q_large;
  float* q_rounded = q;
  if (head_dim > 512) {
    q_large.resize(head_dim);
    q_rounded = q_large.data();
  }
  for (int64_t d = 0; d < head_dim; ++d) q_rounded[d] = half ? round_to_fp16(query[d]) : query[d];

  const size_t element_offset = static_cast<size_t>(head_offset) * (half ? 2 : 4);
  for (int64_t j = 0; j < n_keys; ++j) {
    const uint8_t* key = kv.keys + static_cast<size_t>(j) * kv.row_stride + element_offset;
    double dot = 0.0;
    for (int64_t d = 0; d < head_dim; ++d) dot += q_rounded[d] * cached_value(key, kv.type, d);
    scores[j] = static_cast<float>(dot) * scale;
  }
  // llama.cpp runs the softmax over the cache padded to 32 cells, the extra ones masked;
  // padding the same way sends every score through the same exp as there.
  const int64_t padded = attention_padded_keys(n_keys);
  for (int64_t j = n_keys; j < padded; ++j) scores[j] = -INFINITY;
  softmax(scores, padded);
  // Likewise the probabilities meet an f16 V as f16.
  if (half) {
    for (int64_t j = 0; j < n_keys; ++j) scores[j] = round_to_fp16(scores[j]);
  }

  std::fill(out, out + head_dim, 0.0f);
  for (int64_t j = 0; j < n_keys; ++j) {
    const uint8_t* value = kv.values + static_cast<size_t>(j) * kv.row_stride + element_offset;
    const float p = scores[j];
    for (int64_t d = 0; d < head_dim; ++d) out[d] += p * cached_value(value, kv.type, d);
  }
}

}  // namespace locara::ops
