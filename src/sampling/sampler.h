// The sampler of one sequence: turns a row of logits into the next token through a fixed chain
// of steps (sampler_steps.h), holding the state that chain needs between tokens.
#pragma once

#include <cstdint>
#include <span>

#include "base/status.h"
#include "sampling/candidates.h"
#include "sampling/penalty_window.h"
#include "sampling/rng.h"
#include "sampling/sampling_params.h"

namespace locara {

// The chain, in llama.cpp's common-sampler order:
//   penalties over the last repeat_last_n accepted tokens -> banned tokens to -inf ->
//   temperature <= 0: greedy argmax (lowest id on ties), done; otherwise
//   top_k -> top_p -> min_p -> temperature -> softmax -> one seeded draw.
// The filters see temperature-1 probabilities; temperature only reshapes what survives them.
//
// Determinism: the same seed, params and logits give the same tokens on every platform and
// build, since the RNG stream is portable (rng.h) and every ordering is total. The one caveat
// is std::exp, which libms may round differently in the last bit; that can only move a draw
// that lands within ~1e-16 of a boundary between two tokens.
//
// Thread-compatible: one Sampler per sequence, used by one thread at a time. Copying it forks
// the sequence (history and RNG position included).
class Sampler {
 public:
  // What sample() returns when no token can be chosen; equal to the tokenizer's kNoToken.
  static constexpr int32_t kNoToken = sampling::kNoToken;

  // Checks params (SamplingParams::validate), n_vocab > 0 and every banned id < n_vocab.
  static Expected<Sampler> create(const SamplingParams& params, int32_t n_vocab);

  // For params that already passed validate(). Banned ids outside [0, n_vocab) are ignored.
  Sampler(const SamplingParams& params, int32_t n_vocab);

  // The next token for one row of n_vocab logits. Does not record it: call accept() with the
  // token the sequence actually takes. kNoToken when logits.size() != n_vocab or no token is
  // possible (every logit banned, -inf or NaN); NaN logits are never chosen.
  int32_t sample(std::span<const float> logits);

  // Records a token of the sequence for the penalties. The engine decides what counts (llama.cpp
  // feeds the prompt too). Ids outside [0, n_vocab) are ignored.
  void accept(int32_t token);

  // Forgets the accepted tokens and restarts the RNG stream from seed() — or, for a
  // kRandomSeed request, from a new random seed, as llama.cpp's dist sampler does.
  void reset();

  const SamplingParams& params() const { return params_; }
  int32_t n_vocab() const { return n_vocab_; }
  // The seed in use: params.seed, or the one drawn for kRandomSeed (log it to replay a run).
  uint64_t seed() const { return seed_; }

 private:
  SamplingParams params_;
  int32_t n_vocab_;
  uint64_t seed_;
  sampling::SamplingRng rng_;
  sampling::PenaltyWindow recent_;
  sampling::CandidateArray candidates_;  // scratch, reused so a token costs no n_vocab allocation
};

}  // namespace locara
