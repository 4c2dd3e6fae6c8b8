// ggml's vector exp: within 2 ulp of libm over the range softmax and SiLU use, with the
// same flush-to-zero / infinity behaviour.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "ops/vector_math.h"

namespace locara::ops {
namespace {

int32_t ulp_distance(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  return std::abs(ia - ib);
}

TEST(VectorExpf, WithinTwoUlpOfLibm) {
  int32_t worst = 0;
  int differing = 0, total = 0;
  for (float x = -87.0f; x <= 88.0f; x += 0.001371f) {
    const int32_t d = ulp_distance(vector_expf(x), std::exp(x));
    worst = std::max(worst, d);
    differing += d != 0;
    ++total;
  }
  EXPECT_LE(worst, 2);
  // It is a different function: a good share of results differ from libm by an ulp.
  EXPECT_GT(differing, total / 20);
}

TEST(VectorExpf, ExactPointsAndLimits) {
  EXPECT_EQ(vector_expf(0.0f), 1.0f);
  EXPECT_EQ(vector_expf(-INFINITY), 0.0f);
  EXPECT_EQ(vector_expf(-200.0f), 0.0f);
  EXPECT_EQ(vector_expf(200.0f), INFINITY);
  EXPECT_NEAR(vector_expf(1.0f), 2.7182817f, 1e-6f);
}

TEST(VectorExpf, SoftmaxOfPaddedRowIgnoresMaskedTail) {
  float row[32];
  for (int i = 0; i < 32; ++i) row[i] = i < 20 ? 0.1f * static_cast<float>(i) : -INFINITY;
  softmax(row, 32);
  double sum = 0.0;
  for (int i = 0; i < 32; ++i) sum += row[i];
  EXPECT_NEAR(sum, 1.0, 1e-6);
  for (int i = 20; i < 32; ++i) EXPECT_EQ(row[i], 0.0f);
  EXPECT_GT(row[19], row[18]);
}

}  // namespace
}  // namespace locara::ops
