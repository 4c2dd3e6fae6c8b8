// Causal attention of query heads over a layer of cached keys and values, streaming over
// the keys in blocks with an online softmax, on the dispatch table's dot products.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "gguf/tensor_type.h"

namespace locara::ops {

// One layer of a KV cache as attention reads it (see kv/kv_cache.h for the layout).
struct KvLayerView {
  TensorType type = TensorType::kF16;  // kF32, kF16, kQ8_0 or kQ4_0
  const uint8_t* keys = nullptr;       // row p: position p's keys for all KV heads
  size_t key_row_bytes = 0;
  size_t head_bytes = 0;  // one head's segment of a key (or row-major value) row
  const uint8_t* values = nullptr;
  size_t value_row_bytes = 0;
  bool values_transposed = true;   // f32/f16: row d = value dimension d over positions
  int64_t n_positions_padded = 0;  // length of a transposed value row
};

// Per-thread scratch, grown on demand and reused across calls. Its size depends on the
// block sizes only, never on the context length.
struct AttentionScratch {
  std::vector<float> scores;     // [query rows][kAttentionKeyBlock]
  std::vector<uint8_t> query;    // the query rows converted to the keys' dot type
  std::vector<uint8_t> weights;  // the probabilities converted to the values' dot type
  std::vector<float> value;      // one dequantized value segment
  std::vector<float> block_out;  // [head_dim] one key block's output for one row
  std::vector<float> row_max;    // [query rows] online softmax state
  std::vector<double> row_sum;   // [query rows]
};

// Keys per streamed block. A row that sees at most this many keys gets exactly the
// two-pass softmax of llama.cpp without flash attention; longer rows merge blocks.
inline constexpr int64_t kAttentionKeyBlock = 512;

// Score slots for n_keys keys: the softmax runs over a multiple of 32, as llama.cpp's
// does over its padded cache, so every score goes through the same exp as there.
inline int64_t attention_padded_keys(int64_t n_keys) {
  return (n_keys + 31) / 32 * 32;
}

// The queries of consecutive tokens that share KV head kv_head: token i (< n_tokens) has
// `group` query heads at q + i * token_stride + g * head_dim and sees first_n_keys + i
// keys (causal); its outputs go to the same places in out:
//   out = softmax(scale * q . K[0..n_keys)) . V[0..n_keys).
// Like llama.cpp without flash attention, the query meets f16/q8_0 keys converted to
// their dot type and f16 values meet the probabilities rounded to f16. Each key block's
// scores come from one gemm tile for all rows (each key is read once per query block).
void attend_query_block(const float* q, int64_t token_stride, int64_t group, int64_t head_dim,
                        const KvLayerView& kv, int64_t kv_head, int64_t n_tokens,
                        int64_t first_n_keys, float scale, AttentionScratch& scratch, float* out);

}  // namespace locara::ops
