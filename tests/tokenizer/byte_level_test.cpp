// GPT-2's byte alphabet and the Unicode data behind WordPiece's normalizer.
#include "tokenizer/byte_level.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tokenizer/unicode_data.h"
#include "tokenizer/utf8.h"

namespace locara {
namespace {

TEST(ByteLevel, KnownCharacters) {
  EXPECT_EQ(byte_level_char(' '), "\xC4\xA0");   // Ġ U+0120
  EXPECT_EQ(byte_level_char('\n'), "\xC4\x8A");  // Ċ U+010A
  EXPECT_EQ(byte_level_char(0), "\xC4\x80");     // Ā U+0100
  EXPECT_EQ(byte_level_char('a'), "a");
  EXPECT_EQ(byte_level_char(0xE9), "\xC3\xA9");  // é stands for itself
  EXPECT_EQ(byte_level_char(0xAD), "\xC5\x83");  // soft hyphen: the last substitute, U+0143
}

TEST(ByteLevel, EveryByteHasItsOwnCharacterAndComesBack) {
  std::set<std::string> seen;
  std::string all;
  for (int byte = 0; byte < 256; ++byte) {
    seen.insert(std::string(byte_level_char(static_cast<uint8_t>(byte))));
    all += static_cast<char>(byte);
  }
  EXPECT_EQ(seen.size(), 256u);
  std::string spelled;
  append_byte_level(all, spelled);
  std::string decoded;
  append_byte_level_decoded(spelled, decoded);
  EXPECT_EQ(decoded, all);
}

TEST(ByteLevel, CharactersOutsideTheAlphabetPassThrough) {
  std::string decoded;
  append_byte_level_decoded("a\xE2\x96\x81<|x|>", decoded);  // ▁ is not in the alphabet
  EXPECT_EQ(decoded, "a\xE2\x96\x81<|x|>");
}

std::string normalized(uint32_t codepoint) {
  std::string out;
  append_bert_normalized(codepoint, out);
  return out;
}

TEST(UnicodeData, BertNormalization) {
  EXPECT_EQ(normalized('A'), "a");
  EXPECT_EQ(normalized(0xC9), "e");                           // É
  EXPECT_EQ(normalized(0x1E9E), "\xC3\x9F");                  // ẞ -> ß
  EXPECT_EQ(normalized(0x130), "i");                          // İ: I + dot above, the dot dropped
  EXPECT_EQ(normalized(0x301), "");                           // a combining acute alone
  EXPECT_EQ(normalized(0x410), "\xD0\xB0");                   // Cyrillic А -> а
  EXPECT_EQ(normalized(0x3A3), "\xCF\x83");                   // Σ -> σ
  EXPECT_EQ(normalized(0x2126), "\xCF\x89");                  // Ohm sign -> ω
  EXPECT_EQ(normalized(0x1F600), "\xF0\x9F\x98\x80");         // emoji unchanged
  EXPECT_EQ(normalized(0x4E00), "\xE4\xB8\x80");              // 一 unchanged
  EXPECT_EQ(normalized(0xAC00), "\xE1\x84\x80\xE1\x85\xA1");  // 가: two jamo
  EXPECT_TRUE(is_nonspacing_mark(0x300));
  EXPECT_FALSE(is_nonspacing_mark('a'));
  EXPECT_FALSE(is_nonspacing_mark(0x17B6));  // a Khmer spacing mark (Mc) is kept
}

TEST(Utf8Decode, ValidAndInvalidSequences) {
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x9A\x80";
  size_t pos = 0;
  EXPECT_EQ(utf8_decode(text, pos), 'a');
  EXPECT_EQ(utf8_decode(text, pos), 0xE9u);
  EXPECT_EQ(utf8_decode(text, pos), 0x20ACu);
  EXPECT_EQ(utf8_decode(text, pos), 0x1F680u);
  EXPECT_EQ(pos, text.size());
  for (const std::string bad :
       {"\x80", "\xC3", "\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF", "\xE2\x82"}) {
    pos = 0;
    EXPECT_EQ(utf8_decode(bad, pos), kInvalidCodepoint) << bad;
    EXPECT_EQ(pos, 1u);
  }
  std::string encoded;
  for (const uint32_t cp : {0x41u, 0xE9u, 0x20ACu, 0x1F680u}) utf8_append(cp, encoded);
  EXPECT_EQ(encoded, "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x9A\x80");
}

}  // namespace
}  // namespace locara
