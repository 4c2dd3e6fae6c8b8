#include "sampling/rng.h"

#include <gtest/gtest.h>

namespace locara::sampling {
namespace {

TEST(SamplingRng, RawStreamIsTheStandardMt19937_64) {
  // [rand.predef]: the 10000th output of a default-seeded (5489) mt19937_64.
  SamplingRng rng(5489);
  for (int i = 0; i < 9999; ++i) rng.next_u64();
  EXPECT_EQ(rng.next_u64(), 9981545732273789042ull);
}

TEST(SamplingRng, UniformIsInUnitIntervalAndEven) {
  SamplingRng rng(3);
  double sum = 0.0;
  int below_tenth = 0;
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) {
    const double u = rng.next_uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    below_tenth += u < 0.1;
  }
  EXPECT_NEAR(sum / kDraws, 0.5, 0.005);
  EXPECT_NEAR(below_tenth, kDraws / 10, 500);
}

TEST(SamplingRng, UniformUsesTheTop53Bits) {
  SamplingRng raw(17);
  SamplingRng uniform(17);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(uniform.next_uniform(),
              static_cast<double>(raw.next_u64() >> 11) / 9007199254740992.0);
  }
  uniform.reseed(17);
  raw.reseed(17);
  EXPECT_EQ(uniform.next_u64(), raw.next_u64());
}

}  // namespace
}  // namespace locara::sampling
