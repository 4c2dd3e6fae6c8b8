// The SentencePiece tokenizer (tokenizer.ggml.model = "llama": Llama 1/2, Mistral, Phi-3,
// TinyLlama) as llama.cpp applies it: score-driven bigram merges with byte fallback.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace locara {

// Immutable after construction; safe to use from many threads at once.
class SpmTokenizer final : public Tokenizer {
 public:
  explicit SpmTokenizer(Vocab vocab) : Tokenizer(std::move(vocab)) {}

  std::vector<int32_t> encode(std::string_view text, bool add_special,
                              bool parse_special) const override;
  std::string token_to_piece(int32_t id, bool render_special = false) const override;

  // One span of plain text, spaces already escaped to U+2581, appended to `out`: split into
  // characters, merge the adjacent pair whose concatenation is the best-scoring token (ties:
  // leftmost) until none is left, then spell each piece that is not a token as byte tokens.
  // O(n log n) in the length of `text`.
  void encode_span(std::string_view escaped, std::vector<int32_t>& out) const;
};

}  // namespace locara
