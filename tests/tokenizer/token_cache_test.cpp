// The word cache: hits return what was stored, the size stays bounded, words in use survive
// eviction, and a zero capacity caches nothing.
#include "tokenizer/token_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace locara {
namespace {

TEST(TokenCache, HitReturnsTheStoredIds) {
  TokenCache cache(128);
  std::vector<int32_t> out = {7};
  EXPECT_FALSE(cache.lookup("word", out));
  EXPECT_EQ(out, (std::vector<int32_t>{7}));  // a miss leaves `out` alone
  const std::vector<int32_t> ids = {1, 2, 3};
  cache.insert("word", ids);
  EXPECT_TRUE(cache.lookup("word", out));
  EXPECT_EQ(out, (std::vector<int32_t>{7, 1, 2, 3}));  // appended
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 1u);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_GT(cache.memory_bytes(), 0u);
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.memory_bytes(), 0u);
}

TEST(TokenCache, ZeroCapacityCachesNothing) {
  TokenCache cache(0);
  const std::vector<int32_t> ids = {1};
  cache.insert("word", ids);
  std::vector<int32_t> out;
  EXPECT_FALSE(cache.lookup("word", out));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(TokenCache, StaysWithinCapacity) {
  TokenCache cache(256);
  for (int i = 0; i < 10000; ++i) {
    const std::vector<int32_t> ids = {i};
    cache.insert(std::to_string(i), ids);
  }
  EXPECT_LE(cache.size(), 256u);
  EXPECT_GT(cache.size(), 64u);
  // The byte count tracks what is held, not what was ever inserted.
  EXPECT_LT(cache.memory_bytes(), 256u * 200);
}

TEST(TokenCache, WordsInUseSurviveEviction) {
  TokenCache cache(64);
  const std::vector<int32_t> hot_ids = {42};
  cache.insert("hot", hot_ids);
  std::vector<int32_t> out;
  for (int i = 0; i < 5000; ++i) {
    const std::vector<int32_t> ids = {i};
    cache.insert(std::to_string(i), ids);
    out.clear();
    ASSERT_TRUE(cache.lookup("hot", out)) << "evicted after " << i << " inserts";
    EXPECT_EQ(out, hot_ids);
  }
}

}  // namespace
}  // namespace locara
