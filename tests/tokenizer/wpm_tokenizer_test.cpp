// WordPiece on a vocabulary built in code: BERT's normalizer, the word split, the longest
// pieces, whole-word unknowns, and [CLS]/[SEP].
#include "tokenizer/wpm_tokenizer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace locara {
namespace {

std::string marked(const std::string& word) {
  return "\xE2\x96\x81" + word;
}

// 0 [PAD] 1 [UNK] 2 [CLS] 3 [SEP], then the pieces (marked(): a word start).
const std::vector<std::string> kPieces = {
    marked("hello"), marked("world"), marked("!"),           marked(","), marked("un"),
    "aff",           "able",          marked("fu"),          "hrer",      marked("$"),
    marked("a"),     marked("b"),     marked("\xE6\x88\x91")};  // 我
constexpr int32_t kHello = 4, kWorld = 5, kBang = 6, kComma = 7, kUn = 8, kAff = 9, kAble = 10,
                  kFu = 11, kHrer = 12, kDollar = 13, kA = 14, kB = 15, kWo = 16;

std::unique_ptr<WpmTokenizer> make_wpm() {
  std::vector<std::string> texts = {"[PAD]", "[UNK]", "[CLS]", "[SEP]"};
  texts.insert(texts.end(), kPieces.begin(), kPieces.end());
  std::vector<TokenType> types(texts.size(), TokenType::kNormal);
  for (int i = 0; i < 4; ++i) types[static_cast<size_t>(i)] = TokenType::kControl;
  VocabConfig config = VocabConfig::defaults_for("bert");
  config.bos = 2;
  config.sep = 3;
  config.unk = 1;
  config.pad = 0;
  auto vocab = Vocab::create(std::move(texts), {}, std::move(types), config);
  EXPECT_TRUE(vocab) << vocab.error().message;
  auto tokenizer = WpmTokenizer::create(std::move(*vocab));
  EXPECT_TRUE(tokenizer) << tokenizer.error().message;
  return std::move(*tokenizer);
}

TEST(WpmTokenizer, NormalizesLikeBert) {
  const auto wpm = make_wpm();
  EXPECT_EQ(wpm->normalize("F\xC3\xBChrer"), "fuhrer");  // ü: u + diaeresis
  EXPECT_EQ(wpm->normalize("C\xE1\xBB\xAD"
                           "a Vi\xE1\xBB\x87t"),
            "cua viet");                                              // stacked marks
  EXPECT_EQ(wpm->normalize("e\xCC\x81"), "e");                        // a loose accent
  EXPECT_EQ(wpm->normalize("\xD0\x91\xD0\xAA"), "\xD0\xB1\xD1\x8A");  // БЪ -> бъ
  EXPECT_EQ(wpm->normalize("\xC2\xBD"), "\xC2\xBD");                  // ½ is kept (NFD, not NFKD)
  EXPECT_EQ(wpm->normalize("a\x01"
                           "b\xE2\x80\x8D"
                           "c\xEF\xBF\xBD"),
            "abc");                                 // controls, ZWJ, U+FFFD
  EXPECT_EQ(wpm->normalize("a\tb\nc"), "a\tb\nc");  // whitespace stays
  EXPECT_EQ(wpm->normalize("a\xFF"
                           "b"),
            "ab");  // not UTF-8
  // 한 (U+D55C) decomposes into its three jamo.
  EXPECT_EQ(wpm->normalize("\xED\x95\x9C"), "\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB");
}

std::vector<std::string> words_of(const WpmTokenizer& wpm, const std::string& normalized) {
  std::vector<std::string> words;
  for (const TextSpan& span : wpm.split_words(normalized)) {
    words.push_back(normalized.substr(span.offset, span.length));
  }
  return words;
}

TEST(WpmTokenizer, SplitsAtSpacesPunctuationAndIdeographs) {
  const auto wpm = make_wpm();
  using Words = std::vector<std::string>;
  EXPECT_EQ(words_of(*wpm, " hello,  world!\n"), (Words{"hello", ",", "world", "!"}));
  EXPECT_EQ(words_of(*wpm, "a$b"), (Words{"a", "$", "b"}));  // ASCII symbols too
  EXPECT_EQ(words_of(*wpm, "\xE6\x88\x91\xE6\x83\xB3x"),     // 我想x
            (Words{"\xE6\x88\x91", "\xE6\x83\xB3", "x"}));
  EXPECT_EQ(words_of(*wpm,
                     "a\xE3\x80\x80"
                     "b"),
            (Words{"a", "b"}));  // ideographic space
}

TEST(WpmTokenizer, LongestPiecesFirst) {
  const auto wpm = make_wpm();
  EXPECT_EQ(wpm->encode("Unaffable F\xC3\xBChrer", false, false),
            (std::vector<int32_t>{kUn, kAff, kAble, kFu, kHrer}));
  EXPECT_EQ(wpm->encode("Hello, World! $", false, false),
            (std::vector<int32_t>{kHello, kComma, kWorld, kBang, kDollar}));
  EXPECT_EQ(wpm->encode("\xE6\x88\x91", false, false), (std::vector<int32_t>{kWo}));
}

TEST(WpmTokenizer, AWordThePiecesCannotSpellIsOneUnknown) {
  const auto wpm = make_wpm();
  // "unaffablex": un aff able, then no piece for "x": the whole word is [UNK].
  EXPECT_EQ(wpm->encode("a unaffablex b", false, false), (std::vector<int32_t>{kA, 1, kB}));
  EXPECT_EQ(wpm->encode("", false, false), (std::vector<int32_t>{}));
}

TEST(WpmTokenizer, AddSpecialWrapsInClsAndSep) {
  const auto wpm = make_wpm();
  EXPECT_EQ(wpm->encode("hello", true, false), (std::vector<int32_t>{2, kHello, 3}));
  // [SEP] in the text is a control token: only with parse_special.
  EXPECT_EQ(wpm->encode("a[SEP]b", false, true), (std::vector<int32_t>{kA, 3, kB}));
  EXPECT_NE(wpm->encode("a[SEP]b", false, false), (std::vector<int32_t>{kA, 3, kB}));
}

TEST(WpmTokenizer, DecodeJoinsWordsAndCleansUpSpaces) {
  const auto wpm = make_wpm();
  EXPECT_EQ(wpm->decode({kHello, kComma, kWorld, kBang}), " hello, world!");
  EXPECT_EQ(wpm->decode({kUn, kAff, kAble}), " unaffable");
  EXPECT_EQ(wpm->decode({2, kHello, 3}), " hello");
  EXPECT_EQ(wpm->decode({2, kHello, 3}, false, /*render_special=*/true), "[CLS] hello[SEP]");
}

}  // namespace
}  // namespace locara
