#include "sampling/sampler.h"

#include <chrono>
#include <random>

#include "sampling/sampler_steps.h"

namespace locara {
namespace {

uint64_t fresh_random_seed() {
  // random_device may be unavailable (it reports that by throwing); the clock still gives a
  // seed that differs between runs, which is all kRandomSeed promises.
  uint64_t seed =
      static_cast<uint64_t>(std::chrono::high_resolution_clock::now().time_since_epoch().count());
  try {
    std::random_device device;
    seed ^= (static_cast<uint64_t>(device()) << 32) | device();
  } catch (...) {
  }
  return seed;
}

uint64_t resolve_seed(uint64_t requested) {
  return requested == SamplingParams::kRandomSeed ? fresh_random_seed() : requested;
}

}  // namespace

Expected<Sampler> Sampler::create(const SamplingParams& params, int32_t n_vocab) {
  LOCARA_RETURN_IF_ERROR(params.validate());
  if (n_vocab <= 0) {
    return make_error(ErrorCode::kInvalidArgument, "sampling: n_vocab = {} must be > 0", n_vocab);
  }
  for (size_t i = 0; i < params.banned_tokens.size(); ++i) {
    if (params.banned_tokens[i] >= n_vocab) {
      return make_error(ErrorCode::kInvalidArgument,
                        "sampling: banned_tokens[{}] = {} is outside the vocabulary [0, {})", i,
                        params.banned_tokens[i], n_vocab);
    }
  }
  return Sampler(params, n_vocab);
}

Sampler::Sampler(const SamplingParams& params, int32_t n_vocab)
    : params_(params),
      n_vocab_(n_vocab),
      seed_(resolve_seed(params.seed)),
      rng_(seed_),
      recent_(params.repeat_last_n) {}

int32_t Sampler::sample(std::span<const float> logits) {
  if (n_vocab_ <= 0 || logits.size() != static_cast<size_t>(n_vocab_)) return kNoToken;
  candidates_.assign(logits);
  sampling::apply_penalties(candidates_, recent_.counts(), params_.repeat_penalty,
                            params_.frequency_penalty, params_.presence_penalty);
  sampling::ban_tokens(candidates_, params_.banned_tokens);
  sampling::drop_impossible(candidates_);
  // Written as !(t > 0) so that an unvalidated NaN temperature also takes the greedy branch.
  if (!(params_.temperature > 0.0f)) return sampling::select_greedy(candidates_);

  sampling::apply_top_k(candidates_, params_.top_k);
  sampling::apply_top_p(candidates_, params_.top_p);
  sampling::apply_min_p(candidates_, params_.min_p);
  sampling::apply_temperature(candidates_, params_.temperature);
  return sampling::draw(candidates_, rng_);
}

void Sampler::accept(int32_t token) {
  if (token < 0 || token >= n_vocab_) return;
  recent_.push(token);
}

void Sampler::reset() {
  recent_.clear();
  seed_ = resolve_seed(params_.seed);
  rng_.reseed(seed_);
}

}  // namespace locara
