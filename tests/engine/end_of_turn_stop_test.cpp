// Generation stops at a chat template's end-of-turn token, not only at EOS. stories260K has
// no such token, so the test renames one of its ordinary tokens "<|im_end|>" (or
// "<|eot_id|>") in a copy of the file: the weights, and so the logits, are unchanged, and
// greedy decoding must stop exactly where it used to pick that token, with EOS still </s>.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "engine/session.h"
#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"

namespace locara {
namespace {

const std::string kModelPath = std::string(LOCARA_SHARED_DIR) + "/models/stories260K.gguf";
constexpr int32_t kFirstOrdinaryToken = 259;  // after <unk>, <s>, </s> and the 256 bytes
constexpr int32_t kMaxTokens = 24;

// Writes `source` to `path` with token `id` renamed `text` and typed control (as chat
// models' GGUFs carry their end-of-turn tokens). Metadata and tensors are copied as is.
Status write_with_renamed_token(const GgufReader& source, int32_t id, const std::string& text,
                                const std::string& path) {
  GgufWriter writer(source.alignment());
  for (const auto& [key, value] : source.metadata()) writer.set(key, value);
  const GgufArray* tokens = source.get_array("tokenizer.ggml.tokens");
  const GgufArray* types = source.get_array("tokenizer.ggml.token_type");
  if (tokens == nullptr || types == nullptr) {
    return make_error(ErrorCode::kInvalidArgument, "{}: no token list or token types",
                      source.path());
  }
  std::vector<std::string> texts;
  for (const GgufValue& element : tokens->elements) texts.push_back(*element.as_string());
  std::vector<int32_t> type_ids;
  for (const GgufValue& element : types->elements) {
    type_ids.push_back(static_cast<int32_t>(element.as_int().value_or(1)));
  }
  texts.at(static_cast<size_t>(id)) = text;
  type_ids.at(static_cast<size_t>(id)) = 3;  // control
  writer.set_string_array("tokenizer.ggml.tokens", texts);
  writer.set_int32_array("tokenizer.ggml.token_type", type_ids);
  for (const GgufTensor& tensor : source.tensors()) {
    LOCARA_RETURN_IF_ERROR(
        writer.add_tensor(tensor.name, tensor.type, tensor.dims, {tensor.data, tensor.n_bytes}));
  }
  return writer.write(path);
}

Expected<GenerationResult> greedy(const std::shared_ptr<const LoadedModel>& model,
                                  const std::vector<int32_t>& prompt, bool ignore_eos,
                                  std::string* text = nullptr) {
  SessionOptions options;
  options.n_ctx = 256;
  options.n_threads = 2;
  LOCARA_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::create(model, options));
  GenerationOptions generation;
  generation.max_tokens = kMaxTokens;
  generation.ignore_eos = ignore_eos;
  generation.sampling.temperature = 0.0f;
  return session->generate(prompt, generation, [text](const TokenEvent& event) {
    if (text != nullptr) *text += event.text;
    return true;
  });
}

class EndOfTurnStopTest : public ::testing::TestWithParam<std::string> {
 protected:
  void TearDown() override { std::filesystem::remove(path_); }

  static std::string temp_path() {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '-');
    return (std::filesystem::temp_directory_path() /
            ("locara-" + std::to_string(getpid()) + "-" + name + ".gguf"))
        .string();
  }
  const std::string path_ = temp_path();
};

TEST_P(EndOfTurnStopTest, GenerationStopsAtTheTemplatesEndOfTurnToken) {
  const std::string& end_of_turn = GetParam();
  auto original = LoadedModel::load(kModelPath);
  ASSERT_TRUE(original) << original.error().message;
  const std::vector<int32_t> prompt =
      (*original)->tokenizer->encode("Once upon a time", true, false);
  auto baseline = greedy(*original, prompt, /*ignore_eos=*/true);
  ASSERT_TRUE(baseline) << baseline.error().message;
  ASSERT_EQ(baseline->tokens.size(), static_cast<size_t>(kMaxTokens));

  // The token to rename: an ordinary one greedy decoding first picks a few tokens in.
  size_t stop_at = 3;
  const std::vector<int32_t>& tokens = baseline->tokens;
  while (stop_at < tokens.size() &&
         (tokens[stop_at] < kFirstOrdinaryToken ||
          std::find(tokens.begin(), tokens.begin() + static_cast<ptrdiff_t>(stop_at),
                    tokens[stop_at]) != tokens.begin() + static_cast<ptrdiff_t>(stop_at))) {
    ++stop_at;
  }
  ASSERT_LT(stop_at, tokens.size()) << "no fresh ordinary token in the greedy output";
  const int32_t renamed = tokens[stop_at];

  {
    auto source = GgufReader::open(kModelPath);
    ASSERT_TRUE(source) << source.error().message;
    const Status written = write_with_renamed_token(**source, renamed, end_of_turn, path_);
    ASSERT_TRUE(written) << written.error().message;
  }
  auto chat = LoadedModel::load(path_);
  ASSERT_TRUE(chat) << chat.error().message;
  const Tokenizer& tokenizer = *(*chat)->tokenizer;
  EXPECT_EQ(tokenizer.eos(), 2) << "EOS is still </s>";
  EXPECT_NE(tokenizer.eos(), renamed);
  EXPECT_EQ(tokenizer.vocab().eot(), renamed);
  EXPECT_TRUE(tokenizer.is_end_of_generation(renamed));

  std::string text;
  auto stopped = greedy(*chat, prompt, /*ignore_eos=*/false, &text);
  ASSERT_TRUE(stopped) << stopped.error().message;
  EXPECT_EQ(stopped->finish_reason, FinishReason::kStop);
  EXPECT_EQ(stopped->tokens,
            std::vector<int32_t>(tokens.begin(), tokens.begin() + static_cast<ptrdiff_t>(stop_at)))
      << "the same greedy tokens up to the end of turn, which is not emitted";
  EXPECT_EQ(text.find(end_of_turn), std::string::npos) << text;

  // ignore_eos bans every end-of-generation token, the end of turn included.
  auto ignored = greedy(*chat, prompt, /*ignore_eos=*/true);
  ASSERT_TRUE(ignored) << ignored.error().message;
  EXPECT_EQ(ignored->finish_reason, FinishReason::kLength);
  EXPECT_EQ(ignored->tokens.size(), static_cast<size_t>(kMaxTokens));
  EXPECT_EQ(std::count(ignored->tokens.begin(), ignored->tokens.end(), renamed), 0);
}

INSTANTIATE_TEST_SUITE_P(ChatTemplates, EndOfTurnStopTest,
                         ::testing::Values("<|im_end|>", "<|eot_id|>", "<end_of_turn>"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return std::to_string(info.index);
                         });

}  // namespace
}  // namespace locara
