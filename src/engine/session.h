// A generation session: one sequence's KV cache, sampler and execution context over a
// shared loaded model. Prompt -> batched forward -> sample -> token events, repeated.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/loaded_model.h"
#include "kv/kv_cache.h"
#include "model/execution_context.h"
#include "sampling/sampling_params.h"

namespace locara {

// The default context when none is asked for: the model's own, at most this.
inline constexpr int64_t kDefaultMaxContext = 4096;

struct SessionOptions {
  int64_t n_ctx = 0;  // 0: the model's training context, at most kDefaultMaxContext
  // Unset: the runtime's default, q8_0 (DESIGN.md), or f16 when the model's heads do
  // not hold whole q8_0 blocks.
  std::optional<KvType> kv_type;
  int n_threads = 1;
  int64_t max_batch = 512;  // prompt tokens per forward pass
};

// The KV type a session gets when none is asked for.
KvType default_kv_type(const ModelHParams& hparams);

struct GenerationOptions {
  int32_t max_tokens = 128;  // < 0: until the context is full
  SamplingParams sampling;
  bool ignore_eos = false;  // ban end-of-generation tokens instead of stopping at them
};

enum class FinishReason { kStop, kLength, kContextFull, kCancelled };
const char* finish_reason_name(FinishReason reason);

// One generated token. `text` holds only whole UTF-8 characters (bytes of a character
// split across tokens arrive with the token that completes it). `logits` is the
// distribution the token was drawn from; valid during the callback only.
struct TokenEvent {
  int32_t token = 0;
  std::string text;
  std::span<const float> logits;
};
// Returns false to stop generating.
using TokenCallback = std::function<bool(const TokenEvent&)>;

struct GenerationResult {
  std::vector<int32_t> tokens;
  FinishReason finish_reason = FinishReason::kStop;
  int64_t n_prompt_tokens = 0;
  double prompt_seconds = 0.0;
  double generation_seconds = 0.0;  // from the first generated token's forward to the last
  double prompt_tokens_per_second() const;
  double generation_tokens_per_second() const;
};

// Not thread-safe: one generation at a time. The model must outlive the session.
class Session {
 public:
  static Expected<std::unique_ptr<Session>> create(std::shared_ptr<const LoadedModel> model,
                                                   const SessionOptions& options);

  const LoadedModel& model() const { return *model_; }
  int64_t n_ctx() const { return cache_.n_ctx(); }
  size_t kv_bytes() const { return cache_.bytes(); }
  KvType kv_type() const { return cache_.type(); }
  size_t scratch_bytes() const { return context_.scratch_bytes() + logits_.capacity() * 4; }

  // Tokenizes a prompt as llama.cpp does for completion (BOS added, specials parsed).
  std::vector<int32_t> tokenize(std::string_view text) const;

  // Runs the prompt from position 0 and generates; on_token sees each new token.
  Expected<GenerationResult> generate(std::span<const int32_t> prompt,
                                      const GenerationOptions& options,
                                      const TokenCallback& on_token);

 private:
  Session(std::shared_ptr<const LoadedModel> model, KvCache cache, int n_threads)
      : model_(std::move(model)), cache_(std::move(cache)), context_(n_threads) {}

  // Feeds tokens at positions [start, start + n) in batches; leaves the last logits.
  Status decode(std::span<const int32_t> tokens, int64_t start, int64_t max_batch);

  std::shared_ptr<const LoadedModel> model_;
  KvCache cache_;
  ExecutionContext context_;
  std::vector<float> logits_;  // [n_vocab] of the last decoded token
  int64_t max_batch_ = 512;
};

}  // namespace locara
