#include "sampling/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace locara::sampling {
namespace {

// Params with every filter off: the draw follows softmax(logits / temperature) exactly.
SamplingParams plain_params(float temperature, uint64_t seed) {
  SamplingParams params;
  params.temperature = temperature;
  params.top_k = 0;
  params.top_p = 1.0f;
  params.min_p = 0.0f;
  params.seed = seed;
  return params;
}

std::vector<double> softmax(const std::vector<float>& logits, double temperature) {
  std::vector<double> p(logits.size());
  double sum = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) sum += p[i] = std::exp(logits[i] / temperature);
  for (double& x : p) x /= sum;
  return p;
}

// Pearson's chi-square of draws against expected probabilities.
double chi_square(const std::vector<int>& counts, const std::vector<double>& expected_p,
                  int draws) {
  double chi2 = 0.0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const double expected = expected_p[i] * draws;
    if (expected == 0.0) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " has probability 0";
      continue;
    }
    chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  return chi2;
}

std::vector<int> histogram(Sampler& sampler, const std::vector<float>& logits, int draws) {
  std::vector<int> counts(logits.size(), 0);
  for (int i = 0; i < draws; ++i) {
    const int32_t token = sampler.sample(logits);
    EXPECT_GE(token, 0);
    if (token >= 0) ++counts[static_cast<size_t>(token)];
  }
  return counts;
}

// Deterministic pseudo-random logits in [-scale, scale], with exact duplicates sprinkled in so
// ties at the top happen.
std::vector<float> test_logits(size_t n, uint64_t seed, float scale) {
  SamplingRng rng(seed);
  std::vector<float> logits(n);
  for (float& x : logits) x = static_cast<float>((rng.next_uniform() * 2.0 - 1.0) * scale);
  for (size_t i = 3; i < n; i += 7) logits[i] = logits[i - 3];
  return logits;
}

TEST(Sampler, GreedyPicksArgmaxAndLowestIdOnTies) {
  Sampler greedy(plain_params(0.0f, 0), 5);
  EXPECT_EQ(greedy.sample(std::vector<float>{0.1f, 2.0f, -1.0f, 1.9f, 0.0f}), 1);
  EXPECT_EQ(greedy.sample(std::vector<float>{1.0f, 3.0f, 0.0f, 3.0f, 3.0f}), 1);
  EXPECT_EQ(greedy.sample(std::vector<float>{-5.0f, -4.0f, -4.5f, -7.0f, -4.0f}), 1);
  EXPECT_EQ(greedy.sample(std::vector<float>{2.0f, 1.0f, 0.0f, 0.0f, 2.0f}), 0);
}

TEST(Sampler, RejectsRowsItCannotSample) {
  Sampler sampler(plain_params(1.0f, 0), 4);
  EXPECT_EQ(sampler.sample(std::vector<float>{1.0f, 2.0f, 3.0f}), kNoToken);  // wrong length
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(sampler.sample(std::vector<float>{nan, nan, nan, nan}), kNoToken);
  EXPECT_EQ(sampler.sample(std::vector<float>{nan, nan, 1.0f, nan}), 2);  // NaN never chosen

  SamplingParams all_banned = plain_params(1.0f, 0);
  all_banned.banned_tokens = {0, 1, 2, 3};
  Sampler banned(all_banned, 4);
  EXPECT_EQ(banned.sample(std::vector<float>{1.0f, 2.0f, 3.0f, 4.0f}), kNoToken);
}

TEST(Sampler, BannedTokenIsNeverChosen) {
  // The banned token would win about 93% of draws.
  const std::vector<float> logits = {0.0f, 0.5f, 5.0f, 1.0f, 0.2f};
  for (const float temperature : {0.0f, 0.7f, 1.0f, 3.0f}) {
    SamplingParams params = plain_params(temperature, 7);
    params.banned_tokens = {2};
    Sampler sampler(params, 5);
    const std::vector<int> counts = histogram(sampler, logits, 2000);
    EXPECT_EQ(counts[2], 0) << "temperature " << temperature;
  }
  // And it was the favourite without the ban, so the check above can fail.
  Sampler unbanned(plain_params(1.0f, 7), 5);
  EXPECT_GT(histogram(unbanned, logits, 200)[2], 150);
}

TEST(Sampler, TopKOneEqualsGreedyAtAnyTemperature) {
  for (uint64_t row = 0; row < 20; ++row) {
    const std::vector<float> logits = test_logits(300, row, 4.0f);
    Sampler greedy(plain_params(0.0f, 0), 300);
    const int32_t expected = greedy.sample(logits);
    for (const float temperature : {0.1f, 0.8f, 1.0f, 5.0f, 100.0f}) {
      SamplingParams params = plain_params(temperature, row);
      params.top_k = 1;
      params.top_p = 0.5f;
      params.min_p = 0.01f;
      Sampler sampler(params, 300);
      for (int draw = 0; draw < 5; ++draw) {
        EXPECT_EQ(sampler.sample(logits), expected)
            << "row " << row << " temperature " << temperature;
      }
    }
  }
  // Row with the maximum tied: both must resolve to the lower id.
  std::vector<float> tied(10, 0.0f);
  tied[6] = tied[4] = 2.0f;
  SamplingParams params = plain_params(5.0f, 3);
  params.top_k = 1;
  Sampler sampler(params, 10);
  for (int draw = 0; draw < 20; ++draw) EXPECT_EQ(sampler.sample(tied), 4);
}

TEST(Sampler, SameSeedSameTokensDifferentSeedDifferentTokens) {
  const std::vector<float> logits = test_logits(50, 99, 1.5f);
  SamplingParams params;  // the default chain, filters on
  params.seed = 1234;
  Sampler a(params, 50);
  Sampler b(params, 50);
  params.seed = 1235;
  Sampler c(params, 50);
  std::vector<int32_t> seq_a, seq_b, seq_c;
  for (int i = 0; i < 1000; ++i) {
    seq_a.push_back(a.sample(logits));
    seq_b.push_back(b.sample(logits));
    seq_c.push_back(c.sample(logits));
  }
  EXPECT_EQ(seq_a, seq_b);
  EXPECT_NE(seq_a, seq_c);
  int differences = 0;
  for (size_t i = 0; i < seq_a.size(); ++i) differences += seq_a[i] != seq_c[i];
  EXPECT_GT(differences, 500);  // independent streams, not a shifted copy

  // reset() replays the stream from the same seed.
  a.reset();
  std::vector<int32_t> replay;
  for (int i = 0; i < 1000; ++i) replay.push_back(a.sample(logits));
  EXPECT_EQ(replay, seq_b);
}

TEST(Sampler, SeededTokensAreFixedAcrossPlatforms) {
  // The RNG stream and the chain are specified to be portable, so this sequence must never
  // change on any platform or build; if it does, a seed no longer replays. The values were
  // cross-checked against an independent Python mt19937_64 + softmax + cumulative walk.
  const std::vector<float> logits = test_logits(32, 5, 2.0f);
  Sampler sampler(plain_params(1.0f, 42), 32);
  std::vector<int32_t> tokens;
  for (int i = 0; i < 16; ++i) tokens.push_back(sampler.sample(logits));
  EXPECT_EQ(tokens,
            (std::vector<int32_t>{24, 20, 24, 7, 29, 5, 19, 13, 11, 13, 0, 18, 21, 20, 25, 30}));
}

TEST(Sampler, RandomSeedIsResolvedAndReported) {
  SamplingParams params = plain_params(1.0f, SamplingParams::kRandomSeed);
  Sampler first(params, 8);
  Sampler second(params, 8);
  EXPECT_NE(first.seed(), SamplingParams::kRandomSeed);
  EXPECT_NE(first.seed(), second.seed());
  Sampler fixed(plain_params(1.0f, 77), 8);
  EXPECT_EQ(fixed.seed(), 77u);
}

TEST(Sampler, FrequenciesMatchSoftmax) {
  const std::vector<float> logits = {1.0f, 2.0f, 0.5f, -1.0f, 3.0f, 0.0f, 1.5f, -0.5f};
  constexpr int kDraws = 20000;
  // 7 degrees of freedom: P(chi2 > 24.32) = 0.001 for a correct sampler. The seed is fixed,
  // so the test is deterministic; a wrong distribution (uniform, wrong temperature, off-by-one
  // in the walk) scores in the hundreds or more.
  constexpr double kChi2Limit = 24.32;
  for (const float temperature : {1.0f, 2.0f}) {
    Sampler sampler(plain_params(temperature, 2024), 8);
    const std::vector<int> counts = histogram(sampler, logits, kDraws);
    EXPECT_LT(chi_square(counts, softmax(logits, temperature), kDraws), kChi2Limit)
        << "temperature " << temperature;
  }
  // The same statistic rejects a distribution that is merely close: softmax at 1.1.
  Sampler sampler(plain_params(1.0f, 2024), 8);
  const std::vector<int> counts = histogram(sampler, logits, kDraws);
  EXPECT_GT(chi_square(counts, softmax(logits, 1.1), kDraws), kChi2Limit);
}

TEST(Sampler, FiltersThenRenormalises) {
  // top_k = 3 leaves ids 4, 1, 6 (logits 3, 2, 1.5); the draw follows their renormalised
  // softmax at temperature 2, applied after the filter.
  const std::vector<float> logits = {1.0f, 2.0f, 0.5f, -1.0f, 3.0f, 0.0f, 1.5f, -0.5f};
  SamplingParams params = plain_params(2.0f, 11);
  params.top_k = 3;
  Sampler sampler(params, 8);
  constexpr int kDraws = 20000;
  const std::vector<int> counts = histogram(sampler, logits, kDraws);
  std::vector<float> kept(8, -std::numeric_limits<float>::infinity());
  for (const size_t id : {1u, 4u, 6u}) kept[id] = logits[id];
  EXPECT_LT(chi_square(counts, softmax(kept, 2.0), kDraws), 13.82);  // 2 dof, p = 0.001
}

TEST(Sampler, RepeatPenaltyActsOnlyWithinTheWindow) {
  SamplingParams params = plain_params(0.0f, 0);
  params.repeat_penalty = 1.1f;
  params.repeat_last_n = 2;
  Sampler sampler(params, 8);
  const std::vector<float> positive = {2.0f, 1.9f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  EXPECT_EQ(sampler.sample(positive), 0);
  sampler.accept(0);
  EXPECT_EQ(sampler.sample(positive), 1);  // 2.0 / 1.1 < 1.9
  sampler.accept(99);  // outside the vocabulary: ignored, so it takes no place in the window
  sampler.accept(-1);
  EXPECT_EQ(sampler.sample(positive), 1);
  sampler.accept(5);
  EXPECT_EQ(sampler.sample(positive), 1);  // 0 is still one of the last two
  sampler.accept(6);
  EXPECT_EQ(sampler.sample(positive), 0);  // 0 has left the window

  // Negative logits are multiplied, which lowers them: -1.0 * 1.1 < -1.05.
  const std::vector<float> negative = {-1.0f, -1.05f, -9.0f, -9.0f, -9.0f, -9.0f, -9.0f, -9.0f};
  sampler.reset();
  EXPECT_EQ(sampler.sample(negative), 0);
  sampler.accept(0);
  EXPECT_EQ(sampler.sample(negative), 1);
  sampler.reset();  // forgets the history
  EXPECT_EQ(sampler.sample(negative), 0);
}

TEST(Sampler, PresenceAndFrequencyPenaltiesCountTheWindow) {
  SamplingParams params = plain_params(0.0f, 0);
  params.frequency_penalty = 0.3f;
  params.presence_penalty = 0.5f;
  params.repeat_last_n = 3;
  Sampler sampler(params, 4);
  const std::vector<float> logits = {3.0f, 2.0f, 1.0f, 0.0f};
  sampler.accept(0);
  EXPECT_EQ(sampler.sample(logits), 0);  // 3 - 1*0.3 - 0.5 = 2.2 > 2
  sampler.accept(0);
  EXPECT_EQ(sampler.sample(logits), 1);  // 3 - 2*0.3 - 0.5 = 1.9 < 2
  sampler.accept(2);
  EXPECT_EQ(sampler.sample(logits), 1);  // window {0, 0, 2}: still 1.9
  sampler.accept(3);
  EXPECT_EQ(sampler.sample(logits), 0);  // window {0, 2, 3}: one 0 left, 2.2 again
  sampler.accept(1);
  sampler.accept(1);
  sampler.accept(1);
  EXPECT_EQ(sampler.sample(logits), 0);  // window {1, 1, 1}: 3 > 2 - 0.9 - 0.5
}

}  // namespace
}  // namespace locara::sampling
