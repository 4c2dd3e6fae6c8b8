// The reference table: its shape, the block layouts (pinned by hand-made blocks), the
// quantization error of from_float, and vec_dot against a double-precision dot.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "gguf/tensor_type.h"
#include "ops/half.h"
#include "ops/quant_blocks.h"
#include "ops/type_traits.h"
#include "test_rows.h"

namespace locara::ops {
namespace {

using test_support::decode;
using test_support::encode;
using test_support::random_row;
using test_support::types_with_kernels;

const TypeTraits& traits_of(TensorType type) {
  const TypeTraits* traits = reference_type_traits(type);
  EXPECT_NE(traits, nullptr) << tensor_type_name(type);
  return *traits;
}

TEST(TypeTraitsTest, TableShape) {
  for (TensorType type : types_with_kernels()) {
    SCOPED_TRACE(tensor_type_name(type));
    const TypeTraits* ref = reference_type_traits(type);
    const TypeTraits* active = type_traits(type);
    ASSERT_NE(ref, nullptr);
    ASSERT_NE(active, nullptr);
    EXPECT_NE(ref->to_float, nullptr);
    EXPECT_NE(ref->from_float, nullptr);
    EXPECT_EQ(ref->vec_dot == nullptr, type == TensorType::kQ8_1);
    // Geometry agrees with the GGUF layer's table.
    const TensorTypeInfo& info = tensor_type_info(type);
    EXPECT_EQ(ref->block_size, info.block_size);
    EXPECT_EQ(ref->type_size, info.type_size);
    EXPECT_EQ(active->block_size, ref->block_size);
    EXPECT_EQ(active->vec_dot_type, ref->vec_dot_type);
    // The activation type of every dot can itself be produced.
    const TypeTraits* dot_type = type_traits(active->vec_dot_type);
    ASSERT_NE(dot_type, nullptr);
    EXPECT_NE(dot_type->from_float, nullptr);
  }
  using T = TensorType;
  EXPECT_EQ(type_traits(T::kF32)->vec_dot_type, T::kF32);
  EXPECT_EQ(type_traits(T::kF16)->vec_dot_type, T::kF16);
  EXPECT_EQ(type_traits(T::kBF16)->vec_dot_type, T::kBF16);
  EXPECT_EQ(type_traits(T::kQ4_0)->vec_dot_type, T::kQ8_0);
  EXPECT_EQ(type_traits(T::kQ5_0)->vec_dot_type, T::kQ8_0);
  EXPECT_EQ(type_traits(T::kQ8_0)->vec_dot_type, T::kQ8_0);
  EXPECT_EQ(type_traits(T::kQ4_1)->vec_dot_type, T::kQ8_1);
  EXPECT_EQ(type_traits(T::kQ5_1)->vec_dot_type, T::kQ8_1);
  EXPECT_EQ(type_traits(T::kIQ2_XXS), nullptr);
  EXPECT_EQ(type_traits(T::kIQ1_S), nullptr);
  EXPECT_EQ(reference_type_traits(T::kCount), nullptr);
}

TEST(BlockLayoutTest, Q4_0NibblesAreElementAndElementPlus16) {
  BlockQ4_0 block{};
  block.d = fp32_to_fp16(0.5f);
  for (int j = 0; j < 16; ++j) block.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float out[32];
  traits_of(TensorType::kQ4_0).to_float(&block, out, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], (j - 8) * 0.5f) << j;
    EXPECT_EQ(out[j + 16], (7 - j) * 0.5f) << j;
  }
}

TEST(BlockLayoutTest, Q4_1AddsTheMinimum) {
  BlockQ4_1 block{};
  block.d = fp32_to_fp16(0.25f);
  block.m = fp32_to_fp16(-1.0f);
  for (int j = 0; j < 16; ++j) block.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float out[32];
  traits_of(TensorType::kQ4_1).to_float(&block, out, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], j * 0.25f - 1.0f) << j;
    EXPECT_EQ(out[j + 16], (15 - j) * 0.25f - 1.0f) << j;
  }
}

TEST(BlockLayoutTest, Q5HighBitOfElementJIsBitJOfQh) {
  BlockQ5_0 block0{};
  BlockQ5_1 block1{};
  block0.d = block1.d = fp32_to_fp16(1.0f);
  block1.m = fp32_to_fp16(0.5f);
  // High bits set for elements 0, 3, 16 and 31 (qh little-endian: bytes 0 and 2, 3).
  const uint32_t qh = (1u << 0) | (1u << 3) | (1u << 16) | (1u << 31);
  const uint8_t qh_bytes[4] = {static_cast<uint8_t>(qh), static_cast<uint8_t>(qh >> 8),
                               static_cast<uint8_t>(qh >> 16), static_cast<uint8_t>(qh >> 24)};
  std::memcpy(block0.qh, qh_bytes, 4);
  std::memcpy(block1.qh, qh_bytes, 4);
  for (int j = 0; j < 16; ++j) {
    block0.qs[j] = block1.qs[j] = static_cast<uint8_t>((j & 15) | (((j + 5) & 15) << 4));
  }
  float out0[32];
  float out1[32];
  traits_of(TensorType::kQ5_0).to_float(&block0, out0, 32);
  traits_of(TensorType::kQ5_1).to_float(&block1, out1, 32);
  for (int e = 0; e < 32; ++e) {
    const int low = e < 16 ? (e & 15) : ((e - 16 + 5) & 15);
    const int q = low | (((qh >> e) & 1) ? 16 : 0);
    EXPECT_EQ(out0[e], static_cast<float>(q - 16)) << e;
    EXPECT_EQ(out1[e], static_cast<float>(q) + 0.5f) << e;
  }
}

TEST(BlockLayoutTest, Q8BlocksAreSignedBytesTimesScale) {
  BlockQ8_0 block0{};
  BlockQ8_1 block1{};
  block0.d = block1.d = fp32_to_fp16(2.0f);
  for (int j = 0; j < 32; ++j) block0.qs[j] = block1.qs[j] = static_cast<int8_t>(j * 8 - 128);
  float out0[32];
  float out1[32];
  traits_of(TensorType::kQ8_0).to_float(&block0, out0, 32);
  traits_of(TensorType::kQ8_1).to_float(&block1, out1, 32);
  for (int j = 0; j < 32; ++j) {
    EXPECT_EQ(out0[j], (j * 8 - 128) * 2.0f);
    EXPECT_EQ(out1[j], (j * 8 - 128) * 2.0f);
  }
}

TEST(QuantizeTest, MatchesGgmlRoundingOnAHandMadeBlock) {
  // Largest magnitude -4 (negative): Q4_0's d = -4 / -8 = 0.5, so x maps to q = x/0.5 + 8.
  std::vector<float> x(32, 0.0f);
  x[0] = -4.0f;
  x[1] = 3.75f;   // 7.5 + 8.5 = 16 -> clamped to 15 (value 3.5)
  x[2] = 0.25f;   // 0.5 + 8.5 = 9 -> 9 (round half up)
  x[3] = -0.25f;  // -0.5 + 8.5 = 8 -> 8
  x[17] = 1.0f;   // element 17 lands in the high nibble of qs[1]
  const std::vector<uint8_t> bytes = encode(traits_of(TensorType::kQ4_0), x);
  BlockQ4_0 block;
  std::memcpy(&block, bytes.data(), sizeof(block));
  EXPECT_EQ(block.d, fp32_to_fp16(0.5f));
  EXPECT_EQ(block.qs[0], 0 | (8 << 4));
  EXPECT_EQ(block.qs[1], 15 | (10 << 4));
  EXPECT_EQ(block.qs[2], 9 | (8 << 4));
  EXPECT_EQ(block.qs[3], 8 | (8 << 4));
}

TEST(QuantizeTest, ZeroBlocksHaveZeroScale) {
  const std::vector<float> zeros(64, 0.0f);
  for (TensorType type : types_with_kernels()) {
    SCOPED_TRACE(tensor_type_name(type));
    const TypeTraits& traits = traits_of(type);
    const std::vector<float> back = decode(traits, encode(traits, zeros), 64);
    for (float v : back) EXPECT_EQ(v, 0.0f);
  }
}

TEST(QuantizeTest, Q8_1StoresScaleTimesSum) {
  const std::vector<float> x = random_row(256, 7, 3.0f, 0.5f);
  const std::vector<uint8_t> bytes = encode(traits_of(TensorType::kQ8_1), x);
  for (size_t b = 0; b < x.size() / 32; ++b) {
    BlockQ8_1 block;
    std::memcpy(&block, bytes.data() + b * sizeof(block), sizeof(block));
    int sum = 0;
    for (int8_t q : block.qs) sum += q;
    // s is d * sum rounded once to fp16, with d the unrounded float scale.
    const float d = fp16_to_fp32(block.d);
    EXPECT_NEAR(fp16_to_fp32(block.s), sum * d, std::fabs(sum * d) * 2e-3 + 1e-6) << b;
  }
}

// Largest error from_float may make on an element of this block, from the format's
// step (half a step when rounding, a whole one where Q4_0/Q5_0 clamp the side opposite
// the extreme) plus the fp16 rounding of the scale and minimum (relative 2^-11).
double error_bound(TensorType type, const float* block, int64_t block_size) {
  float amax = 0.0f;
  float min = block[0];
  float max = block[0];
  for (int64_t j = 0; j < block_size; ++j) {
    amax = std::max(amax, std::fabs(block[j]));
    min = std::min(min, block[j]);
    max = std::max(max, block[j]);
  }
  const double range = static_cast<double>(max) - min;
  const double fp16_slack = 1e-3;
  switch (type) {
    case TensorType::kF32:
      return 0.0;
    case TensorType::kF16:
      return amax * 0x1p-11;
    case TensorType::kBF16:
      return amax * 0x1p-8;
    case TensorType::kQ4_0:
      return amax / 8.0 * 1.001 + amax * fp16_slack;
    case TensorType::kQ5_0:
      return amax / 16.0 * 1.001 + amax * fp16_slack;
    case TensorType::kQ4_1:
      return range / 15 * 0.5 + (range + std::fabs(min)) * fp16_slack;
    case TensorType::kQ5_1:
      return range / 31 * 0.5 + (range + std::fabs(min)) * fp16_slack;
    case TensorType::kQ8_0:
    case TensorType::kQ8_1:
      return amax / 127.0 * 0.5 + amax * fp16_slack;
    default:
      return 0.0;
  }
}

TEST(QuantizeTest, RoundTripErrorIsBounded) {
  for (TensorType type : types_with_kernels()) {
    SCOPED_TRACE(tensor_type_name(type));
    const TypeTraits& traits = traits_of(type);
    uint32_t seed = 1;
    for (int64_t n : {32, 64, 256, 4096}) {
      for (float offset : {0.0f, 2.5f, -10.0f}) {
        const std::vector<float> x = random_row(n, seed++, 1.5f, offset);
        const std::vector<float> back = decode(traits, encode(traits, x), n);
        const int64_t block = std::max<int64_t>(traits.block_size, 32);
        for (int64_t b = 0; b < n; b += block) {
          const double bound = error_bound(type, x.data() + b, block) + 1e-7;
          for (int64_t j = b; j < b + block; ++j) {
            ASSERT_LE(std::fabs(static_cast<double>(back[j]) - x[j]), bound)
                << "n " << n << " offset " << offset << " element " << j;
          }
        }
      }
    }
  }
}

// vec_dot of the quantized x with y converted to the vec_dot_type must equal the exact
// dot of the two decoded rows up to the float rounding of the per-block scaling. Q4_1 and
// Q5_1 also use Q8_1's s, which is rounded to fp16: a relative 2^-11 of m * sum(y).
TEST(VecDotTest, EqualsDoubleDotOfDecodedRows) {
  for (TensorType type : types_with_kernels()) {
    const TypeTraits& traits = traits_of(type);
    if (traits.vec_dot == nullptr) continue;
    SCOPED_TRACE(tensor_type_name(type));
    const TypeTraits& dot_traits = traits_of(traits.vec_dot_type);
    const bool uses_block_sum = traits.vec_dot_type == TensorType::kQ8_1;
    uint32_t seed = 100;
    for (int64_t n : {32, 96, 512, 4096}) {
      for (float offset : {0.0f, 0.7f}) {
        const std::vector<float> x_values = random_row(n, seed++, 1.0f, offset);
        const std::vector<float> y_values = random_row(n, seed++, 2.0f, offset);
        const std::vector<uint8_t> x = encode(traits, x_values);
        const std::vector<uint8_t> y = encode(dot_traits, y_values);
        const std::vector<float> x_decoded = decode(traits, x, n);
        const std::vector<float> y_decoded = decode(dot_traits, y, n);
        double exact = 0.0;
        double magnitude = 0.0;
        for (int64_t i = 0; i < n; ++i) {
          exact += static_cast<double>(x_decoded[i]) * y_decoded[i];
          magnitude += std::fabs(static_cast<double>(x_decoded[i]) * y_decoded[i]);
        }
        const double tolerance = magnitude * (uses_block_sum ? 2e-3 : 1e-5) + 1e-6;
        EXPECT_NEAR(traits.vec_dot(n, x.data(), y.data()), exact, tolerance)
            << "n " << n << " offset " << offset;
      }
    }
  }
}

TEST(VecDotTest, FloatDotsAccumulateInDouble) {
  // 1 + 2^-30 * n: a float accumulator would lose every small term.
  const int64_t n = 1024;
  std::vector<float> x(n, 0x1p-15f);
  std::vector<float> y(n, 0x1p-15f);
  x[0] = y[0] = 1.0f;
  const float dot = traits_of(TensorType::kF32).vec_dot(n, x.data(), y.data());
  EXPECT_EQ(dot, static_cast<float>(1.0 + (n - 1) * 0x1p-30));
}

}  // namespace
}  // namespace locara::ops
