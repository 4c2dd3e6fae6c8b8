// The steps of the sampler chain, each a small function over a CandidateArray, with
// llama.cpp's semantics (llama_sampler_init_penalties/top_k/top_p/min_p/temp/dist) unless a
// comment says otherwise. Sampler runs them in a fixed order; tests and later features
// (speculative decoding) can call them one by one.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>

#include "sampling/candidates.h"
#include "sampling/rng.h"

namespace locara::sampling {

// Requires candidates in id order, candidates[i].id == i (as assign() leaves them): the steps
// below that take it index by token id instead of searching.
//
// For every token with count > 0 in recent_counts (token -> occurrences in the window):
//   logit = logit > 0 ? logit / repeat_penalty : logit * repeat_penalty   (CTRL, sign-aware)
//   logit -= count * frequency_penalty + presence_penalty                  (OpenAI)
// Tokens outside the array are ignored. Neutral values (1, 0, 0) make this a no-op.
void apply_penalties(CandidateArray& candidates,
                     const std::unordered_map<int32_t, int32_t>& recent_counts,
                     float repeat_penalty, float frequency_penalty, float presence_penalty);

// Sets the logit of each banned id to -inf (ids outside the array are ignored). Id order required.
void ban_tokens(CandidateArray& candidates, std::span<const int32_t> banned);

// Removes candidates whose logit is -inf: no later step may pick them, and top_k/top_p must not
// count them.
void drop_impossible(CandidateArray& candidates);

// The highest logit, the lowest id among equals; kNoToken if no candidate has a logit > -inf.
int32_t select_greedy(const CandidateArray& candidates);

// Keeps the k highest logits (ties: lower ids first). k <= 0 or k >= size: no-op.
void apply_top_k(CandidateArray& candidates, int32_t k);

// Keeps the shortest sorted prefix whose probabilities (softmax of the current logits) sum to
// >= p; at least one candidate always stays. p >= 1: no-op. The running sum is in double
// (llama.cpp sums in float, which can differ by one token right at the boundary).
void apply_top_p(CandidateArray& candidates, float p);

// Drops candidates with p < min_p * p_max, decided on logits (logit < max_logit + ln(min_p)),
// which needs no softmax. Keeps the order. min_p <= 0: no-op.
void apply_min_p(CandidateArray& candidates, float min_p);

// logit /= temperature. Requires temperature > 0 (greedy is the caller's branch).
void apply_temperature(CandidateArray& candidates, float temperature);

// Softmax over the candidates, then one uniform draw u in [0, 1) walks the cumulative
// probabilities in the array's current order. Always consumes exactly one draw, so the RNG
// stream advances by one per sampled token whatever the filters left. kNoToken when empty.
int32_t draw(CandidateArray& candidates, SamplingRng& rng);

}  // namespace locara::sampling
