// The x86 gemm tiles, per instruction set: every (row, token) result equals the same ISA's
// vec_dot bit for bit (and so the reference's, for the block formats), on ragged shapes
// around the register blocks, packed groups and K chunks, writing nothing outside its
// tile. And matmul() through the tiles equals matmul() one token at a time (vec_dot).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "ops/matmul.h"
#include "x86_isas.h"

namespace locara::ops {
namespace {

using test_support::activation_row;
using test_support::block_size;
using test_support::is_float_type;
using test_support::reference;
using test_support::weight_row;

struct Shape {
  int64_t blocks;  // row length in blocks (elements for the float types)
  int64_t rows;
  int64_t tokens;
};

// Around 1 / 4 / 8 / 16 / 64 rows and tokens, and K chunks of 32 blocks.
std::vector<Shape> shapes() {
  std::vector<Shape> out = {{1, 1, 2},   {1, 3, 5},   {2, 17, 3},   {3, 5, 17},  {8, 63, 64},
                            {8, 64, 65}, {33, 65, 9}, {70, 17, 63}, {5, 100, 2}, {4, 1, 64},
                            {1, 64, 1},  {32, 32, 8}, {65, 16, 7},  {7, 33, 6},  {2, 129, 4}};
  std::mt19937 rng(7);
  for (int i = 0; i < 6; ++i) {
    out.push_back({1 + static_cast<int64_t>(rng() % 40), 1 + static_cast<int64_t>(rng() % 70),
                   1 + static_cast<int64_t>(rng() % 70)});
  }
  return out;
}

class X86GemmTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!test_support::x86_isa(GetParam()).available) {
      GTEST_SKIP() << "this CPU has no " << GetParam();
    }
  }
  const TypeTraits& fast(TensorType type) const {
    return test_support::x86_isa(GetParam()).table[static_cast<size_t>(type)];
  }
};

TEST_P(X86GemmTest, TilesEqualVecDotOnRaggedShapes) {
  constexpr float kUntouched = 12345.0f;
  for (TensorType type : test_support::x86_dot_types()) {
    SCOPED_TRACE(tensor_type_name(type));
    const TypeTraits& traits = fast(type);
    ASSERT_NE(traits.gemm_tile, nullptr);
    for (const Shape& shape : shapes()) {
      // Float rows get odd lengths too: their tails are masked.
      const int64_t n = is_float_type(type) ? shape.blocks * 13 : shape.blocks * block_size(type);
      SCOPED_TRACE(testing::Message()
                   << "n " << n << " rows " << shape.rows << " tokens " << shape.tokens);
      std::vector<uint8_t> weights;
      for (int64_t r = 0; r < shape.rows; ++r) {
        const std::vector<uint8_t> row = weight_row(type, n, static_cast<uint32_t>(r), r % 2 == 1);
        weights.insert(weights.end(), row.begin(), row.end());
      }
      std::vector<uint8_t> activations;
      for (int64_t t = 0; t < shape.tokens; ++t) {
        const std::vector<uint8_t> row = activation_row(type, n, static_cast<uint32_t>(t + 500));
        activations.insert(activations.end(), row.begin(), row.end());
      }
      const size_t w_row_bytes = weights.size() / shape.rows;
      const size_t a_row_bytes = activations.size() / shape.tokens;
      const int64_t stride = shape.rows + 3;  // padding columns must stay untouched
      std::vector<float> out(static_cast<size_t>(stride * shape.tokens), kUntouched);
      traits.gemm_tile(n, weights.data(), w_row_bytes, shape.rows, activations.data(), a_row_bytes,
                       shape.tokens, out.data(), stride);
      int mismatches = 0;  // reported up to a few, then counted
      for (int64_t t = 0; t < shape.tokens; ++t) {
        const uint8_t* y = activations.data() + t * a_row_bytes;
        for (int64_t r = 0; r < shape.rows; ++r) {
          const uint8_t* x = weights.data() + r * w_row_bytes;
          const float got = out[t * stride + r];
          const float want = traits.vec_dot(n, x, y);
          // The block formats' vec_dot is the reference's bits (x86_kernels_test); check
          // it here too, so a tile is compared with the reference itself.
          const bool same =
              got == want && (is_float_type(type) || want == reference(type).vec_dot(n, x, y));
          if (!same && ++mismatches <= 5) {
            ADD_FAILURE() << "row " << r << " token " << t << ": " << got << " vs " << want;
          }
        }
        for (int64_t r = shape.rows; r < stride; ++r) EXPECT_EQ(out[t * stride + r], kUntouched);
      }
      EXPECT_EQ(mismatches, 0);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, X86GemmTest, ::testing::Values("avx2", "avx512"),
                         [](const auto& info) { return info.param; });

// The engine's path: matmul() on many tokens runs the active table's gemm tiles, on one
// token its vec_dots. Both give the same bits, so a prompt's logits do not depend on how
// it was batched.
TEST(X86MatmulTest, TiledMatmulEqualsOneTokenAtATime) {
  const int64_t n_rows = 70;
  const int64_t n_tokens = 67;
  ThreadPool pool(2);
  for (TensorType type : test_support::x86_dot_types()) {
    SCOPED_TRACE(tensor_type_name(type));
    const TypeTraits* traits = type_traits(type);
    const int64_t n = is_float_type(type) ? 301 : 40 * 32;
    std::vector<uint8_t> weights;
    for (int64_t r = 0; r < n_rows; ++r) {
      const std::vector<uint8_t> row = weight_row(type, n, static_cast<uint32_t>(r + 3), false);
      weights.insert(weights.end(), row.begin(), row.end());
    }
    const WeightMatrix matrix{type, weights.data(), n, n_rows, traits->row_bytes(n)};
    const std::vector<float> x = test_support::random_row(n * n_tokens, 9, 2.0f);
    MatmulScratch scratch;
    std::vector<float> batched(static_cast<size_t>(n_rows * n_tokens));
    matmul(matrix, x.data(), n_tokens, batched.data(), scratch, pool);
    for (int64_t t = 0; t < n_tokens; ++t) {
      std::vector<float> single(static_cast<size_t>(n_rows));
      matmul(matrix, x.data() + t * n, 1, single.data(), scratch, pool);
      for (int64_t r = 0; r < n_rows; ++r) {
        ASSERT_EQ(batched[t * n_rows + r], single[r]) << "token " << t << " row " << r;
      }
    }
  }
}

}  // namespace
}  // namespace locara::ops
