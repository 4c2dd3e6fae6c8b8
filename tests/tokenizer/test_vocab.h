// Small SentencePiece vocabularies built in code, for the tokenizer unit tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/vocab.h"

namespace locara::testing {

// U+2581, SentencePiece's space.
inline const std::string kSp = "\xE2\x96\x81";

struct Piece {
  std::string text;
  float score = 0.0f;
  TokenType type = TokenType::kNormal;
};

// Ids: 0 <unk>, 1 <s>, 2 </s>, then (with byte fallback) 3 + b for byte b, then `pieces`.
inline Vocab make_vocab(const std::vector<Piece>& pieces, bool byte_fallback = true,
                        VocabConfig config = VocabConfig::defaults_for("llama")) {
  std::vector<std::string> texts = {"<unk>", "<s>", "</s>"};
  std::vector<float> scores = {0, 0, 0};
  std::vector<TokenType> types = {TokenType::kUnknown, TokenType::kControl, TokenType::kControl};
  if (byte_fallback) {
    for (int byte = 0; byte < 256; ++byte) {
      static const char* kHex = "0123456789ABCDEF";
      texts.push_back(std::string("<0x") + kHex[byte >> 4] + kHex[byte & 15] + ">");
      scores.push_back(0);
      types.push_back(TokenType::kByte);
    }
  }
  for (const Piece& piece : pieces) {
    texts.push_back(piece.text);
    scores.push_back(piece.score);
    types.push_back(piece.type);
  }
  auto vocab = Vocab::create(std::move(texts), std::move(scores), std::move(types), config);
  EXPECT_TRUE(vocab) << vocab.error().message;
  return std::move(vocab).value();
}

inline int32_t byte_id(uint8_t byte) {
  return 3 + byte;
}

}  // namespace locara::testing
