// Causal attention of one query head over cached key/value rows (f32 or f16).
// With f16 rows it rounds the query and the probabilities to f16 first, as ggml does.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gguf/tensor_type.h"

namespace locara::ops {

// Cached rows of one layer: row p holds position p's keys (values) for all KV heads.
struct KvRows {
  const uint8_t* keys = nullptr;
  const uint8_t* values = nullptr;
  size_t row_stride = 0;               // bytes between consecutive positions
  TensorType type = TensorType::kF32;  // kF32 or kF16
};

// Score slots attend_one_head needs for n_keys keys (the softmax runs over a multiple of 32).
inline int64_t attention_padded_keys(int64_t n_keys) {
  return (n_keys + 31) / 32 * 32;
}

// out[head_dim] = softmax(scale * q . K[0..n_keys)) . V[0..n_keys), where the head's
// keys and values start at element head_offset of each row.
// scores: scratch of at least attention_padded_keys(n_keys) floats.
void attend_one_head(const float* query, int64_t head_dim, const KvRows& kv, int64_t head_offset,
                     int64_t n_keys, float scale, float* scores, float* out);

}  // namespace locara::ops
