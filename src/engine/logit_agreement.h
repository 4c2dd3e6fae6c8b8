// How closely one model's next-token distributions follow another's on the same text: the
// quality check of a quantized model against its source (top-1 agreement, KL divergence).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/loaded_model.h"
#include "kv/kv_cache.h"

namespace locara {

struct LogitAgreementOptions {
  // Tokens the base model continues each prompt with (greedy), before both models read
  // prompt + continuation; the continuation is where a quantized model would be used.
  int32_t continuation_tokens = 64;
  int n_threads = 1;
  // Both models' KV cache: f32 by default, so the figures measure the weights alone.
  KvType kv_type = KvType::kF32;
  int64_t max_batch = 64;  // tokens per forward pass
};

// Agreement over a set of positions. Each position is one next-token prediction.
struct LogitAgreement {
  int64_t positions = 0;
  int64_t top1_agreements = 0;  // positions where both models' most likely token is the same
  double sum_kl = 0.0;          // of KL(base || other), nats
  double max_kl = 0.0;
  double sum_base_entropy = 0.0;  // of the base distribution, nats: how peaked it is

  double top1_rate() const;  // 0..1 (0 with no positions)
  double mean_kl() const;
  double mean_base_entropy() const;
  void add(const LogitAgreement& other);
};

struct SequenceAgreement {
  std::vector<int32_t> tokens;  // prompt + the base model's continuation, as both read it
  int64_t n_prompt = 0;
  LogitAgreement agreement;
};

struct LogitAgreementReport {
  std::vector<SequenceAgreement> sequences;  // one per prompt, in order
  LogitAgreement total;
};

// Feeds every prompt (token ids, BOS included if wanted) and the base model's greedy
// continuation through both models teacher-forced, and compares the distributions at
// every position. The models must share a vocabulary size (the token ids are compared as
// they are); errors name the mismatch, an empty prompt, or a token out of range.
Expected<LogitAgreementReport> compare_logits(const LoadedModel& base, const LoadedModel& other,
                                              std::span<const std::vector<int32_t>> prompts,
                                              const LogitAgreementOptions& options = {});

// Adds one position's comparison (logits of n_vocab floats each) to `into`.
void compare_distributions(std::span<const float> base_logits, std::span<const float> other_logits,
                           LogitAgreement& into);

}  // namespace locara
