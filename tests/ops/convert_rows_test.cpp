// Whole-tensor conversion: the same bytes as the reference row conversion, whatever the
// thread count, and a round trip that stays within each type's precision.
#include "ops/convert_rows.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ops/type_traits.h"

namespace locara::ops {
namespace {

std::vector<float> wave(int64_t n) {
  std::vector<float> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[i] = std::sin(0.37f * i) * (1.0f + (i % 7) * 0.1f);
  return values;
}

TEST(ConvertRows, MatchesTheReferenceRowByRowForEveryThreadCount) {
  const int64_t row_length = 256, n_rows = 13;
  const std::vector<float> x = wave(row_length * n_rows);
  for (const TensorType type : {TensorType::kF16, TensorType::kBF16, TensorType::kQ8_0,
                                TensorType::kQ4_0, TensorType::kQ5_1}) {
    const TypeTraits* traits = reference_type_traits(type);
    ASSERT_NE(traits, nullptr);
    const size_t row_bytes = traits->row_bytes(row_length);
    std::vector<uint8_t> expected(row_bytes * n_rows);
    for (int64_t r = 0; r < n_rows; ++r) {
      traits->from_float(x.data() + r * row_length, expected.data() + r * row_bytes, row_length);
    }
    for (const int n_threads : {1, 3}) {
      ThreadPool pool(n_threads);
      std::vector<uint8_t> got(expected.size());
      quantize_rows(type, x.data(), got.data(), row_length, n_rows, pool);
      EXPECT_EQ(got, expected) << tensor_type_name(type) << " with " << n_threads << " threads";

      std::vector<float> back(x.size());
      dequantize_rows(type, got.data(), back.data(), row_length, n_rows, pool);
      // Within a step of the coarsest type here (Q4_0: max / 8, about 0.2 for this wave).
      for (size_t i = 0; i < x.size(); ++i) {
        ASSERT_NEAR(back[i], x[i], 0.25f) << tensor_type_name(type) << " at " << i;
      }
    }
  }
}

TEST(ConvertRows, KnowsWhichTypesHaveConversions) {
  EXPECT_TRUE(can_convert_to(TensorType::kF32));
  EXPECT_TRUE(can_convert_to(TensorType::kQ8_0));
  EXPECT_TRUE(can_convert_from(TensorType::kQ4_1));
  EXPECT_FALSE(can_convert_to(TensorType::kI32));  // no kernels for integer tensors
  EXPECT_FALSE(can_convert_from(TensorType::kF64));
}

}  // namespace
}  // namespace locara::ops
