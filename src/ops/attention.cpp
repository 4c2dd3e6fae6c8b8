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

// out[head_dim] = softmax(scores[0..n_keys)) . V[0..n_keys), scores already scaled and
// with room for the padded length.
void weigh_values(float* scores, int64_t n_keys, int64_t head_dim, const KvLayerView& kv,
                  int64_t kv_head, AttentionScratch& scratch, float* out) {
  const TypeTraits& traits = *type_traits(kv.type);
  const int64_t padded = attention_padded_keys(n_keys);
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

}  // namespace

void attend_one_head(const float* query, int64_t head_dim, const KvLayerView& kv, int64_t kv_head,
                     int64_t n_keys, float scale, AttentionScratch& scratch, float* out) {
  const TypeTraits& traits = *type_traits(kv.type);
  const int64_t padded = attention_padded_keys(n_keys);
  if (static_cast<int64_t>(scratch.scores.size()) < padded) scratch.scores.resize(padded);
  float* scores = scratch.scores.data();

  // scores = scale * K q
  const uint8_t* q = convert(traits, query, head_dim, scratch.query);
  const uint8_t* keys = kv.keys + static_cast<size_t>(kv_head) * kv.head_bytes;
  for (int64_t j = 0; j < n_keys; ++j) {
    scores[j] =
        traits.vec_dot(head_dim, keys + static_cast<size_t>(j) * kv.key_row_bytes, q) * scale;
  }
  weigh_values(scores, n_keys, head_dim, kv, kv_head, scratch, out);
}

void attend_query_block(const float* q, int64_t token_stride, int64_t group, int64_t head_dim,
                        const KvLayerView& kv, int64_t kv_head, int64_t n_tokens,
                        int64_t first_n_keys, float scale, AttentionScratch& scratch, float* out) {
  const TypeTraits& traits = *type_traits(kv.type);
  if (traits.gemm_tile == nullptr) {
    for (int64_t i = 0; i < n_tokens; ++i) {
      for (int64_t g = 0; g < group; ++g) {
        const int64_t offset = i * token_stride + g * head_dim;
        attend_one_head(q + offset, head_dim, kv, kv_head, first_n_keys + i, scale, scratch,
                        out + offset);
      }
    }
    return;
  }
  const TypeTraits& query_traits = *type_traits(traits.vec_dot_type);
  const size_t query_row_bytes = query_traits.row_bytes(head_dim);
  const int64_t n_rows = n_tokens * group;  // row i * group + g: token i, head g
  const int64_t max_keys = first_n_keys + n_tokens - 1;
  const int64_t stride = attention_padded_keys(max_keys);
  scratch.query.resize(query_row_bytes * static_cast<size_t>(n_rows));
  if (static_cast<int64_t>(scratch.scores.size()) < n_rows * stride) {
    scratch.scores.resize(static_cast<size_t>(n_rows * stride));
  }

  // scores[row][j] = K_j . q_row for every key any row sees (later keys are masked below)
  for (int64_t row = 0; row < n_rows; ++row) {
    query_traits.from_float(q + (row / group) * token_stride + (row % group) * head_dim,
                            scratch.query.data() + static_cast<size_t>(row) * query_row_bytes,
                            head_dim);
  }
  const uint8_t* keys = kv.keys + static_cast<size_t>(kv_head) * kv.head_bytes;
  traits.gemm_tile(head_dim, keys, kv.key_row_bytes, max_keys, scratch.query.data(),
                   query_row_bytes, n_rows, scratch.scores.data(), stride);

  for (int64_t row = 0; row < n_rows; ++row) {
    const int64_t n_keys = first_n_keys + row / group;
    float* scores = scratch.scores.data() + row * stride;
    for (int64_t j = 0; j < n_keys; ++j) scores[j] *= scale;
    weigh_values(scores, n_keys, head_dim, kv, kv_head, scratch,
                 out + (row / group) * token_stride + (row % group) * head_dim);
  }
}

}  // namespace locara::ops
