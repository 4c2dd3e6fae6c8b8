// Log-probabilities of a row of logits for API responses (OpenAI "logprobs"/"top_logprobs").
// Independent of any Sampler: it reports the model's distribution, before penalties or filters.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace locara {

// The n most likely tokens as (id, log-probability), by descending logit, ties by ascending id.
// The log-softmax runs in double over all logits, so the values are exact to float rounding
// even for a 256k vocabulary. n <= 0 gives none; n > logits.size() gives all. NaN logits count
// as -inf (log-probability -inf, listed last); an all -inf or empty row gives none.
// Pure function; thread-safe.
std::vector<std::pair<int32_t, float>> top_logprobs(std::span<const float> logits, int n);

}  // namespace locara
