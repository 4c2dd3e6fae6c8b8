// The K and IQ4 entries of the reference table: their shape, hand-made blocks that pin
// the layouts, round-trip error bounds of from_float, and vec_dot against a double dot.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "gguf/tensor_type.h"
#include "ops/half.h"
#include "ops/quant_blocks_k.h"
#include "ops/type_traits.h"
#include "test_rows.h"

namespace locara::ops {
namespace {

using test_support::decode;
using test_support::encode;
using test_support::random_row;
using T = TensorType;

const std::vector<TensorType> kKTypes = {T::kQ2_K, T::kQ3_K, T::kQ4_K,   T::kQ5_K,
                                         T::kQ6_K, T::kQ8_K, T::kIQ4_NL, T::kIQ4_XS};

const TypeTraits& traits_of(TensorType type) {
  const TypeTraits* traits = reference_type_traits(type);
  EXPECT_NE(traits, nullptr) << tensor_type_name(type);
  return *traits;
}

TEST(KQuantsTableTest, Shape) {
  for (TensorType type : kKTypes) {
    SCOPED_TRACE(tensor_type_name(type));
    const TypeTraits* ref = reference_type_traits(type);
    const TypeTraits* active = type_traits(type);
    ASSERT_NE(ref, nullptr);
    ASSERT_NE(active, nullptr);
    EXPECT_NE(ref->to_float, nullptr);
    EXPECT_NE(ref->from_float, nullptr);
    EXPECT_EQ(ref->vec_dot == nullptr, type == T::kQ8_K);  // Q8_K only holds activations
    const TensorTypeInfo& info = tensor_type_info(type);
    EXPECT_EQ(ref->block_size, info.block_size);
    EXPECT_EQ(ref->type_size, info.type_size);
    EXPECT_EQ(active->block_size, ref->block_size);
    EXPECT_EQ(active->type_size, ref->type_size);
    EXPECT_EQ(active->vec_dot_type, ref->vec_dot_type);
    const TypeTraits* dot_type = type_traits(active->vec_dot_type);
    ASSERT_NE(dot_type, nullptr);
    EXPECT_NE(dot_type->from_float, nullptr);
    EXPECT_EQ(dot_type->block_size, ref->block_size);
  }
  for (TensorType type : {T::kQ2_K, T::kQ3_K, T::kQ4_K, T::kQ5_K, T::kQ6_K, T::kIQ4_XS}) {
    EXPECT_EQ(reference_type_traits(type)->vec_dot_type, T::kQ8_K) << tensor_type_name(type);
  }
  EXPECT_EQ(reference_type_traits(T::kIQ4_NL)->vec_dot_type, T::kQ8_0);
}

TEST(KQuantsLayoutTest, Q4_KScalesAndMinimumsOfTheUpperSubBlocks) {
  BlockQ4_K block{};
  block.d = fp32_to_fp16(1.0f);
  block.dmin = fp32_to_fp16(0.5f);
  // Sub-block 5: scale 0b110011 = 51, minimum 0b101010 = 42. Low nibbles in byte 9, top
  // two bits in the spare bits of bytes 1 (scale) and 5 (minimum).
  block.scales[9] = static_cast<uint8_t>((51 & 0xF) | ((42 & 0xF) << 4));
  block.scales[1] = static_cast<uint8_t>((51 >> 4) << 6);
  block.scales[5] = static_cast<uint8_t>((42 >> 4) << 6);
  // Sub-block 5 is the high nibble of qs[64..95]; element 160 + l gets level l % 16.
  for (int l = 0; l < 32; ++l) block.qs[64 + l] = static_cast<uint8_t>((l % 16) << 4);
  std::vector<float> out(kSuperBlockSize);
  traits_of(T::kQ4_K).to_float(&block, out.data(), kSuperBlockSize);
  for (int l = 0; l < 32; ++l) EXPECT_EQ(out[160 + l], 51.0f * (l % 16) - 21.0f) << l;
  EXPECT_EQ(out[128], 0.0f);  // sub-block 4: scale and minimum 0 (bytes 0, 4 and 8 clear)
}

TEST(KQuantsLayoutTest, Q3_KHighBitClearMeansMinusFour) {
  BlockQ3_K block{};
  block.d = fp32_to_fp16(0.25f);
  // All 16 scales 33 (stored as 33 - 32 = 1): low nibble 1, top bits 2 (0b10).
  for (int b = 0; b < 8; ++b) block.scales[b] = 0x11;
  for (int b = 8; b < 12; ++b) block.scales[b] = 0xAA;
  // Element 32k + l: bit k of hmask[l]; set it for odd l. Low bits all 3.
  for (int l = 0; l < 32; ++l) block.hmask[l] = (l % 2 == 1) ? 0xFF : 0x00;
  std::memset(block.qs, 0xFF, sizeof(block.qs));
  std::vector<float> out(kSuperBlockSize);
  traits_of(T::kQ3_K).to_float(&block, out.data(), kSuperBlockSize);
  for (int e = 0; e < kSuperBlockSize; ++e) {
    EXPECT_EQ(out[e], 0.25f * ((e % 2 == 1) ? 3.0f : -1.0f)) << e;
  }
}

TEST(KQuantsLayoutTest, IQ4_XSSixBitScalesAndNonLinearLevels) {
  BlockIQ4_XS block{};
  block.d = fp32_to_fp16(0.5f);
  // Sub-block 3: ls = 0b01'0111 = 23 -> 23 - 32 = -9. Low nibble is the high nibble of
  // scales_l[1], top bits are bits 6..7 of scales_h. Everything else: ls = 0 -> -32.
  block.scales_l[1] = 0x7 << 4;
  block.scales_h = 0b01 << 6;
  for (int j = 0; j < 16; ++j) block.qs[48 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  std::vector<float> out(kSuperBlockSize);
  traits_of(T::kIQ4_XS).to_float(&block, out.data(), kSuperBlockSize);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[96 + j], 0.5f * -9.0f * kIq4nlValues[j]) << j;
    EXPECT_EQ(out[112 + j], 0.5f * -9.0f * kIq4nlValues[15 - j]) << j;
  }
  EXPECT_EQ(out[0], 0.5f * -32.0f * kIq4nlValues[0]);
}

TEST(KQuantsQ8_KTest, LevelsStayWithinPlusMinus127AndBsumsAreGroupSums) {
  for (float offset : {0.0f, 3.0f, -3.0f}) {
    const std::vector<float> x = random_row(1024, 11, 2.0f, offset);
    const std::vector<uint8_t> bytes = encode(traits_of(T::kQ8_K), x);
    for (size_t b = 0; b < x.size() / kSuperBlockSize; ++b) {
      BlockQ8_K block;
      std::memcpy(&block, bytes.data() + b * sizeof(block), sizeof(block));
      for (int g = 0; g < 16; ++g) {
        int sum = 0;
        for (int j = 0; j < 16; ++j) {
          const int q = block.qs[16 * g + j];
          EXPECT_GE(q, -127);
          sum += q;
        }
        EXPECT_EQ(block.bsums[g], sum) << "block " << b << " group " << g;
      }
    }
  }
}

// Largest error from_float may make on an element, as a fraction of the largest
// magnitude in its super-block (IQ4_NL: its 32-block). Each is the format's rounding step
// (half of it, or all of it where the side opposite the extreme is clamped) plus the
// rounding of the sub-block scales and minimums to 4, 6 or 8 bits.
double error_fraction(TensorType type) {
  switch (type) {
    case T::kQ2_K:
      return 0.5;  // 4 levels over a range of up to 2 * amax
    case T::kQ3_K:
      return 0.3;  // 8 levels, step amax / 4, clamped at +3
    case T::kQ4_K:
      return 0.15;  // step up to 2 * amax / 15
    case T::kQ5_K:
      return 0.08;  // step up to 2 * amax / 31
    case T::kQ6_K:
      return 0.035;  // step amax / 32, clamped at +31
    case T::kQ8_K:
      return 0.5 / 127 * 1.0001;  // float scale: half a step
    default:
      return 0.15;  // IQ4: half the widest gap between levels, 23 / 127 / 2
  }
}

// fp16 scales of tiny blocks are subnormal, with an absolute step of 2^-24: the largest
// product of integer levels and sub-block scales (plus minimum) times half that step is
// what such a block may lose on top of error_fraction.
double fp16_scale_floor(TensorType type) {
  switch (type) {
    case T::kQ2_K:
      return 0x1p-25 * (15 * 3 + 15);
    case T::kQ3_K:
      return 0x1p-25 * (32 * 4);
    case T::kQ4_K:
      return 0x1p-25 * (63 * 15 + 63);
    case T::kQ5_K:
      return 0x1p-25 * (63 * 31 + 63);
    case T::kQ6_K:
      return 0x1p-25 * (128 * 32);
    case T::kQ8_K:
      return 0.0;  // a float scale
    case T::kIQ4_NL:
      return 0x1p-25 * 127;
    default:
      return 0x1p-25 * (32 * 127);
  }
}

// The largest |back - x| of a block and the largest |x|.
void block_error(const float* x, const float* back, int64_t size, double* max_error, double* amax) {
  *max_error = 0.0;
  *amax = 0.0;
  for (int64_t j = 0; j < size; ++j) {
    *amax = std::max(*amax, std::fabs(static_cast<double>(x[j])));
    *max_error = std::max(*max_error, std::fabs(static_cast<double>(back[j]) - x[j]));
  }
}

TEST(KQuantsRoundTripTest, ErrorIsBounded) {
  for (TensorType type : kKTypes) {
    SCOPED_TRACE(tensor_type_name(type));
    const TypeTraits& traits = traits_of(type);
    const int64_t block = std::max<int64_t>(traits.block_size, 32);
    uint32_t seed = 1;
    for (int64_t n : {256, 512, 4096}) {
      for (float offset : {0.0f, 2.5f, -10.0f}) {
        const std::vector<float> x = random_row(n, seed++, 1.5f, offset);
        const std::vector<float> back = decode(traits, encode(traits, x), n);
        for (int64_t b = 0; b < n; b += block) {
          double max_error;
          double amax;
          block_error(x.data() + b, back.data() + b, block, &max_error, &amax);
          ASSERT_LE(max_error, amax * error_fraction(type))
              << "n " << n << " offset " << offset << " block at " << b;
        }
      }
    }
  }
}

// Blocks that make scale searches divide by zero or pick degenerate scales.
TEST(KQuantsRoundTripTest, DegenerateBlocks) {
  const int64_t n = 2 * kSuperBlockSize;
  std::vector<std::vector<float>> rows;
  rows.emplace_back(n, 0.0f);               // all zero
  rows.emplace_back(n, 0.75f);              // constant positive
  rows.emplace_back(n, -3.0f);              // constant negative
  rows.push_back(random_row(n, 5, 1e-3f));  // tiny values...
  rows.back()[17] = 100.0f;                 // ...and one spike
  // Below ggml's 1e-15 "all zero" threshold: these blocks quantize to zero.
  rows.push_back(random_row(n, 6, 1e-30f));
  rows.emplace_back(n, 0.0f);
  for (int64_t j = 0; j < n; j += 3) rows.back()[j] = (j % 2 == 0) ? 5.0f : -5.0f;  // sparse
  for (TensorType type : kKTypes) {
    SCOPED_TRACE(tensor_type_name(type));
    const TypeTraits& traits = traits_of(type);
    const int64_t block = std::max<int64_t>(traits.block_size, 32);
    for (size_t r = 0; r < rows.size(); ++r) {
      const std::vector<float> back = decode(traits, encode(traits, rows[r]), n);
      for (int64_t b = 0; b < n; b += block) {
        for (int64_t j = b; j < b + block; ++j) ASSERT_TRUE(std::isfinite(back[j])) << r;
        double max_error;
        double amax;
        block_error(rows[r].data() + b, back.data() + b, block, &max_error, &amax);
        EXPECT_LE(max_error, amax * error_fraction(type) + fp16_scale_floor(type) + 1e-15)
            << "row " << r << " block " << b;
      }
      if (r == 0) {
        for (float v : back) ASSERT_EQ(v, 0.0f);
      }
    }
  }
}

// vec_dot of the quantized x with y converted to the vec_dot_type equals the exact dot of
// the two decoded rows, up to float rounding of the per-block scaling: a relative 1e-5
// of the terms' magnitude, which includes the minimum's share max|x| * sum|y|.
TEST(KQuantsVecDotTest, EqualsDoubleDotOfDecodedRows) {
  for (TensorType type : kKTypes) {
    const TypeTraits& traits = traits_of(type);
    if (traits.vec_dot == nullptr) continue;
    SCOPED_TRACE(tensor_type_name(type));
    const TypeTraits& dot_traits = traits_of(traits.vec_dot_type);
    uint32_t seed = 100;
    std::vector<int64_t> lengths = {256, 512, 1024, 4096};
    if (traits.block_size == 32) lengths.insert(lengths.end(), {32, 96});
    for (int64_t n : lengths) {
      for (float offset : {0.0f, 0.7f, -2.0f}) {
        const std::vector<float> x_values = random_row(n, seed++, 1.0f, offset);
        const std::vector<float> y_values = random_row(n, seed++, 2.0f, 0.3f);
        const std::vector<uint8_t> x = encode(traits, x_values);
        const std::vector<uint8_t> y = encode(dot_traits, y_values);
        const std::vector<float> x_decoded = decode(traits, x, n);
        const std::vector<float> y_decoded = decode(dot_traits, y, n);
        double exact = 0.0;
        double magnitude = 0.0;
        double x_max = 0.0;
        double y_sum = 0.0;
        for (int64_t i = 0; i < n; ++i) {
          exact += static_cast<double>(x_decoded[i]) * y_decoded[i];
          magnitude += std::fabs(static_cast<double>(x_decoded[i]) * y_decoded[i]);
          x_max = std::max(x_max, std::fabs(static_cast<double>(x_decoded[i])));
          y_sum += std::fabs(static_cast<double>(y_decoded[i]));
        }
        const double tolerance = (magnitude + x_max * y_sum) * 1e-5 + 1e-6;
        EXPECT_NEAR(traits.vec_dot(n, x.data(), y.data()), exact, tolerance)
            << "n " << n << " offset " << offset;
      }
    }
  }
}

}  // namespace
}  // namespace locara::ops
