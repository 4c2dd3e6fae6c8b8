#include "gguf/tensor_type.h"

#include <gtest/gtest.h>

namespace locara {
namespace {

struct Expected {
  TensorType type;
  std::string_view name;
  int64_t block_size;
  size_t type_size;
};

// ggml's type_traits (blck_size, type_size) for every id GGUF can hold.
constexpr Expected kGgml[] = {
    {TensorType::kF32, "f32", 1, 4},
    {TensorType::kF16, "f16", 1, 2},
    {TensorType::kQ4_0, "q4_0", 32, 18},
    {TensorType::kQ4_1, "q4_1", 32, 20},
    {TensorType::kQ5_0, "q5_0", 32, 22},
    {TensorType::kQ5_1, "q5_1", 32, 24},
    {TensorType::kQ8_0, "q8_0", 32, 34},
    {TensorType::kQ8_1, "q8_1", 32, 36},
    {TensorType::kQ2_K, "q2_K", 256, 84},
    {TensorType::kQ3_K, "q3_K", 256, 110},
    {TensorType::kQ4_K, "q4_K", 256, 144},
    {TensorType::kQ5_K, "q5_K", 256, 176},
    {TensorType::kQ6_K, "q6_K", 256, 210},
    {TensorType::kQ8_K, "q8_K", 256, 292},
    {TensorType::kIQ2_XXS, "iq2_xxs", 256, 66},
    {TensorType::kIQ2_XS, "iq2_xs", 256, 74},
    {TensorType::kIQ3_XXS, "iq3_xxs", 256, 98},
    {TensorType::kIQ1_S, "iq1_s", 256, 50},
    {TensorType::kIQ4_NL, "iq4_nl", 32, 18},
    {TensorType::kIQ3_S, "iq3_s", 256, 110},
    {TensorType::kIQ2_S, "iq2_s", 256, 82},
    {TensorType::kIQ4_XS, "iq4_xs", 256, 136},
    {TensorType::kI8, "i8", 1, 1},
    {TensorType::kI16, "i16", 1, 2},
    {TensorType::kI32, "i32", 1, 4},
    {TensorType::kI64, "i64", 1, 8},
    {TensorType::kF64, "f64", 1, 8},
    {TensorType::kIQ1_M, "iq1_m", 256, 56},
    {TensorType::kBF16, "bf16", 1, 2},
};

TEST(TensorType, TableMatchesGgml) {
  for (const Expected& expected : kGgml) {
    const auto info = tensor_type_info(static_cast<uint32_t>(expected.type));
    ASSERT_TRUE(info) << expected.name;
    EXPECT_EQ(info->name, expected.name);
    EXPECT_EQ(info->block_size, expected.block_size) << expected.name;
    EXPECT_EQ(info->type_size, expected.type_size) << expected.name;
    EXPECT_EQ(tensor_type_info(expected.type).type_size, expected.type_size);
    EXPECT_EQ(tensor_type_name(expected.type), expected.name);
  }
  EXPECT_EQ(std::size(kGgml), static_cast<size_t>(TensorType::kCount) - 2);
}

TEST(TensorType, RemovedAndUnknownIdsHaveNoInfo) {
  EXPECT_FALSE(tensor_type_info(4u));
  EXPECT_FALSE(tensor_type_info(5u));
  EXPECT_FALSE(tensor_type_info(31u));
  EXPECT_FALSE(tensor_type_info(0xffffffffu));
  EXPECT_EQ(tensor_type_info(static_cast<TensorType>(1000)).block_size, 0);
  EXPECT_EQ(tensor_type_name(static_cast<TensorType>(1000)), "unknown");
}

TEST(TensorType, ParsesNamesIgnoringCase) {
  EXPECT_EQ(tensor_type_from_name("q8_0"), TensorType::kQ8_0);
  EXPECT_EQ(tensor_type_from_name("F16"), TensorType::kF16);
  EXPECT_EQ(tensor_type_from_name("Q4_K"), TensorType::kQ4_K);
  EXPECT_EQ(tensor_type_from_name("IQ4_XS"), TensorType::kIQ4_XS);
  EXPECT_EQ(tensor_type_from_name("bf16"), TensorType::kBF16);
  EXPECT_FALSE(tensor_type_from_name("q4_2"));  // removed
  EXPECT_FALSE(tensor_type_from_name("q9_9"));
  EXPECT_FALSE(tensor_type_from_name(""));
}

TEST(TensorType, RowBytes) {
  EXPECT_EQ(tensor_row_bytes(TensorType::kF32, 10), 40u);
  EXPECT_EQ(tensor_row_bytes(TensorType::kQ4_0, 64), 36u);
  EXPECT_EQ(tensor_row_bytes(TensorType::kQ4_K, 4096), 16u * 144);
  EXPECT_EQ(tensor_row_bytes(TensorType::kQ8_0, 0), 0u);
  EXPECT_FALSE(tensor_row_bytes(TensorType::kQ4_0, 33));
  EXPECT_FALSE(tensor_row_bytes(TensorType::kF32, -4));
  EXPECT_FALSE(tensor_row_bytes(TensorType::kF64, INT64_MAX / 2 + 1));  // 8 bytes each overflows
  EXPECT_FALSE(tensor_row_bytes(static_cast<TensorType>(4), 32));
}

}  // namespace
}  // namespace locara
