#include "sampling/sampler_steps.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace locara::sampling {
namespace {

constexpr float kMinusInfinity = -std::numeric_limits<float>::infinity();

// top_p usually stops within the first few hundred candidates, so it sorts that many first and
// only pays for a full sort of the vocabulary when they do not reach p (as llama.cpp does).
constexpr size_t kTopPFirstSort = 256;

// Index of token in an id-ordered array, or size() if it is not there.
size_t index_of(const CandidateArray& candidates, int32_t token) {
  if (token < 0 || static_cast<size_t>(token) >= candidates.size()) return candidates.size();
  const size_t index = static_cast<size_t>(token);
  assert(candidates[index].id == token && "penalties and bans need candidates in id order");
  return candidates[index].id == token ? index : candidates.size();
}

}  // namespace

void apply_penalties(CandidateArray& candidates,
                     const std::unordered_map<int32_t, int32_t>& recent_counts,
                     float repeat_penalty, float frequency_penalty, float presence_penalty) {
  if (repeat_penalty == 1.0f && frequency_penalty == 0.0f && presence_penalty == 0.0f) return;
  for (const auto& [token, count] : recent_counts) {
    const size_t index = index_of(candidates, token);
    if (index == candidates.size() || count <= 0) continue;
    float& logit = candidates[index].logit;
    // Dividing a negative logit would raise it, rewarding the repeat; multiplying lowers it.
    logit = logit > 0.0f ? logit / repeat_penalty : logit * repeat_penalty;
    logit -= static_cast<float>(count) * frequency_penalty + presence_penalty;
  }
  candidates.forget_order();
}

void ban_tokens(CandidateArray& candidates, std::span<const int32_t> banned) {
  for (const int32_t token : banned) {
    const size_t index = index_of(candidates, token);
    if (index != candidates.size()) candidates[index].logit = kMinusInfinity;
  }
  if (!banned.empty()) candidates.forget_order();
}

void drop_impossible(CandidateArray& candidates) {
  candidates.keep_if([](const TokenCandidate& c) { return c.logit != kMinusInfinity; });
}

int32_t select_greedy(const CandidateArray& candidates) {
  const size_t best = candidates.argmax();
  if (best == candidates.size() || candidates[best].logit == kMinusInfinity) return kNoToken;
  return candidates[best].id;
}

void apply_top_k(CandidateArray& candidates, int32_t k) {
  if (k <= 0 || static_cast<size_t>(k) >= candidates.size()) return;
  candidates.sort_prefix(static_cast<size_t>(k));
  candidates.truncate(static_cast<size_t>(k));
}

void apply_top_p(CandidateArray& candidates, float p) {
  if (p >= 1.0f || candidates.empty()) return;
  candidates.softmax();
  size_t sorted_count = std::min(candidates.size(), kTopPFirstSort);
  candidates.sort_prefix(sorted_count);
  double cumulative = 0.0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (i == sorted_count) {
      candidates.sort();
      sorted_count = candidates.size();
    }
    cumulative += candidates[i].p;
    if (cumulative >= p) {
      candidates.truncate(i + 1);
      return;
    }
  }
  // Rounding kept the sum just below p: every candidate stays, as in llama.cpp.
}

void apply_min_p(CandidateArray& candidates, float min_p) {
  if (min_p <= 0.0f || candidates.empty()) return;
  float max_logit = candidates[0].logit;
  if (!candidates.sorted()) {
    for (const TokenCandidate& c : candidates.items()) max_logit = std::max(max_logit, c.logit);
  }
  // p_i / p_max = exp(logit_i - max_logit), so the cut needs no normalisation.
  const double min_logit = static_cast<double>(max_logit) + std::log(static_cast<double>(min_p));
  candidates.keep_if(
      [min_logit](const TokenCandidate& c) { return static_cast<double>(c.logit) >= min_logit; });
}

void apply_temperature(CandidateArray& candidates, float temperature) {
  assert(temperature > 0.0f);
  for (TokenCandidate& c : candidates.items()) c.logit /= temperature;
}

int32_t draw(CandidateArray& candidates, SamplingRng& rng) {
  const double u = rng.next_uniform();
  if (candidates.empty()) return kNoToken;
  candidates.softmax();
  double total = 0.0;
  for (const TokenCandidate& c : candidates.items()) total += c.p;
  // Scaling u by the actual total (1 up to rounding) keeps the last candidate reachable.
  const double target = u * total;
  double cumulative = 0.0;
  int32_t last_possible = kNoToken;
  for (const TokenCandidate& c : candidates.items()) {
    if (c.p <= 0.0f) continue;
    cumulative += c.p;
    last_possible = c.id;
    if (target < cumulative) return c.id;
  }
  return last_possible;
}

}  // namespace locara::sampling
