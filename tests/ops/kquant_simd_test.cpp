// The x86 K-format kernels (kquant_kernels.h), per instruction set, against the scalar
// reference: Q8_K quantization writes the reference's bytes; the dots of Q2_K .. Q6_K and
// IQ4_XS agree with it to float rounding (Q2_K's to the bit) and with each other ISA bit
// for bit; gemm tiles return vec_dot's bits on ragged shapes and write nothing outside
// their tile; matmul through the tiles equals matmul one token at a time.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "ops/half.h"
#include "ops/kernels_ref.h"
#include "ops/matmul.h"
#include "ops/quant_blocks_k.h"
#include "x86_isas.h"

#if defined(__x86_64__)
#include "ops/x86/kquant_kernels.h"
#endif

namespace locara::ops {
namespace {

using test_support::random_row;
using test_support::reference;

#if defined(__x86_64__)

// One weight type's kernels in one ISA.
struct DotKernels {
  TensorType type;
  VecDotFn vec_dot;
  GemmTileFn gemm;
};

struct Kernels {
  std::string isa;
  FromFloatFn from_float_q8_k;
  std::vector<DotKernels> dots;
};

// gtest names a failing parameter by this.
void PrintTo(const Kernels& kernels, std::ostream* os) {
  *os << kernels.isa;
}

#define LOCARA_KQUANT_DOTS(isa)                                    \
  {                                                                \
    {T::kQ2_K, isa::vec_dot_q2_k_q8_k, isa::gemm_tile_q2_k},       \
        {T::kQ3_K, isa::vec_dot_q3_k_q8_k, isa::gemm_tile_q3_k},   \
        {T::kQ4_K, isa::vec_dot_q4_k_q8_k, isa::gemm_tile_q4_k},   \
        {T::kQ5_K, isa::vec_dot_q5_k_q8_k, isa::gemm_tile_q5_k},   \
        {T::kQ6_K, isa::vec_dot_q6_k_q8_k, isa::gemm_tile_q6_k}, { \
      T::kIQ4_XS, isa::vec_dot_iq4_xs_q8_k, isa::gemm_tile_iq4_xs  \
    }                                                              \
  }

std::vector<Kernels> all_kernels() {
  using T = TensorType;
  return {{"avx2", avx2::from_float_q8_k, LOCARA_KQUANT_DOTS(avx2)},
          {"avx512", avx512::from_float_q8_k, LOCARA_KQUANT_DOTS(avx512)}};
}

#undef LOCARA_KQUANT_DOTS

class KquantSimd : public ::testing::TestWithParam<Kernels> {
 protected:
  void SetUp() override {
    if (!test_support::x86_isa(GetParam().isa).available) {
      GTEST_SKIP() << "CPU lacks " << GetParam().isa;
    }
  }
};

std::vector<int64_t> row_lengths() {
  return {256, 512, 768, 2048, 4096};
}

// Where a K-format block keeps its fp16 scales (d, and dmin).
std::vector<size_t> fp16_fields(TensorType type) {
  switch (type) {
    case TensorType::kQ2_K:
      return {offsetof(BlockQ2_K, d), offsetof(BlockQ2_K, dmin)};
    case TensorType::kQ3_K:
      return {offsetof(BlockQ3_K, d)};
    case TensorType::kQ4_K:
      return {offsetof(BlockQ4_K, d), offsetof(BlockQ4_K, dmin)};
    case TensorType::kQ5_K:
      return {offsetof(BlockQ5_K, d), offsetof(BlockQ5_K, dmin)};
    case TensorType::kQ6_K:
      return {offsetof(BlockQ6_K, d)};
    default:
      return {offsetof(BlockIQ4_XS, d)};
  }
}

// A K-format weight row: the reference quantization of random floats, or (raw) random
// bytes with sane fp16 scales, which reaches every packed scale and level pattern.
std::vector<uint8_t> k_weight_row(TensorType type, int64_t n, uint32_t seed, bool raw) {
  const TypeTraits& traits = reference(type);
  if (!raw) return test_support::encode(traits, random_row(n, seed, 1.0f, 0.05f));
  std::mt19937 rng(seed);
  std::vector<uint8_t> bytes(traits.row_bytes(n));
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> scale(0.001f, 0.05f);
  for (size_t offset = 0; offset < bytes.size(); offset += traits.type_size) {
    for (size_t field : fp16_fields(type)) {
      const uint16_t h = fp32_to_fp16(scale(rng));
      std::memcpy(&bytes[offset + field], &h, sizeof(h));
    }
  }
  return bytes;
}

std::vector<uint8_t> q8_k_row(int64_t n, uint32_t seed) {
  return test_support::encode(reference(TensorType::kQ8_K), random_row(n, seed, 2.0f));
}

// The exact dot of the decoded rows, and the sum of magnitudes that bounds its rounding.
void exact_dot(TensorType type, int64_t n, const std::vector<uint8_t>& w,
               const std::vector<uint8_t>& a, double* dot, double* magnitude) {
  const std::vector<float> wf = test_support::decode(reference(type), w, n);
  const std::vector<float> af = test_support::decode(reference(TensorType::kQ8_K), a, n);
  *dot = 0;
  *magnitude = 0;
  for (int64_t i = 0; i < n; ++i) {
    *dot += static_cast<double>(wf[i]) * af[i];
    *magnitude += std::fabs(static_cast<double>(wf[i]) * af[i]);
  }
}

// Blocks that stress the quantizer: ties for the largest magnitude, exact halves,
// zeros, infinities and NaNs, subnormal maxima.
std::vector<float> awkward_row() {
  std::vector<float> row(16 * kSuperBlockSize, 0.0f);
  float* b = row.data();
  // Block 0: all zero. Block 1: -3 then +3 tie (the first wins).
  b += kSuperBlockSize;
  for (int i = 0; i < kSuperBlockSize; ++i) b[i] = 0.01f * static_cast<float>(i % 7);
  b[5] = -3.0f;
  b[9] = 3.0f;
  // Block 2: max 127 so that iscale is -1 and k + 0.5 values round to even.
  b += kSuperBlockSize;
  for (int i = 0; i < kSuperBlockSize; ++i) b[i] = 0.5f * static_cast<float>(i % 255 - 127);
  b[0] = 127.0f;
  // Block 3: a NaN among values. Block 4: an infinity. Block 5: subnormal maximum.
  b += kSuperBlockSize;
  for (int i = 0; i < kSuperBlockSize; ++i) b[i] = std::sin(static_cast<float>(i));
  b[17] = std::numeric_limits<float>::quiet_NaN();
  b += kSuperBlockSize;
  for (int i = 0; i < kSuperBlockSize; ++i) b[i] = std::cos(static_cast<float>(i));
  b[100] = -std::numeric_limits<float>::infinity();
  b += kSuperBlockSize;
  for (int i = 0; i < kSuperBlockSize; ++i) {
    b[i] = std::numeric_limits<float>::denorm_min() * static_cast<float>(i % 5);
  }
  // Block 6: only NaNs and zeros. Blocks 7+: wide dynamic range.
  b += kSuperBlockSize;
  for (int i = 0; i < kSuperBlockSize; i += 3) b[i] = std::numeric_limits<float>::quiet_NaN();
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> exponent(-30.0f, 30.0f);
  for (b += kSuperBlockSize; b < row.data() + row.size(); ++b) {
    *b = std::exp2(exponent(rng)) * (rng() % 2 ? 1.0f : -1.0f);
  }
  return row;
}

TEST_P(KquantSimd, FromFloatQ8kWritesTheReferenceBytes) {
  const TypeTraits& ref = reference(TensorType::kQ8_K);
  std::vector<std::vector<float>> rows = {awkward_row()};
  for (int64_t n : row_lengths()) {
    rows.push_back(random_row(n, static_cast<uint32_t>(n), 1.0f));
    rows.push_back(random_row(n, static_cast<uint32_t>(n) + 1, 1e-3f, 5e-4f));
  }
  for (const std::vector<float>& row : rows) {
    const auto n = static_cast<int64_t>(row.size());
    std::vector<uint8_t> expected(ref.row_bytes(n), 0xAB);
    std::vector<uint8_t> got(ref.row_bytes(n), 0xCD);
    ref.from_float(row.data(), expected.data(), n);
    GetParam().from_float_q8_k(row.data(), got.data(), n);
    for (int64_t b = 0; b < n / kSuperBlockSize; ++b) {
      EXPECT_EQ(0, std::memcmp(expected.data() + b * sizeof(BlockQ8_K),
                               got.data() + b * sizeof(BlockQ8_K), sizeof(BlockQ8_K)))
          << "n " << n << " super-block " << b;
    }
  }
}

TEST_P(KquantSimd, DotsMatchTheReferenceToRounding) {
  for (const DotKernels& kernels : GetParam().dots) {
    const TensorType type = kernels.type;
    const VecDotFn simd = kernels.vec_dot;
    for (int64_t n : row_lengths()) {
      for (bool raw : {false, true}) {
        const auto seed = static_cast<uint32_t>(n) + (raw ? 1000u : 0u);
        const std::vector<uint8_t> w = k_weight_row(type, n, seed, raw);
        const std::vector<uint8_t> a = q8_k_row(n, seed + 7);
        double exact;
        double magnitude;
        exact_dot(type, n, w, a, &exact, &magnitude);
        const float ref = reference(type).vec_dot(n, w.data(), a.data());
        const float got = simd(n, w.data(), a.data());
        const double tolerance = 1e-5 * magnitude + 1e-30;
        EXPECT_NEAR(ref, exact, tolerance) << tensor_type_name(type) << " n " << n;
        EXPECT_NEAR(got, exact, tolerance)
            << tensor_type_name(type) << " n " << n << " raw " << raw;
      }
    }
  }
}

// Q2_K's reference sums each super-block in integers too, and its float term is formed
// as the reference forms it.
TEST_P(KquantSimd, Q2kDotsAreTheReferenceBits) {
  const VecDotFn simd = GetParam().dots.front().vec_dot;
  ASSERT_EQ(GetParam().dots.front().type, TensorType::kQ2_K);
  for (int64_t n : row_lengths()) {
    for (bool raw : {false, true}) {
      const auto seed = static_cast<uint32_t>(n) + (raw ? 3000u : 2000u);
      const std::vector<uint8_t> w = k_weight_row(TensorType::kQ2_K, n, seed, raw);
      const std::vector<uint8_t> a = q8_k_row(n, seed + 7);
      EXPECT_EQ(simd(n, w.data(), a.data()),
                reference(TensorType::kQ2_K).vec_dot(n, w.data(), a.data()))
          << "n " << n << " raw " << raw;
    }
  }
}

// Both ISAs compute the same integer sums and float terms.
TEST(KquantSimdIsas, Avx2AndAvx512DotsAreBitIdentical) {
  if (!test_support::x86_isa("avx2").available || !test_support::x86_isa("avx512").available) {
    GTEST_SKIP() << "needs both AVX2 and AVX-512";
  }
  const std::vector<Kernels> kernels = all_kernels();
  ASSERT_EQ(kernels[0].dots.size(), kernels[1].dots.size());
  for (size_t i = 0; i < kernels[0].dots.size(); ++i) {
    const TensorType type = kernels[0].dots[i].type;
    for (int64_t n : row_lengths()) {
      const std::vector<uint8_t> a = q8_k_row(n, 11);
      const std::vector<uint8_t> w = k_weight_row(type, n, 12 + static_cast<uint32_t>(i), true);
      EXPECT_EQ(kernels[0].dots[i].vec_dot(n, w.data(), a.data()),
                kernels[1].dots[i].vec_dot(n, w.data(), a.data()))
          << tensor_type_name(type) << " n " << n;
    }
  }
}

struct Shape {
  int64_t n;
  int64_t rows;
  int64_t tokens;
};

// Rows [0, count) of a matrix of K-format weights (two of every eight rows quantized from
// floats, the rest raw bytes), cached: quantizing is the slow part of these tests.
const std::vector<uint8_t>& weight_matrix(TensorType type, int64_t n) {
  static std::map<std::pair<TensorType, int64_t>, std::vector<uint8_t>> cache;
  std::vector<uint8_t>& w = cache[{type, n}];
  if (w.empty()) {
    for (int64_t r = 0; r < 65; ++r) {
      const std::vector<uint8_t> row =
          k_weight_row(type, n, static_cast<uint32_t>(r * 31 + n), r % 8 > 1);
      w.insert(w.end(), row.begin(), row.end());
    }
  }
  return w;
}

TEST_P(KquantSimd, GemmTilesReturnVecDotBits) {
  // Ragged around the 16-row groups, 6-token register blocks and 64 x 64 tiles; long rows
  // on the smaller shapes only, to keep the test fast under sanitizers.
  const std::vector<int64_t> sizes = {1, 3, 7, 17, 63, 64, 65};
  std::vector<Shape> shapes;
  for (size_t i = 0; i < sizes.size(); ++i) {
    for (size_t j = 0; j < sizes.size(); ++j) {
      const int64_t area = sizes[i] * sizes[j];
      const int64_t n = area > 1000 ? 256 : area > 100 ? 768 : (i + j) % 2 ? 2048 : 4096;
      shapes.push_back({n, sizes[i], sizes[j]});
    }
  }
  for (const DotKernels& kernels : GetParam().dots) {
    const TensorType type = kernels.type;
    const GemmTileFn gemm = kernels.gemm;
    const VecDotFn dot = kernels.vec_dot;
    const TypeTraits& traits = reference(type);
    for (const Shape& shape : shapes) {
      const size_t w_row_bytes = traits.row_bytes(shape.n);
      const size_t a_row_bytes = reference(TensorType::kQ8_K).row_bytes(shape.n);
      const std::vector<uint8_t>& w = weight_matrix(type, shape.n);
      std::vector<uint8_t> a;
      for (int64_t t = 0; t < shape.tokens; ++t) {
        const std::vector<uint8_t> row = q8_k_row(shape.n, static_cast<uint32_t>(t * 17 + 5));
        a.insert(a.end(), row.begin(), row.end());
      }
      // Output rows wider than the tile: the extra columns must stay untouched.
      const int64_t stride = shape.rows + 3;
      const float sentinel = -12345.0f;
      std::vector<float> out(static_cast<size_t>(stride * shape.tokens), sentinel);
      gemm(shape.n, w.data(), w_row_bytes, shape.rows, a.data(), a_row_bytes, shape.tokens,
           out.data(), stride);
      for (int64_t t = 0; t < shape.tokens; ++t) {
        for (int64_t r = 0; r < stride; ++r) {
          const float got = out[t * stride + r];
          if (r >= shape.rows) {
            ASSERT_EQ(got, sentinel) << "wrote outside the tile";
            continue;
          }
          const float expected =
              dot(shape.n, w.data() + r * w_row_bytes, a.data() + t * a_row_bytes);
          ASSERT_EQ(got, expected)
              << tensor_type_name(type) << " n " << shape.n << " rows " << shape.rows << " tokens "
              << shape.tokens << " at r " << r << " t " << t;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, KquantSimd, ::testing::ValuesIn(all_kernels()),
                         [](const auto& info) { return info.param.isa; });

#endif  // __x86_64__

// Through the active table (whatever this CPU and LOCARA_ISA select): the prompt path
// (gemm tiles for >= 2 tokens) equals the generation path (one token at a time).
TEST(KquantMatmul, TilesEqualOneTokenAtATime) {
  ThreadPool pool(2);
  for (TensorType type : {TensorType::kQ2_K, TensorType::kQ3_K, TensorType::kQ4_K,
                          TensorType::kQ5_K, TensorType::kQ6_K, TensorType::kIQ4_XS}) {
    const int64_t n = 768;
    const int64_t rows = 97;
    const int64_t tokens = 70;
    const TypeTraits& traits = reference(type);
    const std::vector<uint8_t> w = test_support::encode(traits, random_row(n * rows, 5, 1.0f));
    const std::vector<float> x = random_row(n * tokens, 6, 2.0f);
    const WeightMatrix matrix{type, w.data(), n, rows, traits.row_bytes(n)};
    MatmulScratch scratch;
    std::vector<float> batched(static_cast<size_t>(rows * tokens));
    matmul(matrix, x.data(), tokens, batched.data(), scratch, pool);
    std::vector<float> single(static_cast<size_t>(rows));
    for (int64_t t = 0; t < tokens; ++t) {
      matmul(matrix, x.data() + t * n, 1, single.data(), scratch, pool);
      for (int64_t r = 0; r < rows; ++r) {
        ASSERT_EQ(batched[t * rows + r], single[r])
            << tensor_type_name(type) << " token " << t << " row " << r;
      }
    }
  }
}

}  // namespace
}  // namespace locara::ops
