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
  // word_cache_capacity: see TokenizerOptions (0: no cache).
  explicit SpmTokenizer(Vocab vocab, size_t word_cache_capacity = 0);

  std::vector<int32_t> encode(std::string_view text, bool add_special,
                              bool parse_special) const override;

  // One span of plain text, spaces already escaped to U+2581, appended to `out`. When no
  // token has the marker after another character (true of Llama's, Mistral's and Phi-3's
  // vocabularies), no merge can cross the start of a word, so the span is merged word by
  // word through the word cache: the same ids, much faster on long and repeated text.
  void encode_span(std::string_view escaped, std::vector<int32_t>& out) const;
  // The merge loop on one span: split into characters, merge the adjacent pair whose
  // concatenation is the best-scoring token (ties: leftmost) until none is left, then spell
  // each piece that is not a token as byte tokens. O(n log n) in the length of `escaped`.
  void merge_span(std::string_view escaped, std::vector<int32_t>& out) const;

 protected:
  std::string decode_normal(std::string_view text) const override;

 private:
  bool merges_stay_within_words_ = false;
};

}  // namespace locara
