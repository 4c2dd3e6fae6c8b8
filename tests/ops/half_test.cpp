// fp16 and bf16 conversions: exhaustive over the 16-bit side, and checked against a port
// of ggml's F16C-free float-arithmetic algorithm (an independent derivation) on the
// 32-bit side.
#include "ops/half.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace locara::ops {
namespace {

// ggml's scalar fp16 conversions (after Maratyszcza's FP16 library), which use the FPU's
// own rounding instead of integer case analysis.
float oracle_fp16_to_fp32(uint16_t h) {
  const uint32_t w = static_cast<uint32_t>(h) << 16;
  const uint32_t sign = w & 0x80000000u;
  const uint32_t two_w = w + w;
  const float normalized = std::bit_cast<float>((two_w >> 4) + (0xe0u << 23)) * 0x1.0p-112f;
  const float denormalized = std::bit_cast<float>((two_w >> 17) | (126u << 23)) - 0.5f;
  const uint32_t magnitude = two_w < (1u << 27) ? std::bit_cast<uint32_t>(denormalized)
                                                : std::bit_cast<uint32_t>(normalized);
  return std::bit_cast<float>(sign | magnitude);
}

uint16_t oracle_fp32_to_fp16(float f) {
  float base = (std::fabs(f) * 0x1.0p+112f) * 0x1.0p-110f;
  const uint32_t w = std::bit_cast<uint32_t>(f);
  const uint32_t shl1_w = w + w;
  const uint32_t sign = w & 0x80000000u;
  uint32_t bias = shl1_w & 0xff000000u;
  if (bias < 0x71000000u) bias = 0x71000000u;
  base = std::bit_cast<float>((bias >> 1) + 0x07800000u) + base;
  const uint32_t bits = std::bit_cast<uint32_t>(base);
  const uint32_t exp_bits = (bits >> 13) & 0x7c00u;
  const uint32_t mantissa_bits = bits & 0x0fffu;
  const uint32_t nonsign = exp_bits + mantissa_bits;
  return static_cast<uint16_t>((sign >> 16) | (shl1_w > 0xff000000u ? 0x7e00u : nonsign));
}

bool is_fp16_nan(uint16_t h) {
  return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0;
}

TEST(HalfTest, EveryFp16ValueRoundTrips) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const auto half = static_cast<uint16_t>(h);
    const float f = fp16_to_fp32(half);
    if (is_fp16_nan(half)) {
      // ggml canonicalises NaNs: payload dropped, sign kept.
      ASSERT_TRUE(std::isnan(f)) << h;
      ASSERT_EQ(fp32_to_fp16(f), (half & 0x8000u) | 0x7e00u) << h;
    } else {
      ASSERT_EQ(fp32_to_fp16(f), half) << std::hex << h;
    }
  }
}

TEST(HalfTest, Fp16ToFp32MatchesGgmlAlgorithmOnEveryValue) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const auto half = static_cast<uint16_t>(h);
    ASSERT_EQ(std::bit_cast<uint32_t>(fp16_to_fp32(half)),
              std::bit_cast<uint32_t>(oracle_fp16_to_fp32(half)))
        << std::hex << h;
  }
}

TEST(HalfTest, Fp32ToFp16MatchesGgmlAlgorithmAtEveryRoundingBoundary) {
  // Around each midpoint between neighbouring halves (where ties-to-even decides) and
  // around each half itself, for both signs: every decision the rounding makes.
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    const double low = fp16_to_fp32(static_cast<uint16_t>(h));
    const double high = h + 1 < 0x7c00 ? fp16_to_fp32(static_cast<uint16_t>(h + 1)) : 65536.0;
    const auto mid_bits = std::bit_cast<uint32_t>(static_cast<float>((low + high) / 2));
    const uint32_t low_bits = std::bit_cast<uint32_t>(static_cast<float>(low));
    for (uint32_t center : {mid_bits, low_bits}) {
      for (int delta = -2; delta <= 2; ++delta) {
        for (uint32_t sign : {0u, 0x80000000u}) {
          const float f = std::bit_cast<float>(sign | (center + static_cast<uint32_t>(delta)));
          ASSERT_EQ(fp32_to_fp16(f), oracle_fp32_to_fp16(f)) << std::hexfloat << f;
        }
      }
    }
  }
}

TEST(HalfTest, Fp32ToFp16MatchesGgmlAlgorithmAcrossAllBitPatterns) {
  // A stride coprime with 2^32 walks every exponent and sign, NaNs and fp32 subnormals
  // included.
  constexpr uint64_t kStride = 2053;
  for (uint64_t bits = 0; bits <= 0xffffffffull; bits += kStride) {
    const float f = std::bit_cast<float>(static_cast<uint32_t>(bits));
    ASSERT_EQ(fp32_to_fp16(f), oracle_fp32_to_fp16(f)) << std::hex << bits;
  }
}

TEST(HalfTest, Fp16SpecialValues) {
  EXPECT_EQ(fp32_to_fp16(0.0f), 0x0000);
  EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
  EXPECT_EQ(fp32_to_fp16(1.0f), 0x3c00);
  EXPECT_EQ(fp32_to_fp16(-2.0f), 0xc000);
  EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7bff);   // largest half
  EXPECT_EQ(fp32_to_fp16(65519.99f), 0x7bff);  // just below the midpoint
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);   // tie rounds to even: inf
  EXPECT_EQ(fp32_to_fp16(1e10f), 0x7c00);
  EXPECT_EQ(fp32_to_fp16(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_EQ(fp32_to_fp16(0x1p-24f), 0x0001);             // smallest subnormal
  EXPECT_EQ(fp32_to_fp16(0x1p-25f), 0x0000);             // tie to even: zero
  EXPECT_EQ(fp32_to_fp16(0x1.000002p-25f), 0x0001);      // just above the tie
  EXPECT_EQ(fp32_to_fp16(3 * 0x1p-25f), 0x0002);         // tie 1.5 -> even 2
  EXPECT_EQ(fp32_to_fp16(1.0f + 0x1p-11f), 0x3c00);      // tie -> even mantissa 0
  EXPECT_EQ(fp32_to_fp16(1.0f + 3 * 0x1p-11f), 0x3c02);  // tie -> even mantissa 2
  EXPECT_EQ(fp32_to_fp16(std::numeric_limits<float>::quiet_NaN()), 0x7e00);
  EXPECT_EQ(fp16_to_fp32(0x0001), 0x1p-24f);
  EXPECT_EQ(fp16_to_fp32(0x03ff), 1023 * 0x1p-24f);
  EXPECT_EQ(fp16_to_fp32(0x0400), 0x1p-14f);
  EXPECT_EQ(fp16_to_fp32(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(std::bit_cast<uint32_t>(fp16_to_fp32(0x8000)), 0x80000000u);
  EXPECT_EQ(round_to_fp16(0.1f), fp16_to_fp32(0x2e66));
}

TEST(HalfTest, EveryBf16ValueRoundTrips) {
  for (uint32_t h = 0; h <= 0xffff; ++h) {
    const auto bf = static_cast<uint16_t>(h);
    const float f = bf16_to_fp32(bf);
    const bool nan = (h & 0x7f80u) == 0x7f80u && (h & 0x7fu) != 0;
    // A NaN comes back quiet (bit 6 set); every other value exactly.
    ASSERT_EQ(fp32_to_bf16(f), nan ? (bf | 0x40u) : bf) << std::hex << h;
  }
}

TEST(HalfTest, Bf16RoundsToNearestEven) {
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x3f808000u)), 0x3f80);  // tie, even stays
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x3f818000u)), 0x3f82);  // tie, odd goes up
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x3f808001u)), 0x3f81);  // above the tie
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x3f807fffu)), 0x3f80);  // below the tie
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x7f7fffffu)), 0x7f80);  // FLT_MAX -> inf
  EXPECT_EQ(fp32_to_bf16(-std::numeric_limits<float>::infinity()), 0xff80);
  // A NaN whose payload lies only in the dropped bits must stay a NaN, not become inf.
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0x7f800001u)), 0x7fc0);
  EXPECT_EQ(fp32_to_bf16(std::bit_cast<float>(0xffc00000u)), 0xffc0);
  EXPECT_EQ(bf16_to_fp32(0x4049), std::bit_cast<float>(0x40490000u));
}

}  // namespace
}  // namespace locara::ops
