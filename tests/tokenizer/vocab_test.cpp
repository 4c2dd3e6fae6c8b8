// Vocab construction, validation and lookups, and the special-token partition.
#include "tokenizer/vocab.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_vocab.h"
#include "tokenizer/special_tokens.h"

namespace locara {
namespace {

using testing::byte_id;
using testing::kSp;
using testing::make_vocab;

void expect_error_naming(const Expected<Vocab>& vocab, ErrorCode code, const std::string& key) {
  ASSERT_FALSE(vocab);
  EXPECT_EQ(vocab.error().code, code);
  EXPECT_NE(vocab.error().message.find(key), std::string::npos) << vocab.error().message;
}

TEST(Vocab, RejectsEmptyTokenList) {
  expect_error_naming(Vocab::create({}, {}, {}, VocabConfig{}), ErrorCode::kInvalidArgument,
                      "tokenizer.ggml.tokens");
}

TEST(Vocab, RejectsMismatchedLengths) {
  expect_error_naming(Vocab::create({"a", "b"}, {0.0f}, {}, VocabConfig{}),
                      ErrorCode::kInvalidArgument, "tokenizer.ggml.scores");
  expect_error_naming(
      Vocab::create({"a", "b"}, {}, {TokenType::kNormal, TokenType::kNormal, TokenType::kNormal},
                    VocabConfig{}),
      ErrorCode::kInvalidArgument, "tokenizer.ggml.token_type");
}

TEST(Vocab, RejectsSpecialIdsOutOfRange) {
  VocabConfig config;
  config.bos = 2;
  expect_error_naming(Vocab::create({"a", "b"}, {}, {}, config), ErrorCode::kOutOfRange,
                      "tokenizer.ggml.bos_token_id");
  config = VocabConfig{};
  config.eos = -5;
  expect_error_naming(Vocab::create({"a", "b"}, {}, {}, config), ErrorCode::kOutOfRange,
                      "tokenizer.ggml.eos_token_id");
  config = VocabConfig{};
  config.unk = 100;
  expect_error_naming(Vocab::create({"a", "b"}, {}, {}, config), ErrorCode::kOutOfRange,
                      "tokenizer.ggml.unknown_token_id");
}

TEST(Vocab, RejectsAddingAMissingToken) {
  VocabConfig config;
  config.add_bos = true;
  expect_error_naming(Vocab::create({"a"}, {}, {}, config), ErrorCode::kInvalidArgument,
                      "tokenizer.ggml.add_bos_token");
  config = VocabConfig{};
  config.add_eos = true;
  expect_error_naming(Vocab::create({"a"}, {}, {}, config), ErrorCode::kInvalidArgument,
                      "tokenizer.ggml.add_eos_token");
}

TEST(Vocab, DefaultsForSentencePiece) {
  const VocabConfig config = VocabConfig::defaults_for("llama");
  EXPECT_EQ(config.bos, 1);
  EXPECT_EQ(config.eos, 2);
  EXPECT_EQ(config.unk, 0);
  EXPECT_EQ(config.pad, kNoToken);
  EXPECT_TRUE(config.add_bos);
  EXPECT_FALSE(config.add_eos);
  EXPECT_TRUE(config.add_space_prefix);
}

TEST(Vocab, LookupsAndTypes) {
  const Vocab vocab = make_vocab({{kSp + "hi", -1.5f}, {"a", 0, TokenType::kUserDefined}});
  EXPECT_EQ(vocab.n_tokens(), 261);
  EXPECT_EQ(vocab.find(kSp + "hi"), 259);
  EXPECT_EQ(vocab.find("nope"), kNoToken);
  EXPECT_EQ(vocab.find(""), kNoToken);
  EXPECT_FLOAT_EQ(vocab.score(259), -1.5f);
  EXPECT_EQ(vocab.type(1), TokenType::kControl);
  EXPECT_TRUE(vocab.has_attr(260, kAttrUserDefined));
  EXPECT_FALSE(vocab.has_attr(9999, kAttrNormal));
  for (int byte = 0; byte < 256; ++byte) {
    EXPECT_EQ(vocab.byte_token(static_cast<uint8_t>(byte)), byte_id(static_cast<uint8_t>(byte)));
    EXPECT_EQ(vocab.token_byte(byte_id(static_cast<uint8_t>(byte))), byte);
  }
  EXPECT_EQ(vocab.token_byte(259), std::nullopt);  // not a byte token
}

TEST(Vocab, ByteLookupFallsBackToOneCharacterTokens) {
  const Vocab vocab = make_vocab({{"a"}, {"<0x0a>", 0, TokenType::kByte}}, false);
  EXPECT_EQ(vocab.byte_token('a'), 3);
  EXPECT_EQ(vocab.byte_token('b'), kNoToken);
  EXPECT_EQ(vocab.byte_token('\n'), kNoToken);  // lookup is by the upper-case "<0x0A>"
  EXPECT_EQ(vocab.token_byte(4), 0x0A);         // but the text parses either way
}

TEST(Vocab, NanScoresBecomeTheWorstScore) {
  auto vocab = Vocab::create({"x", "y"}, {std::nanf(""), -1.0f}, {}, VocabConfig{});
  ASSERT_TRUE(vocab);
  EXPECT_LT(vocab->score(0), vocab->score(1));
}

TEST(Vocab, DuplicateTextsLastIdWins) {
  auto vocab = Vocab::create({"x", "y", "x"}, {}, {}, VocabConfig{});
  ASSERT_TRUE(vocab);
  EXPECT_EQ(vocab->find("x"), 2);
}

TEST(Vocab, EndOfGenerationTokens) {
  VocabConfig config = VocabConfig::defaults_for("llama");
  // "<|end|>" typed normal, as some conversions leave it: found by text, made control.
  const Vocab vocab = make_vocab({{"<|end|>"}, {"<|user|>", 0, TokenType::kControl}}, true, config);
  EXPECT_TRUE(vocab.is_end_of_generation(2));    // EOS
  EXPECT_TRUE(vocab.is_end_of_generation(259));  // <|end|>
  EXPECT_FALSE(vocab.is_end_of_generation(260));
  EXPECT_FALSE(vocab.is_end_of_generation(1));
  EXPECT_FALSE(vocab.is_end_of_generation(kNoToken));
  EXPECT_EQ(vocab.eot(), 259);
  EXPECT_TRUE(vocab.has_attr(259, kAttrControl));

  config.eot = 260;  // an explicit tokenizer.ggml.eot_token_id wins over text detection
  const Vocab explicit_eot = make_vocab({{"<|end|>"}, {"<|user|>"}}, true, config);
  EXPECT_EQ(explicit_eot.eot(), 260);
  EXPECT_TRUE(explicit_eot.is_end_of_generation(260));
  EXPECT_TRUE(explicit_eot.is_end_of_generation(259));
}

TEST(Vocab, SpecialTokensLongestFirst) {
  const Vocab vocab = make_vocab(
      {{"<|a|>", 0, TokenType::kControl}, {"<|longer|>", 0, TokenType::kUserDefined}, {"plain"}});
  const std::vector<int32_t>& specials = vocab.special_tokens();
  ASSERT_EQ(specials.size(), 5u);  // <unk>, <s>, </s>, <|a|>, <|longer|>
  EXPECT_EQ(specials.front(), 260);
  for (size_t i = 1; i < specials.size(); ++i) {
    EXPECT_GE(vocab.text(specials[i - 1]).size(), vocab.text(specials[i]).size());
  }
}

std::vector<std::pair<int32_t, std::string>> flatten(std::string_view text,
                                                     const std::vector<TextFragment>& fragments) {
  std::vector<std::pair<int32_t, std::string>> out;
  for (const TextFragment& f : fragments) {
    out.emplace_back(f.token, f.is_token() ? "" : std::string(text.substr(f.offset, f.length)));
  }
  return out;
}

TEST(PartitionSpecialTokens, SplitsAroundTokens) {
  // 259 ab (control), 260 abc (control), 261 [u] (user-defined)
  const Vocab vocab = make_vocab({{"ab", 0, TokenType::kControl},
                                  {"abc", 0, TokenType::kControl},
                                  {"[u]", 0, TokenType::kUserDefined}});
  using Flat = std::vector<std::pair<int32_t, std::string>>;
  const std::string text = "xabcab[u]y<s>";
  EXPECT_EQ(flatten(text, partition_special_tokens(text, vocab, true)),
            (Flat{{kNoToken, "x"}, {260, ""}, {259, ""}, {261, ""}, {kNoToken, "y"}, {1, ""}}));
  // Without parse_special only the user-defined token is cut out.
  EXPECT_EQ(flatten(text, partition_special_tokens(text, vocab, false)),
            (Flat{{kNoToken, "xabcab"}, {261, ""}, {kNoToken, "y<s>"}}));
  EXPECT_TRUE(partition_special_tokens("", vocab, true).empty());
  EXPECT_EQ(flatten("[u][u]", partition_special_tokens("[u][u]", vocab, false)),
            (Flat{{261, ""}, {261, ""}}));
}

TEST(PartitionSpecialTokens, Phi3TokensSwallowWhitespaceToTheirRight) {
  VocabConfig config = VocabConfig::defaults_for("llama");
  config.model_name = "Phi3";
  // 259 <|user|> (control), 260 <|end|> (control)
  const Vocab vocab = make_vocab(
      {{"<|user|>", 0, TokenType::kControl}, {"<|end|>", 0, TokenType::kControl}}, true, config);
  EXPECT_TRUE(vocab.has_attr(259, kAttrRstrip));
  EXPECT_FALSE(vocab.has_attr(1, kAttrRstrip));  // <s> is exempt
  using Flat = std::vector<std::pair<int32_t, std::string>>;
  const std::string text = "<|user|>\n  Hi <|end|>\n";
  EXPECT_EQ(flatten(text, partition_special_tokens(text, vocab, true)),
            (Flat{{259, ""}, {kNoToken, "Hi "}, {260, ""}}));
}

// llama.cpp's rule for the fill-mask embedders (Jina v2 BPE vocabularies, nomic-bert-moe,
// jina-bert-v3): their "<mask>" eats the whitespace to its left, and no other token does.
TEST(PartitionSpecialTokens, MaskSwallowsWhitespaceToItsLeftInJinaAndNomicVocabularies) {
  using Flat = std::vector<std::pair<int32_t, std::string>>;
  // 259 <mask> (control), 260 <sep> (control)
  const std::vector<testing::Piece> pieces = {{"<mask>", 0, TokenType::kControl},
                                              {"<sep>", 0, TokenType::kControl}};
  const std::string text = "Paris is the  <mask> of France <sep> \t<mask>";
  const Flat stripped = {
      {kNoToken, "Paris is the"}, {259, ""}, {kNoToken, " of France "}, {260, ""}, {259, ""}};
  auto check = [&](VocabConfig config, const char* why) {
    const Vocab vocab = make_vocab(pieces, true, config);
    EXPECT_TRUE(vocab.has_attr(259, kAttrLstrip)) << why;
    EXPECT_FALSE(vocab.has_attr(259, kAttrRstrip)) << why;
    EXPECT_FALSE(vocab.has_attr(260, kAttrLstrip)) << why;
    EXPECT_EQ(flatten(text, partition_special_tokens(text, vocab, true)), stripped) << why;
  };
  for (const char* pre : {"jina-v2-de", "jina-v2-es", "jina-v2-code"}) {
    VocabConfig config = VocabConfig::defaults_for("llama");
    config.pre = pre;
    check(config, pre);
  }
  for (const char* architecture : {"nomic-bert-moe", "jina-bert-v3"}) {
    VocabConfig config = VocabConfig::defaults_for("llama");
    config.architecture = architecture;
    check(config, architecture);
  }

  // Elsewhere (Jina v2 English, plain BERT, a different case) "<mask>" keeps the spaces.
  for (const auto& [pre, architecture] :
       {std::pair{"jina-v2-en", "jina-bert-v2"}, std::pair{"", "nomic-bert"},
        std::pair{"JINA-V2-CODE", ""}}) {
    VocabConfig config = VocabConfig::defaults_for("llama");
    config.pre = pre;
    config.architecture = architecture;
    const Vocab vocab = make_vocab(pieces, true, config);
    EXPECT_FALSE(vocab.has_attr(259, kAttrLstrip)) << pre << " " << architecture;
    EXPECT_EQ(flatten(text, partition_special_tokens(text, vocab, true)),
              (Flat{{kNoToken, "Paris is the  "},
                    {259, ""},
                    {kNoToken, " of France "},
                    {260, ""},
                    {kNoToken, " \t"},
                    {259, ""}}));
  }
}
}  // namespace
}  // namespace locara
