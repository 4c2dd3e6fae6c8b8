// The WordPiece tokenizer (tokenizer.ggml.model = "bert": BGE, MiniLM and other BERT
// embedders) as llama.cpp and Hugging Face apply it: BERT's normalizer, words split at spaces,
// punctuation and CJK ideographs, then the longest vocabulary pieces, left to right.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/regex.h"
#include "tokenizer/tokenizer.h"

namespace locara {

// The normalizer follows Hugging Face's BertNormalizer (full NFD, nonspacing marks dropped)
// where llama.cpp maps a character to the first character of its decomposition; both agree on
// llama.cpp's test vectors. Immutable after construction; safe to use from many threads.
class WpmTokenizer final : public Tokenizer {
 public:
  // The vocabulary as llama.cpp's converter writes it: a word-initial piece with the space
  // marker ("▁the"), a continuation piece bare ("ing", Hugging Face's "##ing").
  static Expected<std::unique_ptr<WpmTokenizer>> create(Vocab vocab);

  // add_special puts BOS ([CLS]) first and, when the vocabulary says so, [SEP] last.
  std::vector<int32_t> encode(std::string_view text, bool add_special,
                              bool parse_special) const override;

  // BERT's normalization of plain text: control characters, U+FFFD and bytes that are not
  // UTF-8 dropped; each character decomposed, stripped of accents and lowercased.
  std::string normalize(std::string_view text) const;
  // The words of normalized text: runs of other characters between spaces, with every
  // punctuation character (Unicode P, and all ASCII symbols) and CJK ideograph a word alone.
  std::vector<TextSpan> split_words(std::string_view normalized) const;
  // One word's ids appended to `out`: the longest piece at each position (the first one
  // marked as word-initial). A word the pieces cannot spell entirely is one unknown token.
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;

 protected:
  std::string decode_normal(std::string_view text) const override;

 private:
  WpmTokenizer(Vocab vocab, Regex controls, Regex words);

  Regex controls_;
  Regex words_;
  size_t max_token_length_ = 0;
};

}  // namespace locara
