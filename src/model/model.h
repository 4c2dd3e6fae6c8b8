// A loaded model: immutable weights viewed in place in the GGUF mapping, and the
// forward pass of its architecture. Architectures are chosen by general.architecture.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/status.h"
#include "gguf/gguf_reader.h"
#include "kv/kv_cache.h"
#include "model/execution_context.h"
#include "model/hparams.h"

namespace locara {

// Thread-safe: every method is const; concurrent forward passes need their own
// KvCache and ExecutionContext.
class Model {
 public:
  virtual ~Model() = default;

  const ModelHParams& hparams() const { return hparams_; }
  const GgufReader& gguf() const { return *gguf_; }

  // Runs tokens at positions [start_position, start_position + tokens.size()) through
  // the model, writing their keys and values into `cache`. Logits (n_vocab floats per
  // row) go to `logits`: for the last token only, or for every token if all_logits.
  virtual Status forward(std::span<const int32_t> tokens, int64_t start_position, KvCache& cache,
                         ExecutionContext& context, std::span<float> logits,
                         bool all_logits = false) const = 0;

  // A cache of n_ctx positions shaped for this model (an error if the type cannot
  // hold this model's heads).
  Expected<KvCache> make_kv_cache(int64_t n_ctx, KvType type) const {
    return KvCache::create(hparams_.n_layer, n_ctx, hparams_.n_head_kv, hparams_.head_dim, type);
  }

 protected:
  Model(std::unique_ptr<GgufReader> gguf, ModelHParams hparams)
      : gguf_(std::move(gguf)), hparams_(std::move(hparams)) {}

  // Checks a forward call's arguments against the model and the cache.
  Status check_forward_args(std::span<const int32_t> tokens, int64_t start_position,
                            const KvCache& cache, std::span<float> logits, bool all_logits) const;

 private:
  std::unique_ptr<GgufReader> gguf_;
  ModelHParams hparams_;
};

// Opens and maps a GGUF file and builds the model for its architecture.
Expected<std::unique_ptr<Model>> load_model(const std::string& path);
// Same, for an already opened file.
Expected<std::unique_ptr<Model>> load_model(std::unique_ptr<GgufReader> gguf);

}  // namespace locara
