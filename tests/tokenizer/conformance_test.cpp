// The SentencePiece tokenizer against llama.cpp's own outputs: test-tokenizer-0's vectors in
// shared/vocab/ and the prompts and completions of shared/golden/stories260K-greedy.json.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8_stream.h"

namespace locara {
namespace {

const std::string kSharedDir = LOCARA_SHARED_DIR;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  auto gguf = GgufReader::open(path);
  EXPECT_TRUE(gguf) << gguf.error().message;
  if (!gguf) return nullptr;
  auto tokenizer = Tokenizer::from_gguf(**gguf);
  EXPECT_TRUE(tokenizer) << tokenizer.error().message;
  if (!tokenizer) return nullptr;
  return std::move(tokenizer).value();
}

// test-tokenizer-0's format: the .inp file is the strings joined by
// "\n__ggml_vocab_test__\n" (the file ends with one, and a string may be empty or hold
// newlines); line i of the .out file holds string i's ids, space-separated.
struct VocabCase {
  std::string text;
  std::vector<int32_t> ids;
};

std::vector<VocabCase> read_vocab_cases(const std::string& gguf_path) {
  const std::string inputs = read_file(gguf_path + ".inp");
  const std::string separator = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t pos = 0; pos < inputs.size();) {
    const size_t next = inputs.find(separator, pos);
    if (next == std::string::npos) {
      texts.push_back(inputs.substr(pos));
      break;
    }
    texts.push_back(inputs.substr(pos, next - pos));
    pos = next + separator.size();
  }

  std::istringstream outputs(read_file(gguf_path + ".out"));
  std::vector<VocabCase> cases;
  std::string line;
  for (size_t i = 0; std::getline(outputs, line); ++i) {
    VocabCase c;
    if (i < texts.size()) c.text = texts[i];
    std::istringstream ids(line);
    for (int32_t id; ids >> id;) c.ids.push_back(id);
    cases.push_back(std::move(c));
  }
  EXPECT_EQ(texts.size(), cases.size()) << gguf_path << ": .inp and .out disagree on the count";
  return cases;
}

class SpmVocabConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(SpmVocabConformance, MatchesLlamaCppIds) {
  const std::string path = kSharedDir + "/vocab/ggml-vocab-" + GetParam() + ".gguf";
  const auto tokenizer = load_tokenizer(path);
  ASSERT_NE(tokenizer, nullptr);
  const std::vector<VocabCase> cases = read_vocab_cases(path);
  ASSERT_EQ(cases.size(), 46u);
  for (const VocabCase& c : cases) {
    EXPECT_EQ(tokenizer->encode(c.text, /*add_special=*/false, /*parse_special=*/false), c.ids)
        << "text: '" << c.text << "'";
  }
}

TEST_P(SpmVocabConformance, DecodeRoundTripsTheVectors) {
  // SentencePiece with byte fallback loses nothing: decoding gives the text back (none of
  // these strings contains U+2581 itself).
  const std::string path = kSharedDir + "/vocab/ggml-vocab-" + GetParam() + ".gguf";
  const auto tokenizer = load_tokenizer(path);
  ASSERT_NE(tokenizer, nullptr);
  for (const VocabCase& c : read_vocab_cases(path)) {
    EXPECT_EQ(tokenizer->decode(c.ids), c.text);
  }
}

INSTANTIATE_TEST_SUITE_P(Families, SpmVocabConformance, ::testing::Values("llama-spm", "phi-3"));

TEST(SpmVocabConformance, Phi3EndsTurnsOnEndToken) {
  const auto tokenizer = load_tokenizer(kSharedDir + "/vocab/ggml-vocab-phi-3.gguf");
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(tokenizer->eos(), 32000);
  EXPECT_TRUE(tokenizer->is_end_of_generation(32000));   // <|endoftext|>
  EXPECT_TRUE(tokenizer->is_end_of_generation(32007));   // <|end|>
  EXPECT_FALSE(tokenizer->is_end_of_generation(32010));  // <|user|>
  EXPECT_EQ(tokenizer->vocab().eot(), 32007);
  // Chat markup with parse_special: the control tokens come out whole, and Phi-3's rstrip
  // swallows the newline after <|user|> and <|end|>.
  const int32_t hi = tokenizer->vocab().find("\xE2\x96\x81Hi");
  ASSERT_NE(hi, kNoToken);
  EXPECT_EQ(tokenizer->encode("<|user|>\nHi<|end|>\n", true, true),
            (std::vector<int32_t>{1, 32010, hi, 32007}));
  // Unparsed, the markup is plain text (no user-defined tokens in it).
  const std::vector<int32_t> plain = tokenizer->encode("<|end|>", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 32007), 0);
  EXPECT_EQ(tokenizer->decode(plain), "<|end|>");
}

class StoriesGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    tokenizer_ = load_tokenizer(kSharedDir + "/models/stories260K.gguf");
    ASSERT_NE(tokenizer_, nullptr);
    std::ifstream in(kSharedDir + "/golden/stories260K-greedy.json");
    golden_ = nlohmann::json::parse(in);
    ASSERT_FALSE(golden_["cases"].empty());
  }
  std::unique_ptr<Tokenizer> tokenizer_;
  nlohmann::json golden_;
};

TEST_F(StoriesGolden, PromptTokensMatch) {
  for (const auto& c : golden_["cases"]) {
    const std::string prompt = c["prompt"];
    const auto expected = c["prompt_tokens"].get<std::vector<int32_t>>();
    // As llama-server tokenizes a prompt: BOS added, special-token text parsed.
    EXPECT_EQ(tokenizer_->encode(prompt, true, true), expected) << prompt;
    EXPECT_EQ(tokenizer_->encode(prompt, true, false), expected) << prompt;
  }
}

TEST_F(StoriesGolden, CompletionPiecesGiveCompletionText) {
  for (const auto& c : golden_["cases"]) {
    const auto ids = c["completion_tokens"].get<std::vector<int32_t>>();
    const std::string expected = c["completion_text"];
    // llama-server streams token_to_piece of each token, concatenated.
    std::string streamed;
    Utf8StreamDecoder decoder;
    for (const int32_t id : ids) streamed += decoder.push(tokenizer_->token_to_piece(id));
    streamed += decoder.flush();
    EXPECT_EQ(streamed, expected);
    // decode() strips the first piece's leading space when no BOS precedes it.
    std::string stripped = expected;
    if (!stripped.empty() && stripped.front() == ' ') stripped.erase(0, 1);
    EXPECT_EQ(tokenizer_->decode(ids), stripped);
    // After BOS (as generation sees it), the space stays.
    std::vector<int32_t> with_bos = {tokenizer_->bos()};
    with_bos.insert(with_bos.end(), ids.begin(), ids.end());
    EXPECT_EQ(tokenizer_->decode(with_bos), expected);
    EXPECT_EQ(tokenizer_->decode(with_bos, /*remove_special=*/true), expected);
  }
}

TEST_F(StoriesGolden, PromptRoundTrips) {
  for (const auto& c : golden_["cases"]) {
    const std::string prompt = c["prompt"];
    const auto ids = c["prompt_tokens"].get<std::vector<int32_t>>();
    // BOS then "▁Once...": the prefixed space is kept after BOS, as in llama.cpp.
    EXPECT_EQ(tokenizer_->decode(ids), " " + prompt);
    const std::vector<int32_t> without_bos(ids.begin() + 1, ids.end());
    EXPECT_EQ(tokenizer_->decode(without_bos), prompt);
  }
}

TEST(TokenizerFromGguf, StoriesVocabulary) {
  const auto tokenizer = load_tokenizer(kSharedDir + "/models/stories260K.gguf");
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(tokenizer->n_vocab(), 512);
  EXPECT_EQ(tokenizer->bos(), 1);
  EXPECT_EQ(tokenizer->eos(), 2);
  EXPECT_EQ(tokenizer->vocab().unk(), 0);
  EXPECT_EQ(tokenizer->vocab().pad(), kNoToken);  // the file says 0xFFFFFFFF: none
  EXPECT_TRUE(tokenizer->vocab().add_bos());
  EXPECT_FALSE(tokenizer->vocab().add_eos());
  EXPECT_TRUE(tokenizer->vocab().add_space_prefix());
  EXPECT_TRUE(tokenizer->is_end_of_generation(2));
  EXPECT_FALSE(tokenizer->is_end_of_generation(1));
  EXPECT_EQ(tokenizer->vocab().byte_token('\n'), 3 + '\n');
}

}  // namespace
}  // namespace locara
