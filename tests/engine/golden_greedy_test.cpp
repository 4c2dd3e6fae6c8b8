// Engine fidelity against llama.cpp: tokenization, greedy tokens and log-probabilities
// on the real stories260K model and on the llama case of the architecture goldens.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/session.h"

namespace locara {
namespace {

const std::string kShared = LOCARA_SHARED_DIR;
// llama.cpp's own logprobs differ by up to 4.5e-3 between CPUs; golden/README.md sets
// 1e-2. Our math matches llama.cpp's at the golden's rounding (~5e-6) on the first
// generated positions; later, single f16 rounding flips (of q, p, K or V) that land
// differently in two engines are amplified along 128 tokens. So: 1e-2 for essentially
// every value, a hard ceiling for the rare amplified one, and a mean that catches any
// systematic error (an f32 instead of f16 KV cache gives mean 1.7e-3, worst 3.4e-2).
constexpr double kLogprobTolerance = 1e-2;
constexpr double kLogprobCeiling = 1.5e-2;
constexpr double kMaxShareAboveTolerance = 1e-3;
constexpr double kMaxMeanDifference = 1.2e-3;

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  return nlohmann::json::parse(in);
}

std::vector<double> log_softmax(std::span<const float> logits) {
  double max = -INFINITY;
  for (float v : logits) max = std::max(max, static_cast<double>(v));
  double sum = 0.0;
  for (float v : logits) sum += std::exp(v - max);
  const double log_sum = std::log(sum) + max;
  std::vector<double> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] - log_sum;
  return out;
}

struct Greedy {
  std::vector<int32_t> tokens;
  std::vector<std::vector<double>> logprobs;  // per generated position
};

Greedy run_greedy(const std::shared_ptr<const LoadedModel>& model, int64_t n_ctx,
                  const std::vector<int32_t>& prompt, int32_t n_tokens) {
  SessionOptions options;
  options.n_ctx = n_ctx;
  options.n_threads = 2;
  options.kv_type = KvType::kF16;  // what llama.cpp used for the goldens
  auto session = Session::create(model, options);
  EXPECT_TRUE(session) << session.error().message;
  GenerationOptions generation;
  generation.max_tokens = n_tokens;
  generation.ignore_eos = true;
  generation.sampling.temperature = 0.0f;
  generation.sampling.repeat_penalty = 1.0f;
  Greedy out;
  auto result = (*session)->generate(prompt, generation, [&](const TokenEvent& event) {
    if (event.token >= 0) out.logprobs.push_back(log_softmax(event.logits));
    return true;
  });
  EXPECT_TRUE(result) << result.error().message;
  if (result) out.tokens = result->tokens;
  return out;
}

class Stories260KGolden : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = LoadedModel::load(kShared + "/models/stories260K.gguf");
    ASSERT_TRUE(loaded) << loaded.error().message;
    model_ = *loaded;
    golden_ = read_json(kShared + "/golden/stories260K-greedy.json");
  }
  static void TearDownTestSuite() { model_.reset(); }
  static inline std::shared_ptr<const LoadedModel> model_;
  static inline nlohmann::json golden_;
};

TEST_F(Stories260KGolden, TokenizesPromptsAsLlamaCpp) {
  ASSERT_FALSE(golden_["cases"].empty());
  for (const auto& c : golden_["cases"]) {
    const auto expected = c["prompt_tokens"].get<std::vector<int32_t>>();
    EXPECT_EQ(model_->tokenizer->encode(c["prompt"].get<std::string>(), true, true), expected)
        << "prompt: " << c["prompt"];
  }
}

TEST_F(Stories260KGolden, GreedyTokensAndLogprobsMatchLlamaCpp) {
  double sum = 0.0, worst = 0.0;
  int64_t count = 0, above = 0;
  for (const auto& c : golden_["cases"]) {
    SCOPED_TRACE(c["prompt"].get<std::string>());
    const auto prompt = c["prompt_tokens"].get<std::vector<int32_t>>();
    const auto expected = c["completion_tokens"].get<std::vector<int32_t>>();
    const Greedy got = run_greedy(model_, 512, prompt, static_cast<int32_t>(expected.size()));
    ASSERT_EQ(got.tokens, expected);

    const auto& top = c["top_logprobs"];
    ASSERT_EQ(top.size(), got.logprobs.size());
    for (size_t pos = 0; pos < top.size(); ++pos) {
      for (const auto& entry : top[pos]) {
        const int32_t id = entry[0].get<int32_t>();
        const double diff = std::abs(got.logprobs[pos][id] - entry[1].get<double>());
        EXPECT_LE(diff, kLogprobCeiling) << "position " << pos << " token " << id;
        // Before anything can be amplified, the math itself must agree closely.
        if (pos == 0) {
          EXPECT_LE(diff, 1e-3) << "first generated position, token " << id;
        }
        worst = std::max(worst, diff);
        sum += diff;
        above += diff > kLogprobTolerance;
        ++count;
      }
    }
  }
  ASSERT_GT(count, 0);
  EXPECT_LE(static_cast<double>(above) / static_cast<double>(count), kMaxShareAboveTolerance)
      << above << " of " << count << " logprobs differ by more than " << kLogprobTolerance;
  EXPECT_LE(sum / static_cast<double>(count), kMaxMeanDifference);
  std::printf("logprobs vs llama.cpp: %lld values, mean |diff| %.2e, worst %.2e, %lld above %.0e\n",
              static_cast<long long>(count), sum / static_cast<double>(count), worst,
              static_cast<long long>(above), kLogprobTolerance);
}

TEST_F(Stories260KGolden, DecodedCompletionEqualsLlamaCppText) {
  for (const auto& c : golden_["cases"]) {
    std::string text;
    for (int32_t id : c["completion_tokens"].get<std::vector<int32_t>>()) {
      text += model_->tokenizer->token_to_piece(id);
    }
    EXPECT_EQ(text, c["completion_text"].get<std::string>());
  }
}

// golden/arch: the `llama` architecture case (RoPE base 500000, separate output matrix).
TEST(ArchGolden, TinyLlamaMatchesWithinTolerance) {
  const auto golden = read_json(kShared + "/golden/arch/arch-greedy.json");
  std::map<std::string, std::shared_ptr<const LoadedModel>> models;
  int checked = 0;
  for (const auto& c : golden["cases"]) {
    const std::string file = c["model"].get<std::string>();
    if (file.find("tiny-llama.gguf") == std::string::npos) continue;
    SCOPED_TRACE(file + " prompt of " + std::to_string(c["prompt_tokens"].size()));
    auto& model = models[file];
    if (!model) {
      auto loaded = LoadedModel::load(kShared + "/golden/arch/tiny-llama.gguf");
      ASSERT_TRUE(loaded) << loaded.error().message;
      model = *loaded;
    }
    const auto prompt = c["prompt_tokens"].get<std::vector<int32_t>>();
    const auto expected = c["completion_tokens"].get<std::vector<int32_t>>();
    const auto margins = c["top2_margin"].get<std::vector<double>>();
    const Greedy got = run_greedy(model, 256, prompt, static_cast<int32_t>(expected.size()));
    ASSERT_EQ(got.tokens.size(), expected.size());
    // Tokens must match; a first difference is allowed only at a near-tie.
    size_t same = 0;
    while (same < expected.size() && got.tokens[same] == expected[same]) ++same;
    if (same < expected.size()) {
      EXPECT_LT(margins[same], 5e-3) << "first difference at " << same << " is not a near-tie";
    }
    for (size_t pos = 0; pos < same; ++pos) {
      const auto& entries = c["top_logprobs"][pos];
      const double tenth = entries.back()[1].get<double>();
      for (const auto& entry : entries) {
        const int32_t id = entry[0].get<int32_t>();
        const double want = entry[1].get<double>();
        EXPECT_NEAR(got.logprobs[pos][id], want, kLogprobTolerance)
            << "position " << pos << " token " << id << " (10th: " << tenth << ")";
      }
    }
    ++checked;
  }
  EXPECT_GT(checked, 0) << "no tiny-llama cases in arch-greedy.json";
}

}  // namespace
}  // namespace locara
