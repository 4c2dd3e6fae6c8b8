// The knobs of one request's sampler chain (SamplingParams) and the check that they make sense.
// What each knob does is defined by the chain in sampler.h.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"

namespace locara {

// Plain value type; thread-compatible. Defaults follow llama.cpp's common sampler defaults,
// except the seed (see below).
struct SamplingParams {
  // seed == kRandomSeed asks for a fresh seed from the OS at construction (Sampler::seed() says
  // which one was used, so a run can be replayed). It equals llama.cpp's LLAMA_DEFAULT_SEED, so a
  // client's "-1" converted to uint32 means the same thing in both runtimes.
  static constexpr uint64_t kRandomSeed = 0xFFFFFFFFu;

  float temperature = 0.8f;        // <= 0: greedy argmax; otherwise logits are divided by it
  int32_t top_k = 40;              // 0: off
  float top_p = 0.95f;             // 1: off
  float min_p = 0.05f;             // 0: off; relative to the most likely token's probability
  float repeat_penalty = 1.0f;     // 1: off
  int32_t repeat_last_n = 64;      // window of accepted tokens the penalties see; 0: off; -1: all
  float presence_penalty = 0.0f;   // OpenAI-style, subtracted once per token seen in the window
  float frequency_penalty = 0.0f;  // OpenAI-style, subtracted once per occurrence in the window
  uint64_t seed = 0;               // deterministic by default; kRandomSeed: random
  std::vector<int32_t> banned_tokens;  // never sampled (e.g. EOS when the client sets ignore_eos)

  // kInvalidArgument naming the first field that cannot work and its value: a negative or
  // non-finite temperature, top_k < 0, top_p outside (0, 1], min_p outside [0, 1],
  // repeat_penalty <= 0, repeat_last_n < -1, non-finite penalties, a negative banned id.
  // Banned ids beyond the vocabulary are caught by Sampler::create, which knows n_vocab.
  Status validate() const;
};

}  // namespace locara
