// The byte-level BPE tokenizer (tokenizer.ggml.model = "gpt2": Llama 3, Qwen2, GPT-2, Falcon,
// MPT, StarCoder, DeepSeek, ...) as llama.cpp applies it: special tokens first, then the
// pre-tokenizer's words, each spelled in GPT-2's byte alphabet and merged by rank.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace locara {

// Where this differs from llama.cpp, on purpose: text that is not valid UTF-8 is kept byte for
// byte (llama.cpp first turns each bad byte into U+FFFD), so decoding gives it back; and the
// Tekken and GPT-4o pre-tokenizers use the models' own Unicode case classes where llama.cpp
// approximates them with ASCII ones. Ids are the same on all valid text otherwise.
//
// Immutable after construction (the word cache is internally synchronized); safe to use
// from many threads at once.
class BpeTokenizer final : public Tokenizer {
 public:
  // `merges` is tokenizer.ggml.merges: "left right" pairs in byte-level spelling, highest
  // priority first. A merge whose halves or result are not tokens can never apply to token
  // ids and is skipped (no published vocabulary has one). The pre-tokenizer comes from the
  // vocabulary's tokenizer.ggml.pre; an unknown one is kUnsupported.
  static Expected<std::unique_ptr<BpeTokenizer>> create(Vocab vocab,
                                                        const std::vector<std::string_view>& merges,
                                                        size_t word_cache_capacity);

  std::vector<int32_t> encode(std::string_view text, bool add_special,
                              bool parse_special) const override;

  // The ids of one pre-tokenized word (raw bytes), appended to `out`: from the word cache,
  // or merged (and then cached). With ignore_merges, a word that is a token is that token.
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;
  // The same without the cache: the merge loop, O(n log n) in the word's length.
  void merge_word(std::string_view word, std::vector<int32_t>& out) const;

  int32_t n_merges() const { return static_cast<int32_t>(merges_.size()); }

 protected:
  std::string decode_normal(std::string_view text) const override;

 private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };

  BpeTokenizer(Vocab vocab, Pretokenizer pretokenizer, PretokenizerFlags flags,
               size_t word_cache_capacity);
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  // A byte whose byte-level character is not a token: llama.cpp then looks up the
  // character's UTF-8 bytes one by one as one-byte tokens.
  void append_unmatched_byte(uint8_t byte, std::vector<int32_t>& out) const;

  Pretokenizer pretokenizer_;
  PretokenizerFlags flags_;
  std::unordered_map<uint64_t, Merge> merges_;  // (left id, right id) -> rank and result
  std::array<int32_t, 256> byte_tokens_{};      // the token of each byte's character
};

}  // namespace locara
