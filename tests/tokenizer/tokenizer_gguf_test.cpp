// Tokenizer::from_gguf and Vocab::from_gguf on small files written by GgufWriter: the
// errors name the key, and the keys' values arrive in the Vocab.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <string>

#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"
#include "tokenizer/tokenizer.h"

namespace locara {
namespace {

// A minimal SentencePiece vocabulary: <unk> <s> </s> ▁ a ▁a.
void write_spm_keys(GgufWriter& writer) {
  writer.set_string("tokenizer.ggml.model", "llama");
  writer.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a",
                                                    "\xE2\x96\x81"
                                                    "a"});
  writer.set_float32_array("tokenizer.ggml.scores", {0, 0, 0, -1, -1, -0.5f});
  writer.set_int32_array("tokenizer.ggml.token_type", {2, 3, 3, 1, 1, 1});
}

class TokenizerFromGgufTest : public ::testing::Test {
 protected:
  void TearDown() override { std::remove(path_.c_str()); }

  // Writes a file with the SentencePiece keys, edited by `edit`, and loads its tokenizer.
  Expected<std::unique_ptr<Tokenizer>> load(const std::function<void(GgufWriter&)>& edit,
                                            bool with_spm_keys = true) {
    GgufWriter writer;
    if (with_spm_keys) write_spm_keys(writer);
    edit(writer);
    const Status written = writer.write(path_);
    EXPECT_TRUE(written) << written.error().message;
    auto gguf = GgufReader::open(path_);
    EXPECT_TRUE(gguf) << gguf.error().message;
    if (!gguf) return gguf.error();
    return Tokenizer::from_gguf(**gguf);
  }

  static void expect_error_naming(const Expected<std::unique_ptr<Tokenizer>>& result,
                                  ErrorCode code, const std::string& text) {
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, code) << result.error().message;
    EXPECT_NE(result.error().message.find(text), std::string::npos) << result.error().message;
  }

  const std::string path_ = std::string(LOCARA_BINARY_DIR) + "/tokenizer_gguf_test_" +
                            ::testing::UnitTest::GetInstance()->current_test_info()->name() +
                            ".gguf";
};

TEST_F(TokenizerFromGgufTest, LoadsAMinimalVocabulary) {
  auto tokenizer = load([](GgufWriter&) {});
  ASSERT_TRUE(tokenizer) << tokenizer.error().message;
  EXPECT_EQ((*tokenizer)->n_vocab(), 6);
  EXPECT_EQ((*tokenizer)->bos(), 1);
  EXPECT_EQ((*tokenizer)->encode("a a", true, false), (std::vector<int32_t>{1, 5, 5}));
  EXPECT_EQ((*tokenizer)->decode({5, 5}), "a a");
}

TEST_F(TokenizerFromGgufTest, MissingTokensNamesTheKey) {
  auto result = load([](GgufWriter& writer) { writer.set_string("tokenizer.ggml.model", "llama"); },
                     /*with_spm_keys=*/false);
  expect_error_naming(result, ErrorCode::kNotFound, "tokenizer.ggml.tokens");
}

TEST_F(TokenizerFromGgufTest, MissingModelNamesTheKey) {
  auto result = load(
      [](GgufWriter& writer) { writer.set_string_array("tokenizer.ggml.tokens", {"a"}); }, false);
  expect_error_naming(result, ErrorCode::kNotFound, "tokenizer.ggml.model");
}

TEST_F(TokenizerFromGgufTest, OtherFamiliesAreUnsupported) {
  auto result = load([](GgufWriter& writer) { writer.set_string("tokenizer.ggml.model", "t5"); });
  expect_error_naming(result, ErrorCode::kUnsupported, "'t5'");
  // The message lists what is supported.
  EXPECT_NE(result.error().message.find("'gpt2'"), std::string::npos) << result.error().message;
}

// A byte-level BPE vocabulary: the 256 byte characters are not needed for ASCII text.
void write_bpe_keys(GgufWriter& writer, const std::string& pre) {
  writer.set_string("tokenizer.ggml.model", "gpt2");
  if (!pre.empty()) writer.set_string("tokenizer.ggml.pre", pre);
  writer.set_string_array("tokenizer.ggml.tokens", {"a", "b", "ab", "\xC4\xA0",
                                                    "\xC4\xA0"
                                                    "ab"});
  writer.set_string_array("tokenizer.ggml.merges", {"a b", "\xC4\xA0 ab"});
}

TEST_F(TokenizerFromGgufTest, LoadsAByteLevelBpeVocabulary) {
  auto tokenizer = load([](GgufWriter& writer) { write_bpe_keys(writer, "gpt-2"); }, false);
  ASSERT_TRUE(tokenizer) << tokenizer.error().message;
  EXPECT_EQ((*tokenizer)->encode("ab ab", false, false), (std::vector<int32_t>{2, 4}));
  EXPECT_EQ((*tokenizer)->decode({2, 4}), "ab ab");
  EXPECT_TRUE((*tokenizer)->clean_spaces());
}

TEST_F(TokenizerFromGgufTest, BpeWithoutPreUsesTheDefault) {
  auto tokenizer = load([](GgufWriter& writer) { write_bpe_keys(writer, ""); }, false);
  ASSERT_TRUE(tokenizer) << tokenizer.error().message;
  EXPECT_EQ((*tokenizer)->encode("ab ab", false, false), (std::vector<int32_t>{2, 4}));
}

TEST_F(TokenizerFromGgufTest, BpeNeedsMergesAndAKnownPreTokenizer) {
  auto unknown = load([](GgufWriter& writer) { write_bpe_keys(writer, "brand-new-pre"); }, false);
  expect_error_naming(unknown, ErrorCode::kUnsupported, "'brand-new-pre'");
  auto no_merges = load(
      [](GgufWriter& writer) {
        writer.set_string("tokenizer.ggml.model", "gpt2");
        writer.set_string_array("tokenizer.ggml.tokens", {"a"});
      },
      false);
  expect_error_naming(no_merges, ErrorCode::kNotFound, "tokenizer.ggml.merges");
  auto bad_merges = load(
      [](GgufWriter& writer) {
        write_bpe_keys(writer, "gpt-2");
        writer.set_int32_array("tokenizer.ggml.merges", {1, 2});
      },
      false);
  expect_error_naming(bad_merges, ErrorCode::kCorruptFile, "tokenizer.ggml.merges");
}

TEST_F(TokenizerFromGgufTest, BertGetsClsAndSepFromTheFile) {
  auto tokenizer = load(
      [](GgufWriter& writer) {
        writer.set_string("tokenizer.ggml.model", "bert");
        writer.set_string_array("tokenizer.ggml.tokens",
                                {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "\xE2\x96\x81hi"});
        writer.set_int32_array("tokenizer.ggml.token_type", {3, 3, 3, 3, 1});
        writer.set_uint32("tokenizer.ggml.bos_token_id", 2);
        writer.set_uint32("tokenizer.ggml.unknown_token_id", 1);
        writer.set_uint32("tokenizer.ggml.seperator_token_id", 3);
      },
      false);
  ASSERT_TRUE(tokenizer) << tokenizer.error().message;
  EXPECT_EQ((*tokenizer)->encode("Hi", true, false), (std::vector<int32_t>{2, 4, 3}));
  EXPECT_EQ((*tokenizer)->encode("Hi ho", false, false), (std::vector<int32_t>{4, 1}));
}

TEST_F(TokenizerFromGgufTest, TokensMustBeStrings) {
  auto result = load([](GgufWriter& writer) {
    writer.set_int32_array("tokenizer.ggml.tokens", {1, 2, 3});
  });
  expect_error_naming(result, ErrorCode::kCorruptFile, "tokenizer.ggml.tokens");
}

TEST_F(TokenizerFromGgufTest, MismatchedScoresNameTheKey) {
  auto result = load([](GgufWriter& writer) {
    writer.set_float32_array("tokenizer.ggml.scores", {0, 0, 0});
  });
  expect_error_naming(result, ErrorCode::kInvalidArgument, "tokenizer.ggml.scores");
}

TEST_F(TokenizerFromGgufTest, MismatchedTypesNameTheKey) {
  auto result = load([](GgufWriter& writer) {
    writer.set_int32_array("tokenizer.ggml.token_type", {1, 1, 1, 1, 1, 1, 1});
  });
  expect_error_naming(result, ErrorCode::kInvalidArgument, "tokenizer.ggml.token_type");
}

TEST_F(TokenizerFromGgufTest, SpecialIdOutOfRangeNamesTheKey) {
  auto result =
      load([](GgufWriter& writer) { writer.set_uint32("tokenizer.ggml.bos_token_id", 6); });
  expect_error_naming(result, ErrorCode::kOutOfRange, "tokenizer.ggml.bos_token_id");
  result = load([](GgufWriter& writer) { writer.set_uint32("tokenizer.ggml.eos_token_id", 600); });
  expect_error_naming(result, ErrorCode::kOutOfRange, "tokenizer.ggml.eos_token_id");
}

TEST_F(TokenizerFromGgufTest, NoneSentinelsAndPaddingAreTolerated) {
  // As stories260K ships them: 0xFFFFFFFF means "none"; pad = n_vocab is common and unused.
  auto tokenizer = load([](GgufWriter& writer) {
    writer.set_uint32("tokenizer.ggml.padding_token_id", 6);
    writer.set_uint32("tokenizer.ggml.seperator_token_id", 0xFFFFFFFF);
    writer.set_uint32("tokenizer.ggml.eos_token_id", 0xFFFFFFFF);
  });
  ASSERT_TRUE(tokenizer) << tokenizer.error().message;
  EXPECT_EQ((*tokenizer)->vocab().pad(), kNoToken);
  EXPECT_EQ((*tokenizer)->eos(), 2);  // the default stays
}

TEST_F(TokenizerFromGgufTest, FlagsAndIdsComeFromTheFile) {
  auto tokenizer = load([](GgufWriter& writer) {
    writer.set_bool("tokenizer.ggml.add_bos_token", false);
    writer.set_bool("tokenizer.ggml.add_eos_token", true);
    writer.set_bool("tokenizer.ggml.add_space_prefix", false);
    writer.set_uint32("tokenizer.ggml.eos_token_id", 1);
    writer.set_uint32("tokenizer.ggml.eot_token_id", 2);
  });
  ASSERT_TRUE(tokenizer) << tokenizer.error().message;
  const Tokenizer& t = **tokenizer;
  EXPECT_EQ(t.encode("a", true, false), (std::vector<int32_t>{4, 1}));
  EXPECT_TRUE(t.is_end_of_generation(1));
  EXPECT_TRUE(t.is_end_of_generation(2));
  EXPECT_EQ(t.vocab().eot(), 2);
}

TEST_F(TokenizerFromGgufTest, MistypedFlagIsAnError) {
  auto result =
      load([](GgufWriter& writer) { writer.set_string("tokenizer.ggml.add_bos_token", "yes"); });
  expect_error_naming(result, ErrorCode::kInvalidArgument, "tokenizer.ggml.add_bos_token");
}

// general.architecture reaches the vocabulary and gives nomic-bert-moe's "<mask>" its
// lstrip: "a <mask>" loses the space before the mask (llama.cpp's rule).
TEST_F(TokenizerFromGgufTest, ArchitectureDecidesTheMaskTokensLstrip) {
  auto with_mask = [](const std::string& architecture) {
    return [architecture](GgufWriter& writer) {
      writer.set_string("general.architecture", architecture);
      writer.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a",
                                                        "\xE2\x96\x81"
                                                        "a",
                                                        "<mask>"});
      writer.set_float32_array("tokenizer.ggml.scores", {0, 0, 0, -1, -1, -0.5f, 0});
      writer.set_int32_array("tokenizer.ggml.token_type", {2, 3, 3, 1, 1, 1, 3});
    };
  };
  auto moe = load(with_mask("nomic-bert-moe"));
  ASSERT_TRUE(moe) << moe.error().message;
  EXPECT_EQ((*moe)->vocab().config().architecture, "nomic-bert-moe");
  EXPECT_TRUE((*moe)->vocab().has_attr(6, kAttrLstrip));
  EXPECT_EQ((*moe)->encode("a <mask>", false, true), (std::vector<int32_t>{5, 6}));

  auto plain = load(with_mask("llama"));
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_FALSE((*plain)->vocab().has_attr(6, kAttrLstrip));
  EXPECT_EQ((*plain)->encode("a <mask>", false, true), (std::vector<int32_t>{5, 3, 6}));
}
}  // namespace
}  // namespace locara
