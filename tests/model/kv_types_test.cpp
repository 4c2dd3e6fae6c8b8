// The same prompt through caches of every KV type: f16, q8_0 and q4_0 stay close to
// f32 (in proportion to their precision), batched and token-by-token alike.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "model/model.h"
#include "model/synthetic_model.h"

namespace locara {
namespace {

class KvTypes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = (std::filesystem::temp_directory_path() /
             ("locara-kvtypes-" + std::to_string(getpid()) + ".gguf"))
                .string();
    SyntheticModelShape shape;
    shape.n_embd = 128;
    shape.n_head = 4;  // head_dim 32: one q8_0/q4_0 block per head
    shape.n_head_kv = 2;
    shape.n_ff = 256;
    shape.n_layer = 2;
    ASSERT_TRUE(write_synthetic_llama(shape, path_));
    auto model = load_model(path_);
    ASSERT_TRUE(model) << model.error().message;
    model_ = std::move(*model);
  }
  static void TearDownTestSuite() {
    model_.reset();
    std::filesystem::remove(path_);
  }

  // Logits of the last prompt token, the prompt fed in chunks of `batch`.
  static std::vector<float> last_logits(KvType type, int64_t batch) {
    const int64_t n_vocab = model_->hparams().n_vocab;
    std::vector<int32_t> prompt;
    for (int i = 0; i < 45; ++i) prompt.push_back(3 + (i * 37) % 500);
    auto cache = model_->make_kv_cache(64, type);
    EXPECT_TRUE(cache) << cache.error().message;
    ExecutionContext context(2);
    std::vector<float> logits(n_vocab);
    for (size_t start = 0; start < prompt.size(); start += batch) {
      const size_t n = std::min<size_t>(batch, prompt.size() - start);
      EXPECT_TRUE(model_->forward({prompt.data() + start, n}, static_cast<int64_t>(start), *cache,
                                  context, logits));
    }
    return logits;
  }

  static double max_difference(const std::vector<float>& a, const std::vector<float>& b) {
    double worst = 0;
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
    return worst;
  }

  static inline std::string path_;
  static inline std::unique_ptr<Model> model_;
};

TEST_F(KvTypes, EachTypeStaysCloseToF32) {
  const auto exact = last_logits(KvType::kF32, 64);
  double spread = 0;
  for (float v : exact) spread = std::max(spread, double(std::fabs(v)));
  ASSERT_GT(spread, 0.1);
  const double f16 = max_difference(last_logits(KvType::kF16, 64), exact);
  const double q8 = max_difference(last_logits(KvType::kQ8_0, 64), exact);
  const double q4 = max_difference(last_logits(KvType::kQ4_0, 64), exact);
  EXPECT_LT(f16, 0.01 * spread);
  EXPECT_LT(q8, 0.03 * spread);
  EXPECT_LT(q4, 0.25 * spread);
  // Coarser types differ more: the cache really holds them.
  EXPECT_GT(q4, q8);
  EXPECT_GT(f16, 0.0);
}

TEST_F(KvTypes, QuantizedCacheBatchedEqualsStepwise) {
  for (KvType type : {KvType::kQ8_0, KvType::kQ4_0}) {
    const auto batched = last_logits(type, 64);
    const auto stepwise = last_logits(type, 1);
    EXPECT_LT(max_difference(batched, stepwise), 1e-4) << kv_type_name(type);
  }
}

}  // namespace
}  // namespace locara
