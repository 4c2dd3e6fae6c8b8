#include "ops/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ops/type_traits.h"
#include "test_rows.h"

namespace locara::ops {
namespace {

using test_support::random_row;
using test_support::types_with_kernels;

// A weight matrix quantized from random floats; owns its bytes.
struct TestWeights {
  std::vector<uint8_t> bytes;
  WeightMatrix matrix;
};

TestWeights make_weights(TensorType type, int64_t n_rows, int64_t row_length, uint32_t seed) {
  const TypeTraits* traits = type_traits(type);
  TestWeights weights;
  weights.matrix.type = type;
  weights.matrix.row_length = row_length;
  weights.matrix.n_rows = n_rows;
  weights.matrix.row_bytes = traits->row_bytes(row_length);
  weights.bytes.resize(weights.matrix.row_bytes * static_cast<size_t>(n_rows));
  const std::vector<float> values = random_row(n_rows * row_length, seed, 1.0f, 0.1f);
  for (int64_t r = 0; r < n_rows; ++r) {
    traits->from_float(values.data() + r * row_length,
                       weights.bytes.data() + r * weights.matrix.row_bytes, row_length);
  }
  weights.matrix.data = weights.bytes.data();
  return weights;
}

// The definition, one dot at a time: convert x[t], dot it with row r.
std::vector<float> naive_matmul(const WeightMatrix& w, const std::vector<float>& x,
                                int64_t n_tokens) {
  const TypeTraits* traits = type_traits(w.type);
  const TypeTraits* dot_traits = type_traits(traits->vec_dot_type);
  std::vector<float> out(static_cast<size_t>(n_tokens * w.n_rows));
  std::vector<uint8_t> converted(dot_traits->row_bytes(w.row_length));
  for (int64_t t = 0; t < n_tokens; ++t) {
    dot_traits->from_float(x.data() + t * w.row_length, converted.data(), w.row_length);
    for (int64_t r = 0; r < w.n_rows; ++r) {
      const auto* row = static_cast<const uint8_t*>(w.data) + r * w.row_bytes;
      out[static_cast<size_t>(t * w.n_rows + r)] =
          traits->vec_dot(w.row_length, row, converted.data());
    }
  }
  return out;
}

TEST(MatmulTest, EqualsNaiveLoopForEveryTypeTokenCountAndThreadCount) {
  const int64_t n_rows = 37;  // not a multiple of the thread counts
  const int64_t row_length = 96;
  for (TensorType type : types_with_kernels()) {
    if (type_traits(type)->vec_dot == nullptr) continue;
    SCOPED_TRACE(tensor_type_name(type));
    const TestWeights weights = make_weights(type, n_rows, row_length, 11);
    for (int64_t n_tokens : {1, 3}) {
      const std::vector<float> x = random_row(n_tokens * row_length, 23, 2.0f);
      const std::vector<float> expected = naive_matmul(weights.matrix, x, n_tokens);
      for (int n_threads : {1, 3}) {
        ThreadPool pool(n_threads);
        MatmulScratch scratch;
        std::vector<float> out(expected.size(), -1.0f);
        matmul(weights.matrix, x.data(), n_tokens, out.data(), scratch, pool);
        // Same kernels, same inputs: the same bits, whatever the split.
        EXPECT_EQ(out, expected) << "tokens " << n_tokens << " threads " << n_threads;
      }
    }
  }
}

TEST(MatmulTest, F32WeightsMatchADoubleProduct) {
  const int64_t n_rows = 5;
  const int64_t row_length = 33;  // plain floats need no block multiple
  const TestWeights weights = make_weights(TensorType::kF32, n_rows, row_length, 3);
  const std::vector<float> x = random_row(2 * row_length, 4);
  ThreadPool pool(2);
  MatmulScratch scratch;
  std::vector<float> out(static_cast<size_t>(2 * n_rows));
  matmul(weights.matrix, x.data(), 2, out.data(), scratch, pool);
  const auto* w = reinterpret_cast<const float*>(weights.bytes.data());
  for (int64_t t = 0; t < 2; ++t) {
    for (int64_t r = 0; r < n_rows; ++r) {
      double expected = 0.0;
      for (int64_t i = 0; i < row_length; ++i) {
        expected += static_cast<double>(w[r * row_length + i]) * x[t * row_length + i];
      }
      EXPECT_NEAR(out[t * n_rows + r], expected, 1e-5);
    }
  }
  EXPECT_TRUE(scratch.converted.empty());  // F32 activations are read in place
}

TEST(MatmulTest, ReusesScratchAcrossShapes) {
  ThreadPool pool(2);
  MatmulScratch scratch;
  for (int64_t n_tokens : {4, 1, 2}) {
    const TestWeights weights = make_weights(TensorType::kQ4_0, 8, 64, 5);
    const std::vector<float> x = random_row(n_tokens * 64, 6);
    std::vector<float> out(static_cast<size_t>(n_tokens * 8));
    matmul(weights.matrix, x.data(), n_tokens, out.data(), scratch, pool);
    EXPECT_EQ(out, naive_matmul(weights.matrix, x, n_tokens));
  }
}

TEST(MatmulTest, DequantizeRowEqualsToFloatOfThatRow) {
  for (TensorType type : types_with_kernels()) {
    SCOPED_TRACE(tensor_type_name(type));
    const TestWeights weights = make_weights(type, 4, 64, 9);
    const TypeTraits* traits = type_traits(type);
    for (int64_t r = 0; r < 4; ++r) {
      std::vector<float> expected(64);
      std::vector<float> row(64);
      traits->to_float(weights.bytes.data() + r * weights.matrix.row_bytes, expected.data(), 64);
      dequantize_row(weights.matrix, r, row.data());
      EXPECT_EQ(row, expected) << r;
    }
  }
}

}  // namespace
}  // namespace locara::ops
