#include "ops/attention.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "ops/type_traits.h"
#include "ops/vector_math.h"

namespace locara::ops {
namespace {

// Converts n floats to `type` into buffer (resized), returning its bytes.
const uint8_t* convert(const TypeTraits& traits, const float* x, int64_t n,
                       std::vector<uint8_t>& buffer) {
  const TypeTraits* target = type_traits(traits.vec_dot_type);
  buffer.resize(target->row_bytes(n));
  target->from_float(x, buffer.data(), n);
  return buffer.data();
}

}  // namespace

void attend_one_head(const float* query, int64_t head_dim, const KvLayerView& kv, int64_t kv_head,
                     int64_t n_keys, float scale, AttentionScratch& scratch, float* out) {
  const TypeTraits& traits = *type_traits(kv.type);
  const int64_t padded = attention_padded_keys(n_keys);
  if (static_cast<int64_t>(scratch.scores.size()) < padded) scratch.scores.resize(padded);
  float* scores = scratch.scores.data();

  // scores = scale * K q, masked beyond the last key
  const uint8_t* q = convert(traits, query, head_dim, scratch.query);
  const uint8_t* keys = kv.keys + static_cast<size_t>(kv_head) * kv.head_bytes;
  for (int64_t j = 0; j < n_keys; ++j) {
    scores[j] =
        traits.vec_dot(head_dim, keys + static_cast<size_t>(j) * kv.key_row_bytes, q) * scale;
  }
  std::fill(scores + n_keys, scores + padded, -INFINITY);
  softmax(scores, padded);

  if (kv.values_transposed) {
    // out[d] = (row d of V^T) . p over the padded positions (padding holds zeros).
    assert(padded <= kv.n_positions_padded);
    const uint8_t* p = convert(traits, scores, padded, scratch.weights);
    const uint8_t* rows = kv.values + static_cast<size_t>(kv_head * head_dim) * kv.value_row_bytes;
    for (int64_t d = 0; d < head_dim; ++d) {
      out[d] = traits.vec_dot(padded, rows + static_cast<size_t>(d) * kv.value_row_bytes, p);
    }
    return;
  }
  // Quantized values: out = sum_j p_j * dequantized V_j.
  scratch.value.resize(head_dim);
  float* value = scratch.value.data();
  std::fill(out, out + head_dim, 0.0f);
  const uint8_t* values = kv.values + static_cast<size_t>(kv_head) * kv.head_bytes;
  for (int64_t j = 0; j < n_keys; ++j) {
    const float p = scores[j];
    if (p == 0.0f) continue;
    traits.to_float(values + static_cast<size_t>(j) * kv.value_row_bytes, value, head_dim);
    for (int64_t d = 0; d < head_dim; ++d) out[d] += p * value[d];
  }
}

}  // namespace locara::ops
