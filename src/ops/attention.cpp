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

// scores[row][j] = K[first_key + j] . query row, for j < n_keys and every row (rows of
// `query_row_bytes` in the keys' dot type).
void score_keys(const TypeTraits& traits, int64_t head_dim, const uint8_t* keys,
                size_t key_row_bytes, int64_t n_keys, const uint8_t* queries,
                size_t query_row_bytes, int64_t n_rows, float* scores, int64_t stride) {
  if (traits.gemm_tile != nullptr) {
    traits.gemm_tile(head_dim, keys, key_row_bytes, n_keys, queries, query_row_bytes, n_rows,
                     scores, stride);
    return;
  }
  for (int64_t row = 0; row < n_rows; ++row) {
    for (int64_t j = 0; j < n_keys; ++j) {
      scores[row * stride + j] =
          traits.vec_dot(head_dim, keys + static_cast<size_t>(j) * key_row_bytes,
                         queries + static_cast<size_t>(row) * query_row_bytes);
    }
  }
}

// out[head_dim] = softmax(scores[0..n_keys)) . V[first_key..first_key + n_keys), the
// scores scaled, with room up to the padded length. Returns the softmax's stats.
SoftmaxStats weigh_values(float* scores, int64_t first_key, int64_t n_keys, int64_t head_dim,
                          const KvLayerView& kv, int64_t kv_head, AttentionScratch& scratch,
                          float* out) {
  const TypeTraits& traits = *type_traits(kv.type);
  const int64_t padded = attention_padded_keys(n_keys);
  std::fill(scores + n_keys, scores + padded, -INFINITY);
  const SoftmaxStats stats = softmax(scores, padded);

  if (kv.values_transposed) {
    // out[d] = (row d of V^T) . p over the padded positions (padding holds zeros).
    assert(first_key + padded <= kv.n_positions_padded);
    const uint8_t* p = convert(traits, scores, padded, scratch.weights);
    const uint8_t* rows = kv.values + static_cast<size_t>(kv_head * head_dim) * kv.value_row_bytes +
                          traits.row_bytes(first_key);
    for (int64_t d = 0; d < head_dim; ++d) {
      out[d] = traits.vec_dot(padded, rows + static_cast<size_t>(d) * kv.value_row_bytes, p);
    }
    return stats;
  }
  // Quantized values: out = sum_j p_j * dequantized V_j.
  scratch.value.resize(head_dim);
  float* value = scratch.value.data();
  std::fill(out, out + head_dim, 0.0f);
  const uint8_t* values = kv.values + static_cast<size_t>(first_key) * kv.value_row_bytes +
                          static_cast<size_t>(kv_head) * kv.head_bytes;
  for (int64_t j = 0; j < n_keys; ++j) {
    const float p = scores[j];
    if (p == 0.0f) continue;
    traits.to_float(values + static_cast<size_t>(j) * kv.value_row_bytes, value, head_dim);
    for (int64_t d = 0; d < head_dim; ++d) out[d] += p * value[d];
  }
  return stats;
}

// Folds a later key block's normalised output into a row's (online softmax): both are
// weighted by their share of the merged sum of exponentials.
void merge_block(float* out, float& row_max, double& row_sum, const float* block_out,
                 const SoftmaxStats& block, int64_t head_dim) {
  const float new_max = std::max(row_max, block.max);
  const double old_weight = row_sum * std::exp(static_cast<double>(row_max - new_max));
  const double block_weight = block.sum * std::exp(static_cast<double>(block.max - new_max));
  const double total = old_weight + block_weight;
  const auto keep = static_cast<float>(old_weight / total);
  const auto take = static_cast<float>(block_weight / total);
  for (int64_t d = 0; d < head_dim; ++d) out[d] = out[d] * keep + block_out[d] * take;
  row_max = new_max;
  row_sum = total;
}

}  // namespace

void attend_query_block(const float* q, int64_t token_stride, int64_t group, int64_t head_dim,
                        const KvLayerView& kv, int64_t kv_head, int64_t n_tokens,
                        int64_t first_n_keys, float scale, AttentionScratch& scratch, float* out) {
  const TypeTraits& traits = *type_traits(kv.type);
  const TypeTraits& query_traits = *type_traits(traits.vec_dot_type);
  const size_t query_row_bytes = query_traits.row_bytes(head_dim);
  const int64_t n_rows = n_tokens * group;  // row i * group + g: token i, head g
  const auto row_at = [&](int64_t row) {
    return (row / group) * token_stride + (row % group) * head_dim;
  };
  const auto keys_of = [&](int64_t row) { return first_n_keys + row / group; };
  const int64_t max_keys = keys_of(n_rows - 1);

  scratch.query.resize(query_row_bytes * static_cast<size_t>(n_rows));
  scratch.scores.resize(static_cast<size_t>(n_rows * kAttentionKeyBlock));
  scratch.block_out.resize(static_cast<size_t>(head_dim));
  scratch.row_max.resize(static_cast<size_t>(n_rows));
  scratch.row_sum.resize(static_cast<size_t>(n_rows));
  for (int64_t row = 0; row < n_rows; ++row) {
    query_traits.from_float(q + row_at(row),
                            scratch.query.data() + static_cast<size_t>(row) * query_row_bytes,
                            head_dim);
  }

  const uint8_t* keys = kv.keys + static_cast<size_t>(kv_head) * kv.head_bytes;
  for (int64_t first_key = 0; first_key < max_keys; first_key += kAttentionKeyBlock) {
    // Scores of this block's keys for every row (keys past a row's own are masked below).
    const int64_t block_keys = std::min(kAttentionKeyBlock, max_keys - first_key);
    score_keys(traits, head_dim, keys + static_cast<size_t>(first_key) * kv.key_row_bytes,
               kv.key_row_bytes, block_keys, scratch.query.data(), query_row_bytes, n_rows,
               scratch.scores.data(), kAttentionKeyBlock);

    for (int64_t row = 0; row < n_rows; ++row) {
      const int64_t n_keys = std::min(keys_of(row) - first_key, block_keys);
      if (n_keys <= 0) continue;
      float* scores = scratch.scores.data() + row * kAttentionKeyBlock;
      for (int64_t j = 0; j < n_keys; ++j) scores[j] *= scale;
      float* row_out = out + row_at(row);
      if (first_key == 0) {
        // The first block writes the row's output directly: a row that fits one block is
        // the plain two-pass softmax.
        const SoftmaxStats stats =
            weigh_values(scores, 0, n_keys, head_dim, kv, kv_head, scratch, row_out);
        scratch.row_max[row] = stats.max;
        scratch.row_sum[row] = stats.sum;
        continue;
      }
      const SoftmaxStats stats = weigh_values(scores, first_key, n_keys, head_dim, kv, kv_head,
                                              scratch, scratch.block_out.data());
      merge_block(row_out, scratch.row_max[row], scratch.row_sum[row], scratch.block_out.data(),
                  stats, head_dim);
    }
  }
}

}  // namespace locara::ops
