// The x86 SIMD kernels (src/ops/x86/) against the reference table, per instruction set:
// from_float byte for byte, to_float bit for bit, and every vec_dot on ragged lengths
// (exactly for the block formats, within float summation-order tolerance for the float
// types). An ISA this CPU lacks is skipped.
#include "ops/x86/x86_kernels.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "x86_isas.h"

namespace locara::ops {
namespace {

using test_support::activation_row;
using test_support::block_size;
using test_support::decode;
using test_support::encode;
using test_support::is_float_type;
using test_support::random_row;
using test_support::reference;
using test_support::weight_row;
using test_support::X86Isa;

class X86KernelsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!isa().available) GTEST_SKIP() << "this CPU has no " << GetParam();
  }
  const X86Isa& isa() const { return test_support::x86_isa(GetParam()); }
  const TypeTraits& fast(TensorType type) const { return isa().table[static_cast<size_t>(type)]; }
};

// Q8 activation rows with the hard cases: ties at .5 (amax 127 makes d = 1 exactly),
// zero blocks, a lone value, tiny and huge magnitudes.
std::vector<float> q8_test_row(int64_t n_blocks, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> row = random_row(n_blocks * kQuantBlockSize, seed, 3.0f);
  for (int64_t b = 0; b < n_blocks; ++b) {
    float* block = row.data() + b * kQuantBlockSize;
    switch (b % 6) {
      case 0:  // ties: x * (1 / d) = k + 0.5 exactly
        for (int j = 0; j < kQuantBlockSize; ++j) {
          block[j] = static_cast<float>(static_cast<int>(rng() % 254) - 127) + 0.5f;
        }
        block[0] = 127.0f;
        block[1] = std::min(block[1], 126.5f);
        break;
      case 1:
        for (int j = 0; j < kQuantBlockSize; ++j) block[j] = 0.0f;
        break;
      case 2:
        for (int j = 0; j < kQuantBlockSize; ++j) block[j] = 0.0f;
        block[rng() % kQuantBlockSize] = -1e-3f;
        break;
      case 3:
        for (int j = 0; j < kQuantBlockSize; ++j) block[j] *= 1e-6f;
        break;
      case 4:
        for (int j = 0; j < kQuantBlockSize; ++j) block[j] *= 3e4f;
        break;
      default:
        break;
    }
  }
  return row;
}

TEST_P(X86KernelsTest, QuantizesActivationsToTheReferenceBytes) {
  for (TensorType type : {TensorType::kQ8_0, TensorType::kQ8_1}) {
    SCOPED_TRACE(tensor_type_name(type));
    for (int64_t n_blocks : {1, 2, 3, 4, 5, 6, 7, 8, 17, 64, 129}) {
      for (uint32_t seed = 1; seed <= 3; ++seed) {
        const std::vector<float> row = q8_test_row(n_blocks, seed * 31 + n_blocks);
        EXPECT_EQ(encode(fast(type), row), encode(reference(type), row))
            << n_blocks << " blocks, seed " << seed;
      }
    }
  }
}

// Floats that stress the half conversions: every exponent, halfway cases, subnormals,
// overflow, infinities and NaNs (with payloads and signs).
std::vector<float> half_test_values() {
  std::vector<float> values;
  for (uint64_t bits = 0; bits <= 0xffffffffull; bits += 0x10001ull * 3) {
    values.push_back(std::bit_cast<float>(static_cast<uint32_t>(bits)));
  }
  for (float v :
       {0.0f, -0.0f, 65504.0f, 65519.996f, 65520.0f, 0x1p-24f, 0x1p-25f, 0x3p-26f, 0x1.8p-24f,
        1e-45f, std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
        std::bit_cast<float>(0x7f800001u), std::bit_cast<float>(0xffc12345u),
        std::bit_cast<float>(0x7fbfffffu), 1.0009766f, 1.0004883f, 1.00390625f, 1.005859375f}) {
    values.push_back(v);
    values.push_back(-v);
  }
  return values;
}

TEST_P(X86KernelsTest, ConvertsHalvesLikeTheReference) {
  const std::vector<float> values = half_test_values();
  for (TensorType type : {TensorType::kF16, TensorType::kBF16}) {
    SCOPED_TRACE(tensor_type_name(type));
    // from_float, whole and in ragged pieces (the masked tails).
    EXPECT_EQ(encode(fast(type), values), encode(reference(type), values));
    for (size_t n = 1; n <= 40; ++n) {
      const std::vector<float> piece(values.begin() + 1000, values.begin() + 1000 + n);
      EXPECT_EQ(encode(fast(type), piece), encode(reference(type), piece)) << n;
    }
    // to_float of every 16-bit pattern, compared as bits (NaNs included).
    std::vector<uint8_t> all(2 * 65536 + 2 * 7);
    for (size_t i = 0; i < all.size() / 2; ++i) {
      all[2 * i] = static_cast<uint8_t>(i);
      all[2 * i + 1] = static_cast<uint8_t>(i >> 8);
    }
    const auto n = static_cast<int64_t>(all.size() / 2);
    const std::vector<float> got = decode(fast(type), all, n);
    const std::vector<float> want = decode(reference(type), all, n);
    EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0);
  }
}

// Summed |x_i * y_i| of the decoded rows: the scale of a float dot's rounding error.
double absolute_products(TensorType type, const std::vector<uint8_t>& x,
                         const std::vector<uint8_t>& y, int64_t n) {
  const std::vector<float> xf = decode(reference(type), x, n);
  const std::vector<float> yf = decode(reference(reference(type).vec_dot_type), y, n);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::fabs(static_cast<double>(xf[i]) * yf[i]);
  return sum;
}

// Row lengths in blocks: every short one (all tails), around the 16-block groups, and long.
const std::vector<int64_t> kDotBlocks = {1,  2,  3,  4,  5,  6,  7,   8,   9,  15,
                                         16, 17, 31, 32, 33, 47, 100, 256, 301};

TEST_P(X86KernelsTest, VecDotMatchesTheReference) {
  for (TensorType type : test_support::x86_dot_types()) {
    SCOPED_TRACE(tensor_type_name(type));
    const VecDotFn dot = fast(type).vec_dot;
    ASSERT_NE(dot, reference(type).vec_dot) << "not replaced";
    std::vector<int64_t> lengths;
    for (int64_t blocks : kDotBlocks) lengths.push_back(blocks * 32);
    if (is_float_type(type)) {
      for (int64_t n = 1; n <= 70; ++n) lengths.push_back(n);
      lengths.push_back(4099);
    }
    for (int64_t n : lengths) {
      for (bool raw : {false, true}) {
        const auto seed = static_cast<uint32_t>(n * 2 + raw);
        const std::vector<uint8_t> x = weight_row(type, n, seed, raw);
        const std::vector<uint8_t> y = activation_row(type, n, seed + 1000);
        const float want = reference(type).vec_dot(n, x.data(), y.data());
        const float got = dot(n, x.data(), y.data());
        if (is_float_type(type)) {
          EXPECT_NEAR(got, want, 1e-5 * absolute_products(type, x, y, n)) << "n " << n;
        } else {
          // Exact integer sums, the reference's float order: the same bits.
          EXPECT_EQ(got, want) << "n " << n << (raw ? " raw" : "");
        }
      }
    }
  }
}

TEST_P(X86KernelsTest, ReplacesTheActivationConversions) {
  EXPECT_NE(fast(TensorType::kQ8_0).from_float, reference(TensorType::kQ8_0).from_float);
  EXPECT_NE(fast(TensorType::kQ8_1).from_float, reference(TensorType::kQ8_1).from_float);
  EXPECT_NE(fast(TensorType::kF16).from_float, reference(TensorType::kF16).from_float);
  EXPECT_NE(fast(TensorType::kBF16).from_float, reference(TensorType::kBF16).from_float);
}

INSTANTIATE_TEST_SUITE_P(Isa, X86KernelsTest, ::testing::Values("avx2", "avx512"),
                         [](const auto& info) { return info.param; });

// Where the CPU has AVX512_BF16, the table holds the vdpbf16ps kernels; the widening ones
// it would use elsewhere are tested here directly.
TEST(X86Avx512Bf16Test, WideningAndDpbf16KernelsMatchTheReference) {
  const CpuFeatures& cpu = detected_cpu_features();
  if (!cpu.has_avx512_kernels()) GTEST_SKIP() << "no AVX-512";
#if defined(__x86_64__)
  std::vector<VecDotFn> dots = {avx512::vec_dot_bf16};
  if (cpu.avx512_bf16) dots.push_back(avx512::vec_dot_bf16_dpbf16);
  for (VecDotFn dot : dots) {
    for (int64_t n : {1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000, 4099}) {
      const std::vector<uint8_t> x = weight_row(TensorType::kBF16, n, 5, false);
      const std::vector<uint8_t> y = activation_row(TensorType::kBF16, n, 6);
      EXPECT_NEAR(dot(n, x.data(), y.data()),
                  reference(TensorType::kBF16).vec_dot(n, x.data(), y.data()),
                  1e-5 * absolute_products(TensorType::kBF16, x, y, n))
          << n;
    }
  }
#endif
}

// AVX2 emulates the AVX-512 float order, and the block formats are the reference's bits
// on both: every dot and tile agrees across the two instruction sets, bit for bit.
TEST(X86CrossIsaTest, Avx2AndAvx512ReturnTheSameBits) {
  if (!detected_cpu_features().has_avx512_kernels()) GTEST_SKIP() << "no AVX-512";
  const X86Isa& avx2 = test_support::x86_isa("avx2");
  const X86Isa& avx512 = test_support::x86_isa("avx512");
  for (TensorType type : test_support::x86_dot_types()) {
    SCOPED_TRACE(tensor_type_name(type));
    VecDotFn dot2 = avx2.table[static_cast<size_t>(type)].vec_dot;
    VecDotFn dot512 = avx512.table[static_cast<size_t>(type)].vec_dot;
    GemmTileFn gemm2 = avx2.table[static_cast<size_t>(type)].gemm_tile;
    GemmTileFn gemm512 = avx512.table[static_cast<size_t>(type)].gemm_tile;
#if defined(__x86_64__)
    if (type == TensorType::kBF16) {  // the widening kernels, not vdpbf16ps
      dot512 = avx512::vec_dot_bf16;
      gemm512 = avx512::gemm_tile_bf16;
    }
#endif
    std::vector<int64_t> lengths;
    for (int64_t blocks : kDotBlocks) lengths.push_back(blocks * 32);
    if (is_float_type(type)) {
      for (int64_t n = 1; n <= 70; ++n) lengths.push_back(n);
      lengths.push_back(4099);
    }
    for (int64_t n : lengths) {
      const std::vector<uint8_t> x = weight_row(type, n, static_cast<uint32_t>(n), true);
      const std::vector<uint8_t> y = activation_row(type, n, static_cast<uint32_t>(n + 1));
      const float a = dot2(n, x.data(), y.data());
      const float b = dot512(n, x.data(), y.data());
      EXPECT_EQ(std::bit_cast<uint32_t>(a), std::bit_cast<uint32_t>(b)) << "n " << n;
    }
    // A 5 x 3 tile of rows of 100 blocks (or 1600 + 7 floats, off the chunks).
    for (int64_t n : {int64_t{3200}, int64_t{1607}}) {
      if (n % block_size(type) != 0) continue;
      std::vector<uint8_t> w;
      std::vector<uint8_t> act;
      for (uint32_t r = 0; r < 5; ++r) {
        const std::vector<uint8_t> row = weight_row(type, n, r, false);
        w.insert(w.end(), row.begin(), row.end());
      }
      for (uint32_t t = 0; t < 3; ++t) {
        const std::vector<uint8_t> row = activation_row(type, n, t + 9);
        act.insert(act.end(), row.begin(), row.end());
      }
      std::vector<float> out2(15);
      std::vector<float> out512(15);
      gemm2(n, w.data(), w.size() / 5, 5, act.data(), act.size() / 3, 3, out2.data(), 5);
      gemm512(n, w.data(), w.size() / 5, 5, act.data(), act.size() / 3, 3, out512.data(), 5);
      EXPECT_EQ(std::memcmp(out2.data(), out512.data(), sizeof(float) * 15), 0) << "n " << n;
    }
  }
}

}  // namespace
}  // namespace locara::ops
