#include "sampling/logprobs.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace locara {
namespace {

TEST(TopLogprobs, MatchesHandComputation) {
  // log(e^1 + 2 e^2 + e^3) = 3.6265233750364456, computed by hand (with a calculator).
  const std::vector<float> logits = {1.0f, 2.0f, 3.0f, 2.0f};
  const auto top = top_logprobs(logits, 4);
  ASSERT_EQ(top.size(), 4u);
  // Descending logit; the tie between ids 1 and 3 goes to the lower id.
  EXPECT_EQ(top[0].first, 2);
  EXPECT_EQ(top[1].first, 1);
  EXPECT_EQ(top[2].first, 3);
  EXPECT_EQ(top[3].first, 0);
  EXPECT_NEAR(top[0].second, -0.6265233750364456, 1e-6);
  EXPECT_NEAR(top[1].second, -1.6265233750364456, 1e-6);
  EXPECT_NEAR(top[2].second, -1.6265233750364456, 1e-6);
  EXPECT_NEAR(top[3].second, -2.6265233750364456, 1e-6);
}

TEST(TopLogprobs, ProbabilitiesSumToAtMostOne) {
  // A large vocabulary, where a float sum would drift.
  std::vector<float> logits(256 * 1024);
  for (size_t i = 0; i < logits.size(); ++i) {
    logits[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)) * 8.0);
  }
  const auto all = top_logprobs(logits, static_cast<int>(logits.size()));
  ASSERT_EQ(all.size(), logits.size());
  double total = 0.0;
  for (const auto& [id, logprob] : all) total += std::exp(static_cast<double>(logprob));
  EXPECT_NEAR(total, 1.0, 1e-4);

  const auto top5 = top_logprobs(logits, 5);
  ASSERT_EQ(top5.size(), 5u);
  double top_total = 0.0;
  for (size_t i = 0; i < top5.size(); ++i) {
    top_total += std::exp(static_cast<double>(top5[i].second));
    EXPECT_EQ(top5[i], all[i]);  // the same ranking whatever n asks for
    if (i > 0) {
      EXPECT_GE(logits[static_cast<size_t>(top5[i - 1].first)],
                logits[static_cast<size_t>(top5[i].first)]);
    }
  }
  EXPECT_LT(top_total, 1.0);
  EXPECT_GT(top_total, 0.0);
}

TEST(TopLogprobs, EdgeCases) {
  const std::vector<float> logits = {0.5f, std::numeric_limits<float>::quiet_NaN(), 0.5f};
  EXPECT_TRUE(top_logprobs(logits, 0).empty());
  EXPECT_TRUE(top_logprobs(logits, -3).empty());
  EXPECT_TRUE(top_logprobs({}, 3).empty());

  const auto all = top_logprobs(logits, 10);  // more than there are
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].first, 0);
  EXPECT_EQ(all[1].first, 2);
  EXPECT_NEAR(all[0].second, std::log(0.5), 1e-6);
  EXPECT_EQ(all[2].first, 1);  // NaN ranks last with probability 0
  EXPECT_EQ(all[2].second, -std::numeric_limits<float>::infinity());

  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(top_logprobs(std::vector<float>{-inf, -inf}, 2).empty());
}

}  // namespace
}  // namespace locara
