// The llama architecture family (Llama 1-3, TinyLlama, SmolLM, Mistral without sliding
// window, the tinyllamas stories models): RMSNorm, RoPE, grouped-query attention, SwiGLU.
#pragma once

#include <memory>
#include <vector>

#include "model/model.h"
#include "ops/matmul.h"

namespace locara {

// Tensors of one transformer block, viewed in the mapping. Shapes are [rows x row_length].
struct LlamaLayerWeights {
  const float* attn_norm = nullptr;  // [n_embd]
  ops::WeightMatrix attn_q;          // [q_dim x n_embd]
  ops::WeightMatrix attn_k;          // [kv_dim x n_embd]
  ops::WeightMatrix attn_v;          // [kv_dim x n_embd]
  ops::WeightMatrix attn_output;     // [n_embd x q_dim]
  const float* ffn_norm = nullptr;   // [n_embd]
  ops::WeightMatrix ffn_gate;        // [n_ff x n_embd]
  ops::WeightMatrix ffn_up;          // [n_ff x n_embd]
  ops::WeightMatrix ffn_down;        // [n_embd x n_ff]
};

struct LlamaWeights {
  ops::WeightMatrix token_embd;  // [n_vocab x n_embd]
  std::vector<LlamaLayerWeights> layers;
  const float* output_norm = nullptr;        // [n_embd]
  ops::WeightMatrix output;                  // [n_vocab x n_embd]; token_embd when tied
  const float* rope_freq_factors = nullptr;  // [n_rot / 2] or null (Llama 3.1 long context)
};

// Thread-safe (const after construction).
class LlamaModel final : public Model {
 public:
  static Expected<std::unique_ptr<Model>> create(std::unique_ptr<GgufReader> gguf);

  Status forward(std::span<const int32_t> tokens, int64_t start_position, KvCache& cache,
                 ExecutionContext& context, std::span<float> logits,
                 bool all_logits) const override;

  const LlamaWeights& weights() const { return weights_; }

 private:
  LlamaModel(std::unique_ptr<GgufReader> gguf, ModelHParams hparams, LlamaWeights weights)
      : Model(std::move(gguf), std::move(hparams)), weights_(std::move(weights)) {}

  void attention(int64_t layer, const float* q, int64_t n_tokens, int64_t start_position,
                 const KvCache& cache, ExecutionContext& context, float* out) const;

  LlamaWeights weights_;
};

}  // namespace locara
