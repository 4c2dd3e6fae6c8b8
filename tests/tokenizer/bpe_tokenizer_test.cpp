// Byte-level BPE on vocabularies built in code: merge order, the byte alphabet, Llama 3's
// whole-word rule, special and added tokens, the word cache, and decoding.
#include "tokenizer/bpe_tokenizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "tokenizer/byte_level.h"

namespace locara {
namespace {

// Ids 0..255: the byte-level character of each byte, so byte b is token b. Then `extra`
// (texts in byte-level spelling, "Ġ" for a space), as normal tokens unless `types` says.
struct BpeVocabSpec {
  std::vector<std::string> extra;
  std::vector<std::string> merges;
  std::string pre = "gpt-2";
  std::vector<std::pair<std::string, TokenType>> added;  // after `extra`
  std::string model_name;
  size_t cache = 1024;
};

constexpr int32_t kFirstExtra = 256;

std::unique_ptr<BpeTokenizer> make_bpe(const BpeVocabSpec& spec) {
  std::vector<std::string> texts;
  std::vector<TokenType> types;
  for (int byte = 0; byte < 256; ++byte) {
    texts.emplace_back(byte_level_char(static_cast<uint8_t>(byte)));
    types.push_back(TokenType::kNormal);
  }
  for (const std::string& text : spec.extra) {
    texts.push_back(text);
    types.push_back(TokenType::kNormal);
  }
  for (const auto& [text, type] : spec.added) {
    texts.push_back(text);
    types.push_back(type);
  }
  VocabConfig config = VocabConfig::defaults_for("gpt2", spec.pre);
  config.bos = config.eos = kNoToken;
  config.add_bos = false;
  config.model_name = spec.model_name;
  auto vocab = Vocab::create(std::move(texts), {}, std::move(types), config);
  EXPECT_TRUE(vocab) << vocab.error().message;
  std::vector<std::string_view> merges(spec.merges.begin(), spec.merges.end());
  auto tokenizer = BpeTokenizer::create(std::move(*vocab), merges, spec.cache);
  EXPECT_TRUE(tokenizer) << tokenizer.error().message;
  return std::move(*tokenizer);
}

std::vector<int32_t> ids_of(const std::string& bytes) {
  return std::vector<int32_t>(bytes.begin(), bytes.end());  // ASCII: byte b is token b
}

TEST(BpeTokenizer, MergesApplyInRankOrder) {
  // 256 ab, 257 bc.
  const auto ab_first = make_bpe({.extra = {"ab", "bc"}, .merges = {"a b", "b c"}});
  EXPECT_EQ(ab_first->encode("abc", false, false), (std::vector<int32_t>{256, 'c'}));
  const auto bc_first = make_bpe({.extra = {"ab", "bc"}, .merges = {"b c", "a b"}});
  EXPECT_EQ(bc_first->encode("abc", false, false), (std::vector<int32_t>{'a', 257}));
}

TEST(BpeTokenizer, EqualPairsMergeLeftmostFirst) {
  const auto tokenizer = make_bpe({.extra = {"aa"}, .merges = {"a a"}});
  EXPECT_EQ(tokenizer->encode("aaa", false, false), (std::vector<int32_t>{256, 'a'}));
  EXPECT_EQ(tokenizer->encode("aaaa", false, false), (std::vector<int32_t>{256, 256}));
}

TEST(BpeTokenizer, MergesChainIntoLongerTokens) {
  // 256 he, 257 ll, 258 hell, 259 hello
  const auto tokenizer = make_bpe(
      {.extra = {"he", "ll", "hell", "hello"}, .merges = {"l l", "h e", "he ll", "hell o"}});
  EXPECT_EQ(tokenizer->encode("hello", false, false), (std::vector<int32_t>{259}));
  EXPECT_EQ(tokenizer->encode("hellhe", false, false), (std::vector<int32_t>{258, 256}));
}

TEST(BpeTokenizer, SpacesAndBytesUseTheByteAlphabet) {
  // "Ġa" is " a"; a word starting with a space is one pre-tokenized word.
  const auto tokenizer = make_bpe({.extra = {"Ġa"}, .merges = {"Ġ a"}});
  EXPECT_EQ(tokenizer->encode("a a", false, false), (std::vector<int32_t>{'a', 256}));
  // Every byte has a token: é (C3 A9) and a stray 0xFF are single-byte tokens.
  EXPECT_EQ(tokenizer->encode("\xC3\xA9\xFF", false, false),
            (std::vector<int32_t>{0xC3, 0xA9, 0xFF}));
  EXPECT_EQ(tokenizer->decode({'a', 256, 0xC3, 0xA9, 0xFF}), "a a\xC3\xA9\xFF");
}

TEST(BpeTokenizer, MergesWhoseTokensAreMissingAreSkipped) {
  // "x y" names no token "xy": it can never apply.
  const auto tokenizer = make_bpe({.merges = {"x y", "malformed"}});
  EXPECT_EQ(tokenizer->n_merges(), 0);
  EXPECT_EQ(tokenizer->encode("xy", false, false), ids_of("xy"));
}

TEST(BpeTokenizer, Llama3TakesAWordThatIsATokenWhole) {
  // The merges alone give x + yz; "xyz" is a token, which Llama 3 (ignore_merges) takes.
  const BpeVocabSpec spec{.extra = {"yz", "xyz"}, .merges = {"y z"}};
  EXPECT_EQ(make_bpe(spec)->encode("xyz", false, false), (std::vector<int32_t>{'x', 256}));
  BpeVocabSpec llama3 = spec;
  llama3.pre = "llama-bpe";
  EXPECT_EQ(make_bpe(llama3)->encode("xyz", false, false), (std::vector<int32_t>{257}));
}

TEST(BpeTokenizer, UnknownPreTokenizerIsUnsupported) {
  std::vector<std::string> texts = {"a"};
  VocabConfig config;
  config.pre = "no-such-pre";
  auto vocab = Vocab::create(texts, {}, {}, config);
  ASSERT_TRUE(vocab);
  auto tokenizer = BpeTokenizer::create(std::move(*vocab), {}, 0);
  ASSERT_FALSE(tokenizer);
  EXPECT_EQ(tokenizer.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(tokenizer.error().message.find("'no-such-pre'"), std::string::npos);
}

// 256 <|end|> (control), 257 <tool> (user-defined).
BpeVocabSpec special_spec() {
  return {.added = {{"<|end|>", TokenType::kControl}, {"<tool>", TokenType::kUserDefined}}};
}

TEST(BpeTokenizer, ControlTokensNeedParseSpecial) {
  const auto tokenizer = make_bpe(special_spec());
  EXPECT_EQ(tokenizer->encode("a<|end|>b", false, true), (std::vector<int32_t>{'a', 256, 'b'}));
  const std::vector<int32_t> plain = tokenizer->encode("a<|end|>b", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 256), 0);
  EXPECT_EQ(tokenizer->decode(plain), "a<|end|>b");
}

TEST(BpeTokenizer, UserDefinedTokensAlwaysMatch) {
  const auto tokenizer = make_bpe(special_spec());
  for (const bool parse_special : {false, true}) {
    EXPECT_EQ(tokenizer->encode("x<tool>y", false, parse_special),
              (std::vector<int32_t>{'x', 257, 'y'}));
  }
}

TEST(BpeTokenizer, SpecialTokensCutTheTextBeforePreTokenizing) {
  // Without the cut, " <|end|>" would start a word with the space.
  const auto tokenizer = make_bpe(special_spec());
  EXPECT_EQ(tokenizer->encode("a <|end|> b", false, true),
            (std::vector<int32_t>{'a', ' ', 256, ' ', 'b'}));
}

TEST(BpeTokenizer, Phi3SpecialTokensEatTheWhitespaceAfterThem) {
  BpeVocabSpec spec = special_spec();
  spec.model_name = "Phi-3 mini";
  const auto tokenizer = make_bpe(spec);
  EXPECT_EQ(tokenizer->encode("a<|end|>\n b", false, true), (std::vector<int32_t>{'a', 256, 'b'}));
}

TEST(BpeTokenizer, RendersSpecialTokensOnlyWhenAsked) {
  const auto tokenizer = make_bpe(special_spec());
  EXPECT_EQ(tokenizer->token_to_piece(256), "");
  EXPECT_EQ(tokenizer->token_to_piece(256, /*render_special=*/true), "<|end|>");
  EXPECT_EQ(tokenizer->token_to_piece(257), "<tool>");  // user-defined: its text
  EXPECT_EQ(tokenizer->token_to_piece(' '), " ");       // Ġ decodes to a space
  EXPECT_EQ(tokenizer->token_to_piece(9999), "");
}

TEST(BpeTokenizer, AddSpecialFollowsTheVocabulary) {
  std::vector<std::string> texts;
  for (int byte = 0; byte < 256; ++byte)
    texts.emplace_back(byte_level_char(static_cast<uint8_t>(byte)));
  texts.push_back("<s>");
  texts.push_back("</s>");
  std::vector<TokenType> types(256, TokenType::kNormal);
  types.push_back(TokenType::kControl);
  types.push_back(TokenType::kControl);
  // Llama 3's pre-tokenizer adds BOS by default; add_eos comes from the file.
  VocabConfig config = VocabConfig::defaults_for("gpt2", "llama-bpe");
  EXPECT_TRUE(config.add_bos);
  config.bos = 256;
  config.eos = 257;
  config.add_eos = true;
  auto vocab = Vocab::create(texts, {}, types, config);
  ASSERT_TRUE(vocab) << vocab.error().message;
  auto tokenizer = BpeTokenizer::create(std::move(*vocab), {}, 0);
  ASSERT_TRUE(tokenizer);
  EXPECT_EQ((*tokenizer)->encode("a", true, false), (std::vector<int32_t>{256, 'a', 257}));
  EXPECT_EQ((*tokenizer)->encode("a", false, false), (std::vector<int32_t>{'a'}));
  EXPECT_EQ((*tokenizer)->decode({256, 'a', 257}, /*remove_special=*/true), "a");
}

TEST(BpeTokenizer, CacheHitsGiveTheIdsOfMisses) {
  const BpeVocabSpec spec{.extra = {"he", "ll", "hell", "hello", "Ġ", "Ġhello"},
                          .merges = {"l l", "h e", "he ll", "hell o", "Ġ hello"}};
  const auto cached = make_bpe(spec);
  BpeVocabSpec no_cache = spec;
  no_cache.cache = 0;
  const auto uncached = make_bpe(no_cache);
  const std::string text = "hello hello hellhello hello!";
  const std::vector<int32_t> expected = uncached->encode(text, false, false);
  EXPECT_EQ(cached->encode(text, false, false), expected);  // misses, then hits
  const uint64_t hits = cached->word_cache().hits();
  EXPECT_GT(hits, 0u);                                      // " hello" repeats within the text
  EXPECT_EQ(cached->encode(text, false, false), expected);  // all hits
  EXPECT_GT(cached->word_cache().hits(), hits);
  EXPECT_EQ(uncached->word_cache().size(), 0u);
  EXPECT_GT(cached->cache_bytes(), 0u);
}

TEST(BpeTokenizer, CacheIsSafeAcrossThreads) {
  const auto tokenizer = make_bpe({.extra = {"ab", "abc"}, .merges = {"a b", "ab c"}, .cache = 64});
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i) texts.push_back("abc ab a" + std::to_string(i) + " abcab");
  std::vector<std::vector<int32_t>> expected;
  for (const std::string& text : texts) expected.push_back(tokenizer->encode(text, false, false));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 20; ++round) {
        for (size_t i = 0; i < texts.size(); ++i) {
          if (tokenizer->encode(texts[i], false, false) != expected[i]) ++mismatches;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_LE(tokenizer->word_cache().size(), 64u);
}

TEST(BpeTokenizer, LongWordsMergeInLogLinearTime) {
  // One 200 000-byte word: a quadratic merge loop would take minutes.
  const auto tokenizer =
      make_bpe({.extra = {"aa", "aaaa"}, .merges = {"a a", "aa aa"}, .cache = 0});
  const std::vector<int32_t> ids = tokenizer->encode(std::string(200000, 'a'), false, false);
  ASSERT_EQ(ids.size(), 50000u);
  EXPECT_EQ(ids.front(), 257);
}

TEST(BpeTokenizer, DecodeCleansUpSpacesWhereTheFamilyDoes) {
  const auto gpt2 = make_bpe({});
  EXPECT_TRUE(gpt2->clean_spaces());
  EXPECT_EQ(gpt2->decode(ids_of("Hi , you !")), "Hi, you!");
  BpeVocabSpec qwen2_spec;
  qwen2_spec.pre = "qwen2";
  const auto qwen2 = make_bpe(qwen2_spec);
  EXPECT_FALSE(qwen2->clean_spaces());
  EXPECT_EQ(qwen2->decode(ids_of("Hi , you !")), "Hi , you !");
}

TEST(CleanUpSpaces, MatchesLlamaCppPasses) {
  EXPECT_EQ(clean_up_spaces(""), "");
  EXPECT_EQ(clean_up_spaces(" ."), ".");
  EXPECT_EQ(clean_up_spaces("a . b , c ? d !"), "a. b, c? d!");
  EXPECT_EQ(clean_up_spaces("a  ."), "a .");  // one space per mark
  EXPECT_EQ(clean_up_spaces("rock ' n"), "rock'n");
  EXPECT_EQ(clean_up_spaces("he 's I 'm we 're you 've"), "he's I'm we're you've");
  EXPECT_EQ(clean_up_spaces("don 't I 'd we 'll"), "don 't I 'd we 'll");
  EXPECT_EQ(clean_up_spaces("a ' ' b"), "a'' b");
}

}  // namespace
}  // namespace locara
