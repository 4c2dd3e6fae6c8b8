// KV cache layout and types: what is stored reads back as the type rounds it, the padding
// stays zero, and types that cannot hold a model's heads are refused.
#include "kv/kv_cache.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "ops/half.h"
#include "ops/type_traits.h"

namespace locara {
namespace {

std::vector<float> ramp(int64_t n, float scale) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = scale * std::sin(0.37f * static_cast<float>(i) + scale);
  return v;
}

TEST(KvCache, NamesAndSizes) {
  EXPECT_EQ(*kv_type_from_name("q8_0"), KvType::kQ8_0);
  EXPECT_FALSE(kv_type_from_name("q5_1"));
  EXPECT_DOUBLE_EQ(kv_bytes_per_element(KvType::kF16), 2.0);
  EXPECT_DOUBLE_EQ(kv_bytes_per_element(KvType::kQ8_0), 34.0 / 32.0);
  EXPECT_DOUBLE_EQ(kv_bytes_per_element(KvType::kQ4_0), 18.0 / 32.0);
}

TEST(KvCache, QuantizedTypesNeedWholeBlocksPerHead) {
  auto bad = KvCache::create(2, 64, 4, 8, KvType::kQ8_0);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("use f16"), std::string::npos);
  EXPECT_TRUE(KvCache::create(2, 64, 4, 8, KvType::kF16));
  EXPECT_TRUE(KvCache::create(2, 64, 2, 64, KvType::kQ4_0));
}

TEST(KvCache, BytesFollowTheFormula) {
  // 2 x layers x padded positions x kv_dim x bytes per element
  auto cache = KvCache::create(3, 100, 2, 64, KvType::kQ8_0);
  ASSERT_TRUE(cache);
  EXPECT_EQ(cache->n_ctx_padded(), 128);
  EXPECT_EQ(cache->bytes(), 2u * 3 * 128 * (128 / 32) * 34);
}

TEST(KvCache, F16ValuesAreStoredTransposed) {
  auto cache = KvCache::create(2, 40, 2, 8, KvType::kF16);
  ASSERT_TRUE(cache);
  const auto key = ramp(16, 1.0f), value = ramp(16, 2.0f);
  cache->store(1, 5, key.data(), value.data());
  const auto* k =
      reinterpret_cast<const uint16_t*>(cache->key_rows(1) + 5 * cache->key_row_bytes());
  for (int d = 0; d < 16; ++d) EXPECT_EQ(ops::fp16_to_fp32(k[d]), ops::round_to_fp16(key[d]));
  for (int d = 0; d < 16; ++d) {
    uint16_t h;
    std::memcpy(&h, cache->value_rows(1) + d * cache->value_row_bytes() + 5 * 2, 2);
    EXPECT_EQ(ops::fp16_to_fp32(h), ops::round_to_fp16(value[d])) << d;
  }
  // Layer 0 and other positions untouched (zero).
  EXPECT_EQ(cache->key_rows(0)[0], 0);
  uint16_t other;
  std::memcpy(&other, cache->value_rows(1) + 3 * cache->value_row_bytes() + 4 * 2, 2);
  EXPECT_EQ(other, 0);
}

TEST(KvCache, Q8RowsRoundTripWithinQuantizationError) {
  auto cache = KvCache::create(1, 8, 2, 32, KvType::kQ8_0);
  ASSERT_TRUE(cache);
  const auto key = ramp(64, 3.0f), value = ramp(64, 0.5f);
  cache->store(0, 7, key.data(), value.data());
  std::vector<float> back(64);
  const ops::TypeTraits* q8 = ops::type_traits(TensorType::kQ8_0);
  q8->to_float(cache->key_rows(0) + 7 * cache->key_row_bytes(), back.data(), 64);
  for (int i = 0; i < 64; ++i) EXPECT_NEAR(back[i], key[i], 3.0f / 127.0f) << i;
  q8->to_float(cache->value_rows(0) + 7 * cache->value_row_bytes(), back.data(), 64);
  for (int i = 0; i < 64; ++i) EXPECT_NEAR(back[i], value[i], 0.5f / 127.0f) << i;
}

TEST(KvCache, TruncateZeroesForgottenPositions) {
  auto cache = KvCache::create(1, 32, 1, 8, KvType::kF16);
  ASSERT_TRUE(cache);
  const auto row = ramp(8, 1.0f);
  for (int p = 0; p < 10; ++p) cache->store(0, p, row.data(), row.data());
  cache->truncate(4);
  uint16_t h;
  std::memcpy(&h, cache->value_rows(0) + 2 * cache->value_row_bytes() + 6 * 2, 2);
  EXPECT_EQ(h, 0);
  std::memcpy(&h, cache->value_rows(0) + 2 * cache->value_row_bytes() + 3 * 2, 2);
  EXPECT_NE(h, 0);
  EXPECT_EQ(cache->key_rows(0)[5 * cache->key_row_bytes()], 0);
}

}  // namespace
}  // namespace locara
