#include "tokenizer/utf8.h"

#include <gtest/gtest.h>

#include <string>

#include "tokenizer/utf8_stream.h"

namespace locara {
namespace {

TEST(Utf8SequenceLength, MatchesLlamaCppTable) {
  EXPECT_EQ(utf8_sequence_length(0x00), 1u);
  EXPECT_EQ(utf8_sequence_length('a'), 1u);
  EXPECT_EQ(utf8_sequence_length(0x80), 1u);  // continuation byte
  EXPECT_EQ(utf8_sequence_length(0xBF), 1u);
  EXPECT_EQ(utf8_sequence_length(0xC3), 2u);
  EXPECT_EQ(utf8_sequence_length(0xDF), 2u);
  EXPECT_EQ(utf8_sequence_length(0xE2), 3u);
  EXPECT_EQ(utf8_sequence_length(0xF0), 4u);
  EXPECT_EQ(utf8_sequence_length(0xFF), 4u);  // invalid, still 4 in llama.cpp
}

// "a", é (2 bytes), € (3), 🚀 (4), "z".
const std::string kMixed = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x9A\x80z";

bool ends_on_boundary(const std::string& text) {
  // True when every sequence in `text` is complete (valid input assumed).
  size_t i = 0;
  while (i < text.size()) i += utf8_sequence_length(static_cast<uint8_t>(text[i]));
  return i == text.size();
}

TEST(Utf8StreamDecoder, PassesCompleteTextThrough) {
  Utf8StreamDecoder decoder;
  EXPECT_EQ(decoder.push(kMixed), kMixed);
  EXPECT_EQ(decoder.pending_bytes(), 0u);
  EXPECT_EQ(decoder.flush(), "");
  EXPECT_EQ(decoder.push(""), "");
}

TEST(Utf8StreamDecoder, SplitAtEveryPositionNeverEmitsHalfACharacter) {
  for (size_t cut = 0; cut <= kMixed.size(); ++cut) {
    Utf8StreamDecoder decoder;
    const std::string first = decoder.push(kMixed.substr(0, cut));
    EXPECT_TRUE(ends_on_boundary(first)) << "cut " << cut;
    const std::string second = decoder.push(kMixed.substr(cut));
    EXPECT_TRUE(ends_on_boundary(second)) << "cut " << cut;
    EXPECT_EQ(first + second, kMixed) << "cut " << cut;
    EXPECT_EQ(decoder.flush(), "");
  }
  for (size_t cut1 = 0; cut1 <= kMixed.size(); ++cut1) {
    for (size_t cut2 = cut1; cut2 <= kMixed.size(); ++cut2) {
      Utf8StreamDecoder decoder;
      std::string out = decoder.push(kMixed.substr(0, cut1));
      out += decoder.push(kMixed.substr(cut1, cut2 - cut1));
      out += decoder.push(kMixed.substr(cut2));
      EXPECT_EQ(out, kMixed) << cut1 << " " << cut2;
    }
  }
}

TEST(Utf8StreamDecoder, ByteAtATime) {
  // As byte-fallback tokens arrive: one byte per token.
  Utf8StreamDecoder decoder;
  std::string out;
  for (const char byte : kMixed) {
    const std::string chunk = decoder.push(std::string(1, byte));
    EXPECT_TRUE(ends_on_boundary(chunk));
    out += chunk;
  }
  EXPECT_EQ(out, kMixed);
}

TEST(Utf8StreamDecoder, FlushReturnsIncompleteTail) {
  Utf8StreamDecoder decoder;
  EXPECT_EQ(decoder.push("ok\xF0\x9F"), "ok");
  EXPECT_EQ(decoder.pending_bytes(), 2u);
  EXPECT_EQ(decoder.flush(), "\xF0\x9F");
  EXPECT_EQ(decoder.pending_bytes(), 0u);
  EXPECT_EQ(decoder.push("x"), "x");
}

TEST(Utf8StreamDecoder, InvalidBytesAreNotHeldForever) {
  Utf8StreamDecoder decoder;
  EXPECT_EQ(decoder.push("\x80\x80"), "\x80\x80");  // stray continuation bytes
  EXPECT_EQ(decoder.push("\xFF"), "\xFF");          // can never start a character
  EXPECT_EQ(decoder.push("a\xC3"), "a");
  EXPECT_EQ(decoder.push("b"),
            "\xC3"
            "b");  // broken sequence: released as is
  EXPECT_EQ(decoder.push("\xE2\x82"), "");
  EXPECT_EQ(decoder.push("\xAC\x80"), "\xE2\x82\xAC\x80");
  EXPECT_EQ(decoder.flush(), "");
}

}  // namespace
}  // namespace locara
