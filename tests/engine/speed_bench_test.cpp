// Speed tests as llama-bench runs them: one sample per repetition, mean and sample
// standard deviation over them; weight facts for the roofline; bad options are errors.
#include "engine/speed_bench.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "model/synthetic_model.h"

namespace locara {
namespace {

class SpeedBench : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = (std::filesystem::temp_directory_path() /
             ("locara-speed-bench-" + std::to_string(getpid()) + ".gguf"))
                .string();
    SyntheticModelOptions options;
    options.file_type = FileType::kQ8_0;
    ASSERT_TRUE(write_synthetic_llama(SyntheticModelShape{}, options, path_));
    auto model = load_model(path_);
    ASSERT_TRUE(model) << model.error().message;
    model_ = std::move(*model);
  }
  static void TearDownTestSuite() {
    model_.reset();
    std::filesystem::remove(path_);
  }
  static inline std::string path_;
  static inline std::unique_ptr<Model> model_;
};

TEST_F(SpeedBench, PromptAndGenerationTests) {
  SpeedTestOptions prompt;
  prompt.n_prompt = 20;
  prompt.batch = 8;  // three forward passes per repetition
  prompt.repetitions = 3;
  prompt.n_threads = 2;
  auto pp = run_speed_test(*model_, prompt);
  ASSERT_TRUE(pp) << pp.error().message;
  ASSERT_EQ(pp->seconds.size(), 3u);
  ASSERT_EQ(pp->tokens_per_second.size(), 3u);
  double mean = 0;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(pp->tokens_per_second[i], 20.0 / pp->seconds[i], 1e-6 * pp->tokens_per_second[i]);
    mean += pp->tokens_per_second[i] / 3;
  }
  EXPECT_NEAR(pp->mean_tokens_per_second, mean, 1e-9 * mean);
  EXPECT_GE(pp->stddev_tokens_per_second, 0.0);

  SpeedTestOptions gen;
  gen.n_gen = 5;
  gen.repetitions = 1;
  auto tg = run_speed_test(*model_, gen);
  ASSERT_TRUE(tg) << tg.error().message;
  ASSERT_EQ(tg->seconds.size(), 1u);
  EXPECT_EQ(tg->stddev_tokens_per_second, 0.0);  // one sample
  EXPECT_GT(tg->mean_tokens_per_second, 0.0);
}

TEST_F(SpeedBench, BadOptionsAreErrors) {
  EXPECT_FALSE(run_speed_test(*model_, {}));                           // neither test
  EXPECT_FALSE(run_speed_test(*model_, {.n_prompt = 4, .n_gen = 4}));  // both
  EXPECT_FALSE(run_speed_test(*model_, {.n_prompt = 4, .repetitions = 0}));
  EXPECT_FALSE(run_speed_test(*model_, {.n_gen = 4, .n_threads = 0}));
  // A prompt longer than the model's context still runs: the cache is sized to the test.
  EXPECT_TRUE(run_speed_test(*model_, {.n_prompt = 600, .repetitions = 1}));
}

TEST_F(SpeedBench, WeightSummary) {
  const WeightSummary summary = summarize_weights(model_->gguf());
  uint64_t total = 0, params = 0;
  for (const GgufTensor& t : model_->gguf().tensors()) {
    total += t.n_bytes;
    params += static_cast<uint64_t>(t.n_elements());
  }
  const GgufTensor* embd = model_->gguf().find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(summary.total_bytes, total);
  EXPECT_EQ(summary.n_parameters, params);
  EXPECT_EQ(summary.bytes_per_token, total - embd->n_bytes);
  EXPECT_EQ(summary.main_type, TensorType::kQ8_0);
}

}  // namespace
}  // namespace locara
