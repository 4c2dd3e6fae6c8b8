#include "model/llama.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "model/weights.h"
#include "ops/attention.h"
#include "ops/batch_ops.h"
#include "ops/vector_math.h"

namespace locara {
namespace {

// Scratch slots of ExecutionContext::buffer used by the forward pass.
enum Slot : size_t {
  kHidden,
  kNormed,
  kQuery,
  kKey,
  kValue,
  kAttnOut,
  kProjected,
  kGate,
  kUp,
};

// Query tokens per attention work item: enough that a block's gemm over the keys reuses
// each key many times, few enough that a prompt still splits into many items.
constexpr int64_t kAttentionBlockTokens = 16;

std::string block_tensor(int64_t layer, const char* name) {
  return fmt::format("blk.{}.{}.weight", layer, name);
}

}  // namespace

Expected<std::unique_ptr<Model>> LlamaModel::create(std::unique_ptr<GgufReader> gguf) {
  LOCARA_ASSIGN_OR_RETURN(ModelHParams hp, read_transformer_hparams(*gguf, "llama"));
  TensorBinder bind(*gguf);
  LlamaWeights w;

  const GgufTensor* embd = gguf->find_tensor("token_embd.weight");
  if (!embd || embd->dims.size() != 2) {
    return make_error(ErrorCode::kNotFound,
                      "{}: required tensor 'token_embd.weight' is missing "
                      "or not 2-D",
                      gguf->path());
  }
  hp.n_vocab = embd->dims[1];
  LOCARA_ASSIGN_OR_RETURN(w.token_embd, bind.matrix("token_embd.weight", hp.n_embd, hp.n_vocab));
  LOCARA_ASSIGN_OR_RETURN(w.output_norm, bind.f32_vector("output_norm.weight", hp.n_embd));
  if (bind.has("output.weight")) {
    LOCARA_ASSIGN_OR_RETURN(w.output, bind.matrix("output.weight", hp.n_embd, hp.n_vocab));
  } else {
    w.output = w.token_embd;  // tied embeddings
  }
  if (bind.has("rope_freqs.weight")) {
    LOCARA_ASSIGN_OR_RETURN(w.rope_freq_factors,
                            bind.f32_vector("rope_freqs.weight", hp.n_rot / 2));
  }

  for (int64_t i = 0; i < hp.n_layer; ++i) {
    LlamaLayerWeights layer;
    LOCARA_ASSIGN_OR_RETURN(layer.attn_norm,
                            bind.f32_vector(block_tensor(i, "attn_norm"), hp.n_embd));
    LOCARA_ASSIGN_OR_RETURN(layer.attn_q,
                            bind.matrix(block_tensor(i, "attn_q"), hp.n_embd, hp.q_dim()));
    LOCARA_ASSIGN_OR_RETURN(layer.attn_k,
                            bind.matrix(block_tensor(i, "attn_k"), hp.n_embd, hp.kv_dim()));
    LOCARA_ASSIGN_OR_RETURN(layer.attn_v,
                            bind.matrix(block_tensor(i, "attn_v"), hp.n_embd, hp.kv_dim()));
    LOCARA_ASSIGN_OR_RETURN(layer.attn_output,
                            bind.matrix(block_tensor(i, "attn_output"), hp.q_dim(), hp.n_embd));
    LOCARA_ASSIGN_OR_RETURN(layer.ffn_norm,
                            bind.f32_vector(block_tensor(i, "ffn_norm"), hp.n_embd));
    LOCARA_ASSIGN_OR_RETURN(layer.ffn_gate,
                            bind.matrix(block_tensor(i, "ffn_gate"), hp.n_embd, hp.n_ff));
    LOCARA_ASSIGN_OR_RETURN(layer.ffn_up,
                            bind.matrix(block_tensor(i, "ffn_up"), hp.n_embd, hp.n_ff));
    LOCARA_ASSIGN_OR_RETURN(layer.ffn_down,
                            bind.matrix(block_tensor(i, "ffn_down"), hp.n_ff, hp.n_embd));
    w.layers.push_back(layer);
  }
  return std::unique_ptr<Model>(new LlamaModel(std::move(gguf), std::move(hp), std::move(w)));
}

Status LlamaModel::forward(std::span<const int32_t> tokens, int64_t start_position, KvCache& cache,
                           ExecutionContext& context, std::span<float> logits,
                           bool all_logits) const {
  LOCARA_RETURN_IF_ERROR(check_forward_args(tokens, start_position, cache, logits, all_logits));
  const ModelHParams& hp = hparams();
  const auto n = static_cast<int64_t>(tokens.size());
  ops::ThreadPool& pool = context.pool();
  ops::MatmulScratch& mm = context.matmul_scratch();
  auto buffer = [&](Slot slot, int64_t per_token) {
    return context.buffer(slot, static_cast<size_t>(n * per_token));
  };

  float* x = buffer(kHidden, hp.n_embd);        // [n][n_embd] residual stream
  float* xn = buffer(kNormed, hp.n_embd);       // [n][n_embd] normalised input
  float* q = buffer(kQuery, hp.q_dim());        // [n][n_head * head_dim]
  float* k = buffer(kKey, hp.kv_dim());         // [n][n_head_kv * head_dim]
  float* v = buffer(kValue, hp.kv_dim());       // [n][n_head_kv * head_dim]
  float* attn = buffer(kAttnOut, hp.q_dim());   // [n][n_head * head_dim]
  float* proj = buffer(kProjected, hp.n_embd);  // [n][n_embd] block output
  float* gate = buffer(kGate, hp.n_ff);         // [n][n_ff]
  float* up = buffer(kUp, hp.n_ff);             // [n][n_ff]

  // x = embedding rows of the tokens
  for (int64_t t = 0; t < n; ++t)
    ops::dequantize_row(weights_.token_embd, tokens[t], x + t * hp.n_embd);

  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const LlamaLayerWeights& layer = weights_.layers[il];

    // Attention: xn = RMSNorm(x); q, k, v = projections; RoPE on q and k
    ops::rms_norm_rows(pool, x, layer.attn_norm, xn, n, hp.n_embd, hp.rms_norm_eps);
    ops::matmul(layer.attn_q, xn, n, q, mm, pool);
    ops::matmul(layer.attn_k, xn, n, k, mm, pool);
    ops::matmul(layer.attn_v, xn, n, v, mm, pool);
    for (int64_t t = 0; t < n; ++t) {
      const int64_t position = start_position + t;
      ops::rope_normal(q + t * hp.q_dim(), hp.n_head, hp.head_dim, hp.n_rot, position,
                       hp.rope_freq_base, hp.rope_freq_scale, weights_.rope_freq_factors);
      ops::rope_normal(k + t * hp.kv_dim(), hp.n_head_kv, hp.head_dim, hp.n_rot, position,
                       hp.rope_freq_base, hp.rope_freq_scale, weights_.rope_freq_factors);
      cache.store(il, position, k + t * hp.kv_dim(), v + t * hp.kv_dim());
    }
    // attn = softmax(q k^T / sqrt(head_dim)) v over positions up to each token's own
    attention(il, q, n, start_position, cache, context, attn);
    // x = x + W_o attn
    ops::matmul(layer.attn_output, attn, n, proj, mm, pool);
    ops::add_parallel(pool, x, proj, x, n * hp.n_embd);

    // Feed-forward: x = x + W_down (silu(W_gate xn) * W_up xn), xn = RMSNorm(x)
    ops::rms_norm_rows(pool, x, layer.ffn_norm, xn, n, hp.n_embd, hp.rms_norm_eps);
    ops::matmul(layer.ffn_gate, xn, n, gate, mm, pool);
    ops::matmul(layer.ffn_up, xn, n, up, mm, pool);
    ops::swiglu_rows(pool, gate, up, gate, n, hp.n_ff);
    ops::matmul(layer.ffn_down, gate, n, proj, mm, pool);
    ops::add_parallel(pool, x, proj, x, n * hp.n_embd);
  }

  // logits = W_out RMSNorm(x), for the last token or all of them
  const int64_t first_out = all_logits ? 0 : n - 1;
  const int64_t n_out = n - first_out;
  ops::rms_norm_rows(pool, x + first_out * hp.n_embd, weights_.output_norm, xn, n_out, hp.n_embd,
                     hp.rms_norm_eps);
  ops::matmul(weights_.output, xn, n_out, logits.data(), mm, pool);
  return ok_status();
}

void LlamaModel::attention(int64_t layer, const float* q, int64_t n_tokens, int64_t start_position,
                           const KvCache& cache, ExecutionContext& context, float* out) const {
  const ModelHParams& hp = hparams();
  const int64_t group = hp.n_head / hp.n_head_kv;  // query heads sharing one KV head
  const float scale = 1.0f / std::sqrt(static_cast<float>(hp.head_dim));
  const ops::KvLayerView kv{cache.tensor_type(),       cache.key_rows(layer),
                            cache.key_row_bytes(),     cache.head_bytes(),
                            cache.value_rows(layer),   cache.value_row_bytes(),
                            cache.values_transposed(), cache.n_ctx_padded()};
  // Work items are (block of tokens, KV head): the block's queries of that head's group
  // read each key once. Threads take items as they finish (later tokens see more keys),
  // the heaviest first.
  const int64_t n_blocks = (n_tokens + kAttentionBlockTokens - 1) / kAttentionBlockTokens;
  const int64_t n_items = n_blocks * hp.n_head_kv;
  std::atomic<int64_t> next_item{0};
  context.pool().run([&](int thread, int) {
    ops::AttentionScratch& scratch = context.attention_scratch(thread);
    for (int64_t item = next_item++; item < n_items; item = next_item++) {
      const int64_t first = (n_blocks - 1 - item / hp.n_head_kv) * kAttentionBlockTokens;
      const int64_t kv_head = item % hp.n_head_kv;
      const int64_t offset = first * hp.q_dim() + kv_head * group * hp.head_dim;
      ops::attend_query_block(q + offset, hp.q_dim(), group, hp.head_dim, kv, kv_head,
                              std::min(kAttentionBlockTokens, n_tokens - first),
                              start_position + first + 1, scale, scratch, out + offset);
    }
  });
}

}  // namespace locara
