#include "sampling/sampler_steps.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "sampling/penalty_window.h"

namespace locara::sampling {
namespace {

std::set<int32_t> ids_of(const CandidateArray& candidates) {
  std::set<int32_t> ids;
  for (const TokenCandidate& c : candidates.items()) ids.insert(c.id);
  return ids;
}

std::vector<float> logits_of(const CandidateArray& candidates) {
  std::vector<float> logits;
  for (const TokenCandidate& c : candidates.items()) logits.push_back(c.logit);
  return logits;
}

// Probabilities 0.5, 0.2, 0.15, 0.1, 0.05 given to ids in shuffled order, as log-probabilities.
CandidateArray hand_made_distribution() {
  std::vector<float> logits(5);
  logits[3] = std::log(0.5f);
  logits[0] = std::log(0.2f);
  logits[4] = std::log(0.15f);
  logits[1] = std::log(0.1f);
  logits[2] = std::log(0.05f);
  CandidateArray candidates;
  candidates.assign(logits);
  return candidates;
}

TEST(CandidateArray, AssignSortAndSoftmax) {
  CandidateArray candidates;
  candidates.assign(std::vector<float>{1.0f, NAN, 3.0f, 1.0f});
  ASSERT_EQ(candidates.size(), 4u);
  EXPECT_EQ(candidates[1].logit, -INFINITY);  // NaN is never a candidate worth anything
  candidates.softmax();
  const double e = std::exp(2.0);
  EXPECT_NEAR(candidates[2].p, e / (e + 2.0), 1e-6);
  EXPECT_NEAR(candidates[0].p, 1.0 / (e + 2.0), 1e-6);
  EXPECT_EQ(candidates[1].p, 0.0f);
  candidates.sort();
  EXPECT_TRUE(candidates.sorted());
  // Descending logit, the tie between ids 0 and 3 to the lower id.
  EXPECT_EQ(candidates[0].id, 2);
  EXPECT_EQ(candidates[1].id, 0);
  EXPECT_EQ(candidates[2].id, 3);
  EXPECT_EQ(candidates[3].id, 1);
}

TEST(TopK, KeepsTheKHighestWithLowIdsWinningTies) {
  CandidateArray candidates;
  candidates.assign(std::vector<float>{0.0f, 2.0f, 1.0f, 2.0f, 5.0f, 1.0f});
  apply_top_k(candidates, 3);
  EXPECT_EQ(ids_of(candidates), (std::set<int32_t>{4, 1, 3}));

  candidates.assign(std::vector<float>{0.0f, 2.0f, 1.0f});
  apply_top_k(candidates, 0);  // off
  EXPECT_EQ(candidates.size(), 3u);
  apply_top_k(candidates, 10);  // more than there are
  EXPECT_EQ(candidates.size(), 3u);
}

TEST(TopP, KeepsTheSmallestPrefixReachingP) {
  // Cumulative: 0.5 (id 3), 0.7 (id 0), 0.85 (id 4), 0.95 (id 1), 1.0 (id 2).
  const struct {
    float p;
    std::set<int32_t> kept;
  } cases[] = {
      {0.1f, {3}},       {0.49f, {3}},         {0.51f, {3, 0}},          {0.69f, {3, 0}},
      {0.8f, {3, 0, 4}}, {0.9f, {3, 0, 4, 1}}, {0.99f, {3, 0, 4, 1, 2}}, {1.0f, {3, 0, 4, 1, 2}},
  };
  for (const auto& c : cases) {
    CandidateArray candidates = hand_made_distribution();
    apply_top_p(candidates, c.p);
    EXPECT_EQ(ids_of(candidates), c.kept) << "top_p " << c.p;
  }
}

TEST(TopP, SortsBeyondTheFirstBatchWhenNeeded) {
  // 1000 equal logits: p = 0.4995 needs 500 of them, past the first partial sort, and ties
  // must resolve to the lowest ids.
  CandidateArray candidates;
  candidates.assign(std::vector<float>(1000, 0.25f));
  apply_top_p(candidates, 0.4995f);
  ASSERT_EQ(candidates.size(), 500u);
  std::set<int32_t> expected;
  for (int32_t id = 0; id < 500; ++id) expected.insert(id);
  EXPECT_EQ(ids_of(candidates), expected);

  // A nearly flat, scrambled row: whatever the count, the kept set must be the best tokens
  // (no kept logit below a dropped one), reach p, and be minimal.
  std::vector<float> logits(1000);
  for (size_t i = 0; i < logits.size(); ++i) {
    logits[i] = static_cast<float>(std::sin(0.7 * static_cast<double>(i)) * 0.05);
  }
  double sum = 0.0;
  for (const float x : logits) sum += std::exp(static_cast<double>(x));
  candidates.assign(logits);
  apply_top_p(candidates, 0.5f);
  ASSERT_GT(candidates.size(), 300u);  // well past the first partial sort
  EXPECT_TRUE(candidates.sorted());
  const std::set<int32_t> kept = ids_of(candidates);
  float lowest_kept = INFINITY;
  double kept_mass = 0.0;
  for (const int32_t id : kept) {
    lowest_kept = std::min(lowest_kept, logits[static_cast<size_t>(id)]);
    kept_mass += std::exp(static_cast<double>(logits[static_cast<size_t>(id)])) / sum;
  }
  for (size_t id = 0; id < logits.size(); ++id) {
    if (!kept.count(static_cast<int32_t>(id))) {
      EXPECT_LE(logits[id], lowest_kept) << id;
    }
  }
  EXPECT_GE(kept_mass, 0.5);
  EXPECT_LT(kept_mass - std::exp(static_cast<double>(lowest_kept)) / sum, 0.5);
}

TEST(MinP, DropsTokensBelowAFractionOfTheBest) {
  // Probabilities relative to the best: 1, 0.5, 0.25, 0.125, 0.075.
  const std::vector<float> logits = {std::log(0.125f), 0.0f, std::log(0.25f), std::log(0.075f),
                                     std::log(0.5f)};
  const struct {
    float min_p;
    std::set<int32_t> kept;
  } cases[] = {
      {0.0f, {0, 1, 2, 3, 4}}, {0.05f, {0, 1, 2, 3, 4}}, {0.1f, {0, 1, 2, 4}},
      {0.12f, {0, 1, 2, 4}},   {0.13f, {1, 2, 4}},       {0.2f, {1, 2, 4}},
      {0.24f, {1, 2, 4}},      {0.26f, {1, 4}},          {1.0f, {1}},
  };
  for (const auto& c : cases) {
    CandidateArray candidates;
    candidates.assign(logits);
    apply_min_p(candidates, c.min_p);
    EXPECT_EQ(ids_of(candidates), c.kept) << "min_p " << c.min_p;
  }
}

TEST(Penalties, RepeatDividesPositiveAndMultipliesNegative) {
  CandidateArray candidates;
  candidates.assign(std::vector<float>{2.0f, -2.0f, 0.5f, 3.0f, 0.0f});
  apply_penalties(candidates, {{0, 1}, {1, 3}, {4, 1}}, 2.0f, 0.0f, 0.0f);
  EXPECT_EQ(logits_of(candidates), (std::vector<float>{1.0f, -4.0f, 0.5f, 3.0f, 0.0f}));
}

TEST(Penalties, FrequencyAndPresenceAsOpenAi) {
  CandidateArray candidates;
  candidates.assign(std::vector<float>{2.0f, -2.0f, 0.5f, 3.0f});
  apply_penalties(candidates, {{0, 1}, {1, 3}}, 1.0f, 0.5f, 0.25f);
  // 2 - 1*0.5 - 0.25; -2 - 3*0.5 - 0.25; the others were not seen.
  EXPECT_EQ(logits_of(candidates), (std::vector<float>{1.25f, -3.75f, 0.5f, 3.0f}));

  candidates.assign(std::vector<float>{2.0f, -2.0f, 0.5f, 3.0f});
  apply_penalties(candidates, {{0, 1}, {1, 3}, {99, 2}}, 2.0f, 0.5f, 0.25f);  // 99: ignored
  // Repeat penalty first, then the subtraction: 2/2 - 0.75; -2*2 - 1.75.
  EXPECT_EQ(logits_of(candidates), (std::vector<float>{0.25f, -5.75f, 0.5f, 3.0f}));
}

TEST(PenaltyWindow, CountsOnlyTheLastN) {
  PenaltyWindow window(3);
  for (const int32_t token : {1, 2, 1, 3}) window.push(token);
  // Window {2, 1, 3}: the first 1 has left.
  EXPECT_EQ(window.counts(), (std::unordered_map<int32_t, int32_t>{{1, 1}, {2, 1}, {3, 1}}));
  window.push(3);  // window {1, 3, 3}
  EXPECT_EQ(window.counts(), (std::unordered_map<int32_t, int32_t>{{1, 1}, {3, 2}}));
  window.clear();
  EXPECT_TRUE(window.counts().empty());

  PenaltyWindow unbounded(-1);
  for (int i = 0; i < 500; ++i) unbounded.push(7);
  EXPECT_EQ(unbounded.counts().at(7), 500);

  PenaltyWindow off(0);
  off.push(7);
  EXPECT_TRUE(off.counts().empty());
}

TEST(BanAndGreedy, BannedTokensCannotWin) {
  CandidateArray candidates;
  candidates.assign(std::vector<float>{1.0f, 9.0f, 3.0f, 9.0f});
  EXPECT_EQ(select_greedy(candidates), 1);  // lowest id of the tie
  const std::vector<int32_t> banned = {1, 3, 42};
  ban_tokens(candidates, banned);
  EXPECT_EQ(select_greedy(candidates), 2);
  drop_impossible(candidates);
  EXPECT_EQ(ids_of(candidates), (std::set<int32_t>{0, 2}));

  candidates.assign(std::vector<float>{1.0f, 2.0f, 3.0f});
  ban_tokens(candidates, std::vector<int32_t>{0, 1, 2});
  EXPECT_EQ(select_greedy(candidates), kNoToken);
  drop_impossible(candidates);
  EXPECT_TRUE(candidates.empty());
  SamplingRng rng(1);
  EXPECT_EQ(draw(candidates, rng), kNoToken);
}

TEST(Temperature, DividesLogits) {
  CandidateArray candidates;
  candidates.assign(std::vector<float>{1.0f, -3.0f, 0.0f});
  apply_temperature(candidates, 0.5f);
  EXPECT_EQ(logits_of(candidates), (std::vector<float>{2.0f, -6.0f, 0.0f}));
}

}  // namespace
}  // namespace locara::sampling
