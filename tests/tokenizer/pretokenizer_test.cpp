// The pre-tokenizers: every tokenizer.ggml.pre value compiles, regexes apply in sequence
// with each seeing only its word, and the text between matches is kept.
#include "tokenizer/pretokenizer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace locara {
namespace {

std::vector<std::string> words_of(const Pretokenizer& pretokenizer, std::string_view text) {
  std::vector<TextSpan> spans;
  pretokenizer.split(text, spans);
  std::vector<std::string> words;
  for (const TextSpan& span : spans) words.emplace_back(text.substr(span.offset, span.length));
  return words;
}

Pretokenizer named(std::string_view pre) {
  auto pretokenizer = Pretokenizer::for_name(pre);
  EXPECT_TRUE(pretokenizer) << pretokenizer.error().message;
  return std::move(*pretokenizer);
}

Pretokenizer with_patterns(const std::vector<std::string_view>& patterns) {
  auto pretokenizer = Pretokenizer::from_patterns(patterns);
  EXPECT_TRUE(pretokenizer) << pretokenizer.error().message;
  return std::move(*pretokenizer);
}

using Words = std::vector<std::string>;

TEST(Pretokenizer, EveryKnownNameCompiles) {
  const std::vector<std::string_view> names = known_pretokenizers();
  EXPECT_GE(names.size(), 30u);
  for (const std::string_view name : names) {
    auto pretokenizer = Pretokenizer::for_name(name);
    ASSERT_TRUE(pretokenizer) << name << ": " << pretokenizer.error().message;
    // Each splits a mixed text into words that cover it exactly.
    const std::string text =
        "Hello, y'all!  123456 \xE6\x88\x91\xE6\x83\xB3 \xF0\x9F\x9A\x80\n\n\tx";
    std::string joined;
    for (const std::string& word : words_of(*pretokenizer, text)) joined += word;
    EXPECT_EQ(joined, text) << name;
    EXPECT_TRUE(pretokenizer_flags(name).has_value()) << name;
  }
  EXPECT_TRUE(Pretokenizer::for_name("").has_value());  // no .pre: llama.cpp's default
}

TEST(Pretokenizer, UnknownNameIsUnsupportedAndNamed) {
  auto pretokenizer = Pretokenizer::for_name("my-new-model");
  ASSERT_FALSE(pretokenizer);
  EXPECT_EQ(pretokenizer.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(pretokenizer.error().message.find("'my-new-model'"), std::string::npos);
  EXPECT_NE(pretokenizer.error().message.find("llama-bpe"), std::string::npos);  // the known ones
  EXPECT_FALSE(pretokenizer_flags("my-new-model").has_value());
}

TEST(Pretokenizer, FlagsFollowLlamaCpp) {
  EXPECT_TRUE(pretokenizer_flags("llama-bpe")->ignore_merges);
  EXPECT_TRUE(pretokenizer_flags("llama-bpe")->add_bos);
  EXPECT_TRUE(pretokenizer_flags("gpt-2")->clean_spaces);
  EXPECT_FALSE(pretokenizer_flags("qwen2")->clean_spaces);
  EXPECT_FALSE(pretokenizer_flags("deepseek-coder")->clean_spaces);
  EXPECT_FALSE(pretokenizer_flags("gpt-2")->ignore_merges);
}

TEST(Pretokenizer, Gpt2Words) {
  EXPECT_EQ(words_of(named("gpt-2"), "Hello world's  end 42!"),
            (Words{"Hello", " world", "'s", " ", " end", " 42", "!"}));
}

TEST(Pretokenizer, Llama3GroupsDigitsByThreeAndContractionsAnyCase) {
  EXPECT_EQ(words_of(named("llama-bpe"), "1234567 I'M"), (Words{"123", "456", "7", " I", "'M"}));
  EXPECT_EQ(words_of(named("qwen2"), "123"), (Words{"1", "2", "3"}));
}

TEST(Pretokenizer, SmolLmSplitsEveryDigitThenGpt2Words) {
  // First regex: each digit a word; the text between goes on to GPT-2's regex.
  EXPECT_EQ(words_of(named("smollm"), "abc 123 def's"),
            (Words{"abc", " ", "1", "2", "3", " def", "'s"}));
}

TEST(Pretokenizer, GptNeoxIsGpt2) {
  EXPECT_EQ(words_of(named("gpt-neox"), "Hello world's  end 42!"),
            words_of(named("gpt-2"), "Hello world's  end 42!"));
}

TEST(Pretokenizer, TekkenSplitsAtCaseChangesAndDigitsWithoutContractions) {
  EXPECT_EQ(words_of(named("tekken"), "HelloWorld 42abc"),
            (Words{"Hello", "World", " ", "4", "2", "abc"}));
  // No contraction rule: the apostrophe leads the next cased word.
  EXPECT_EQ(words_of(named("tekken"), "I'M ok"), (Words{"I", "'M", " ok"}));
}

TEST(Pretokenizer, UnicodePropertiesNotAsciiClasses) {
  // Cyrillic and accented Latin are letters; U+3000 (ideographic space) is whitespace.
  EXPECT_EQ(words_of(named("gpt-2"), "\xD0\xBD\xD0\xB0 caf\xC3\xA9\xE3\x80\x80x"),
            (Words{"\xD0\xBD\xD0\xB0", " caf\xC3\xA9", "\xE3\x80\x80", "x"}));
}

TEST(Pretokenizer, KeepsTheTextBetweenMatches) {
  EXPECT_EQ(words_of(with_patterns({"[0-9]+"}), "ab12cd3"), (Words{"ab", "12", "cd", "3"}));
}

TEST(Pretokenizer, EachRegexSeesOnlyItsWord) {
  // After the first regex cuts "a|bc", the lookbehind cannot see the "a" before "b".
  EXPECT_EQ(words_of(with_patterns({"a", "(?<=a)b"}), "abc"), (Words{"a", "bc"}));
  EXPECT_EQ(words_of(with_patterns({"(?<=a)b"}), "abc"), (Words{"a", "b", "c"}));
  // $ is the end of the word, and never "before a final newline".
  EXPECT_EQ(words_of(with_patterns({"x", R"(\s+$)"}), " x \n"), (Words{" ", "x", " \n"}));
  EXPECT_EQ(words_of(with_patterns({R"(\t$)"}), "a\t\n"), (Words{"a\t\n"}));
}

TEST(Pretokenizer, EmptyMatchesOnlyCut) {
  EXPECT_EQ(words_of(with_patterns({"(?=b)"}), "abab"), (Words{"a", "ba", "b"}));
}

TEST(Pretokenizer, InvalidUtf8IsKeptAndNeverMatched) {
  const std::string text = "ab\xFF\xC3 cd\x80";
  const Words words = words_of(named("llama-bpe"), text);
  std::string joined;
  for (const std::string& word : words) joined += word;
  EXPECT_EQ(joined, text);
  EXPECT_EQ(words.front(), "ab");
}

TEST(Pretokenizer, EmptyTextHasNoWords) {
  EXPECT_TRUE(words_of(named("gpt-2"), "").empty());
}

TEST(Regex, CompileErrorNamesThePatternAndOffset) {
  auto regex = Regex::compile("ab[c");
  ASSERT_FALSE(regex);
  EXPECT_EQ(regex.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(regex.error().message.find("'ab[c'"), std::string::npos) << regex.error().message;
  EXPECT_NE(regex.error().message.find("offset"), std::string::npos) << regex.error().message;
}

TEST(Regex, LongRunsOfOneClassMatch) {
  // Far past the default JIT stack; must still match as one word.
  auto regex = Regex::compile(R"(\s+(?!\S)|\s+)");
  ASSERT_TRUE(regex);
  std::vector<TextSpan> matches;
  regex->find_all(std::string(1 << 20, ' '), matches);
  EXPECT_EQ(matches, (std::vector<TextSpan>{{0, 1u << 20}}));
}

}  // namespace
}  // namespace locara
