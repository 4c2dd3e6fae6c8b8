// The float kernels against straightforward double-precision implementations.
#include "ops/vector_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "test_rows.h"

namespace locara::ops {
namespace {

using test_support::random_row;

void expect_relatively_near(const std::vector<float>& actual, const std::vector<double>& expected,
                            double relative, double absolute = 1e-12) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i], std::fabs(expected[i]) * relative + absolute) << i;
  }
}

TEST(RmsNormTest, MatchesDouble) {
  for (int64_t n : {1, 7, 64, 4096}) {
    const std::vector<float> x = random_row(n, 1, 3.0f, 0.5f);
    const std::vector<float> weight = random_row(n, 2, 1.0f, 1.0f);
    const float eps = 1e-5f;
    std::vector<float> out(static_cast<size_t>(n));
    rms_norm(x.data(), weight.data(), out.data(), n, eps);
    double sum_squares = 0.0;
    for (float v : x) sum_squares += static_cast<double>(v) * v;
    const double scale = 1.0 / std::sqrt(sum_squares / static_cast<double>(n) + eps);
    std::vector<double> expected(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) expected[i] = x[i] * scale * weight[i];
    expect_relatively_near(out, expected, 1e-6);
  }
}

TEST(RmsNormTest, WorksInPlace) {
  std::vector<float> x = {3.0f, -4.0f};
  const std::vector<float> weight = {1.0f, 2.0f};
  rms_norm(x.data(), weight.data(), x.data(), 2, 0.0f);
  // rms = sqrt((9 + 16) / 2)
  const double rms = std::sqrt(12.5);
  EXPECT_NEAR(x[0], 3.0 / rms, 1e-6);
  EXPECT_NEAR(x[1], -8.0 / rms, 1e-6);
}

TEST(SoftmaxTest, MatchesDouble) {
  for (int64_t n : {1, 5, 100, 32000}) {
    std::vector<float> x = random_row(n, 3, 8.0f);
    std::vector<double> expected(x.begin(), x.end());
    double max = expected[0];
    for (double v : expected) max = std::max(max, v);
    double sum = 0.0;
    for (double& v : expected) sum += (v = std::exp(v - max));
    for (double& v : expected) v /= sum;
    softmax(x.data(), n);
    expect_relatively_near(x, expected, 1e-6);
  }
}

TEST(SoftmaxTest, MaskedEntriesGetZero) {
  std::vector<float> x = {1.0f, -INFINITY, 1.0f, -INFINITY};
  softmax(x.data(), 4);
  EXPECT_EQ(x[0], 0.5f);
  EXPECT_EQ(x[1], 0.0f);
  EXPECT_EQ(x[2], 0.5f);
  EXPECT_EQ(x[3], 0.0f);
}

TEST(SwigluTest, MatchesDouble) {
  const int64_t n = 1000;
  const std::vector<float> gate = random_row(n, 4, 12.0f);
  const std::vector<float> up = random_row(n, 5, 2.0f);
  std::vector<float> out(n);
  swiglu(gate.data(), up.data(), out.data(), n);
  std::vector<double> expected(n);
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i];
    expected[i] = g / (1.0 + std::exp(-g)) * up[i];
  }
  expect_relatively_near(out, expected, 1e-6);
}

TEST(AddAndArgmaxTest, Basics) {
  const std::vector<float> a = {1.0f, 2.0f, 3.0f};
  const std::vector<float> b = {0.5f, -2.0f, 4.0f};
  std::vector<float> out(3);
  add(a.data(), b.data(), out.data(), 3);
  EXPECT_EQ(out, (std::vector<float>{1.5f, 0.0f, 7.0f}));
  const std::vector<float> x = {1.0f, 5.0f, -2.0f, 5.0f, 4.0f};
  EXPECT_EQ(argmax(x.data(), 5), 1);  // the first of equal maxima
  EXPECT_EQ(argmax(x.data(), 1), 0);
}

// RoPE in double, given the angle of each pair.
std::vector<double> rotate(const std::vector<float>& x, int64_t n_heads, int64_t head_dim,
                           int64_t rope_dims, const std::vector<double>& theta) {
  std::vector<double> out(x.begin(), x.end());
  for (int64_t h = 0; h < n_heads; ++h) {
    for (int64_t i0 = 0; i0 < rope_dims; i0 += 2) {
      const double x0 = x[h * head_dim + i0];
      const double x1 = x[h * head_dim + i0 + 1];
      const double t = theta[i0 / 2];
      out[h * head_dim + i0] = x0 * std::cos(t) - x1 * std::sin(t);
      out[h * head_dim + i0 + 1] = x0 * std::sin(t) + x1 * std::cos(t);
    }
  }
  return out;
}

struct RopeCase {
  int64_t n_heads, head_dim, rope_dims, position;
  float freq_base, freq_scale;
};

const RopeCase kRopeCases[] = {
    {4, 64, 64, 1, 10000.0f, 1.0f}, {2, 128, 128, 37, 500000.0f, 1.0f},
    {3, 64, 32, 5, 10000.0f, 1.0f}, {1, 16, 16, 1000, 10000.0f, 0.25f},
    {2, 64, 64, 4095, 1e6f, 1.0f},
};

// The angles as ggml forms them: position * theta_scale^i by repeated float
// multiplication. That recurrence is part of the specification (the bits of the angle
// at large positions depend on it), so the reference repeats it and checks the rest.
TEST(RopeTest, MatchesDoubleRotationOfGgmlAngles) {
  for (const RopeCase& c : kRopeCases) {
    SCOPED_TRACE(testing::Message() << "position " << c.position << " dims " << c.rope_dims);
    std::vector<float> x = random_row(c.n_heads * c.head_dim, 6);
    std::vector<double> theta;
    const float theta_scale = std::pow(c.freq_base, -2.0f / static_cast<float>(c.rope_dims));
    float angle = static_cast<float>(c.position);
    for (int64_t i0 = 0; i0 < c.rope_dims; i0 += 2, angle *= theta_scale) {
      theta.push_back(static_cast<double>(c.freq_scale * angle));
    }
    const std::vector<double> expected = rotate(x, c.n_heads, c.head_dim, c.rope_dims, theta);
    rope_normal(x.data(), c.n_heads, c.head_dim, c.rope_dims, c.position, c.freq_base,
                c.freq_scale);
    for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], expected[i], 1e-6) << i;
  }
}

// The textbook formula in double: the float recurrence drifts from it by a few float
// ulps of the angle per pair, so the tolerance grows with the position.
TEST(RopeTest, MatchesTextbookFormula) {
  for (const RopeCase& c : kRopeCases) {
    SCOPED_TRACE(testing::Message() << "position " << c.position << " dims " << c.rope_dims);
    std::vector<float> x = random_row(c.n_heads * c.head_dim, 7);
    std::vector<double> theta;
    for (int64_t i = 0; i < c.rope_dims / 2; ++i) {
      theta.push_back(static_cast<double>(c.position) * c.freq_scale *
                      std::pow(static_cast<double>(c.freq_base),
                               -2.0 * static_cast<double>(i) / static_cast<double>(c.rope_dims)));
    }
    const std::vector<double> expected = rotate(x, c.n_heads, c.head_dim, c.rope_dims, theta);
    rope_normal(x.data(), c.n_heads, c.head_dim, c.rope_dims, c.position, c.freq_base,
                c.freq_scale);
    const double tolerance = 1e-6 + 1e-6 * static_cast<double>(c.position) * c.freq_scale;
    for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], expected[i], tolerance) << i;
  }
}

TEST(RopeTest, PositionZeroIsIdentity) {
  const std::vector<float> original = random_row(4 * 64, 8);
  std::vector<float> x = original;
  rope_normal(x.data(), 4, 64, 64, 0, 10000.0f, 1.0f);
  EXPECT_EQ(x, original);
}

TEST(RopeTest, DimensionsPastRopeDimsAreUntouched) {
  const std::vector<float> original = random_row(2 * 64, 9);
  std::vector<float> x = original;
  rope_normal(x.data(), 2, 64, 16, 12, 10000.0f, 1.0f);
  for (int64_t h = 0; h < 2; ++h) {
    for (int64_t i = 16; i < 64; ++i) EXPECT_EQ(x[h * 64 + i], original[h * 64 + i]);
    EXPECT_NE(x[h * 64], original[h * 64]);
  }
}

}  // namespace
}  // namespace locara::ops
