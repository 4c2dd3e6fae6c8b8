// Every tokenizer family against llama.cpp's own outputs: test-tokenizer-0's vectors in
// shared/vocab/ (SentencePiece, byte-level BPE, WordPiece) and the prompts and completions of
// shared/golden/stories260K-greedy.json.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf_reader.h"
#include "tokenizer/space_marker.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8_stream.h"
#include "tokenizer/wpm_tokenizer.h"

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

std::string space_escaped(const std::string& text) {
  std::string escaped;
  append_space_escaped(text, escaped);
  return escaped;
}

std::string vocab_path(const std::string& family) {
  return kSharedDir + "/vocab/ggml-vocab-" + family + ".gguf";
}

// Every family in shared/vocab/.
const std::vector<std::string> kSentencePieceFamilies = {"llama-spm", "phi-3"};
const std::vector<std::string> kBpeFamilies = {"llama-bpe", "qwen2",          "gpt-2",
                                               "mpt",       "starcoder",      "refact",
                                               "falcon",    "deepseek-coder", "deepseek-llm"};
const std::vector<std::string> kWordPieceFamilies = {"bert-bge"};

class VocabConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabConformance, MatchesLlamaCppIds) {
  const std::string path = vocab_path(GetParam());
  const auto tokenizer = load_tokenizer(path);
  ASSERT_NE(tokenizer, nullptr);
  const std::vector<VocabCase> cases = read_vocab_cases(path);
  ASSERT_EQ(cases.size(), 46u);
  for (const VocabCase& c : cases) {
    EXPECT_EQ(tokenizer->encode(c.text, /*add_special=*/false, /*parse_special=*/false), c.ids)
        << "text: '" << c.text << "'";
  }
}

TEST_P(VocabConformance, CachedIdsMatchUncachedIds) {
  // The vectors tokenized twice by a tokenizer with a word cache (the second pass all hits),
  // and once by one without: the same ids every time.
  const std::string path = vocab_path(GetParam());
  auto gguf = GgufReader::open(path);
  ASSERT_TRUE(gguf) << gguf.error().message;
  auto cached = Tokenizer::from_gguf(**gguf);
  auto uncached = Tokenizer::from_gguf(**gguf, TokenizerOptions{.word_cache_capacity = 0});
  ASSERT_TRUE(cached && uncached);
  for (const VocabCase& c : read_vocab_cases(path)) {
    const auto ids = (*uncached)->encode(c.text, false, false);
    EXPECT_EQ((*cached)->encode(c.text, false, false), ids) << c.text;
    EXPECT_EQ((*cached)->encode(c.text, false, false), ids) << c.text;
  }
}

TEST_P(VocabConformance, DetokenizingGivesTheTextBack) {
  const std::string path = vocab_path(GetParam());
  const auto tokenizer = load_tokenizer(path);
  ASSERT_NE(tokenizer, nullptr);
  const auto without_spaces = [](std::string text) {
    std::erase_if(text, [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
    return text;
  };
  for (const VocabCase& c : read_vocab_cases(path)) {
    std::string pieces;
    for (const int32_t id : c.ids) pieces += tokenizer->token_to_piece(id);
    if (const auto* wpm = dynamic_cast<const WpmTokenizer*>(tokenizer.get())) {
      // WordPiece keeps no spaces and normalizes (lowercase, no accents): the pieces spell the
      // normalized words, unless a word was unknown.
      if (std::count(c.ids.begin(), c.ids.end(), tokenizer->vocab().unk()) > 0) continue;
      EXPECT_EQ(without_spaces(pieces), without_spaces(wpm->normalize(c.text))) << c.text;
    } else if (tokenizer->vocab().add_space_prefix()) {
      // SentencePiece with byte fallback: the prefixed space goes, the rest comes back (none
      // of these strings contains U+2581 itself).
      EXPECT_EQ(pieces, c.text.empty() ? "" : " " + c.text);
      EXPECT_EQ(tokenizer->decode(c.ids), c.text);
    } else {
      // Byte-level BPE: byte for byte; decode() also cleans up spaces where llama.cpp does.
      EXPECT_EQ(pieces, c.text);
      EXPECT_EQ(tokenizer->decode(c.ids),
                tokenizer->clean_spaces() ? clean_up_spaces(c.text) : c.text);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SentencePiece, VocabConformance,
                         ::testing::ValuesIn(kSentencePieceFamilies));
INSTANTIATE_TEST_SUITE_P(BytePairEncoding, VocabConformance, ::testing::ValuesIn(kBpeFamilies));
INSTANTIATE_TEST_SUITE_P(WordPiece, VocabConformance, ::testing::ValuesIn(kWordPieceFamilies));

class SpmVocabConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(SpmVocabConformance, WordByWordMergingEqualsWholeSpanMerging) {
  // encode_span cuts at word starts (no token of these vocabularies crosses one); the merge
  // loop over the whole span must give the same ids, also on invalid UTF-8.
  auto gguf = GgufReader::open(vocab_path(GetParam()));
  ASSERT_TRUE(gguf);
  auto vocab = Vocab::from_gguf(**gguf);
  ASSERT_TRUE(vocab);
  const SpmTokenizer tokenizer(std::move(*vocab), /*word_cache_capacity=*/1024);
  std::vector<std::string> texts;
  for (const VocabCase& c : read_vocab_cases(vocab_path(GetParam()))) texts.push_back(c.text);
  const std::string marker = "\xE2\x96\x81";
  texts.push_back("\xE2\x96 a\xE2 " + marker + "b  \xF0\x9F c" + marker + marker + "d");
  for (const std::string& text : texts) {
    const std::string escaped = "\xE2\x96\x81" + space_escaped(text);
    std::vector<int32_t> by_word;
    std::vector<int32_t> whole;
    tokenizer.encode_span(escaped, by_word);
    tokenizer.merge_span(escaped, whole);
    EXPECT_EQ(by_word, whole) << text;
  }
}

INSTANTIATE_TEST_SUITE_P(Families, SpmVocabConformance,
                         ::testing::ValuesIn(kSentencePieceFamilies));

TEST(SpmVocabConformance, Phi3EndsTurnsOnEndToken) {
  const auto tokenizer = load_tokenizer(vocab_path("phi-3"));
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
