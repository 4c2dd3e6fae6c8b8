// Text <-> token ids for a model: the family-independent interface, and the factory that picks
// the family from tokenizer.ggml.model. Ids and text match llama.cpp's for the same file.
// Families: SentencePiece (spm_tokenizer.h), byte-level BPE (bpe_tokenizer.h), WordPiece
// (wpm_tokenizer.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/token_cache.h"
#include "tokenizer/vocab.h"

namespace locara {

class GgufReader;

struct TokenizerOptions {
  // Words whose ids the word cache keeps (token_cache.h); 0 turns the cache off.
  // About 100 bytes a word: the default holds at most ~6 MiB.
  size_t word_cache_capacity = 65536;
};

// Immutable after construction (the word cache aside, which is internally synchronized);
// all methods are const and safe to call concurrently.
class Tokenizer {
 public:
  // Reads the vocabulary and picks the family from tokenizer.ggml.model: "llama"
  // (SentencePiece), "gpt2" (byte-level BPE, with tokenizer.ggml.merges and .pre) or "bert"
  // (WordPiece). Any other family, or a .pre value we do not know, is kUnsupported, naming it.
  static Expected<std::unique_ptr<Tokenizer>> from_gguf(const GgufReader& gguf,
                                                        const TokenizerOptions& options = {});

  virtual ~Tokenizer() = default;
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // add_special: add BOS / EOS as the vocabulary's add_bos / add_eos say.
  // parse_special: texts of control and unknown tokens in `text` become those tokens
  // (user-defined tokens always do); otherwise they are tokenized as plain text.
  // Never fails: bytes the vocabulary cannot spell become byte tokens, or unk.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_special,
                                      bool parse_special) const = 0;

  // The text of one token as it appears in output. Control and unknown tokens give "" unless
  // render_special; user-defined tokens give their text; byte tokens their byte; normal
  // tokens the text their family spells (decode_normal); ids outside the vocabulary, unused
  // and undefined tokens give "".
  std::string token_to_piece(int32_t id, bool render_special = false) const;

  // llama.cpp's detokenize: the pieces concatenated. When the vocabulary adds a space prefix,
  // the first piece loses one leading space, unless the first token is BOS: after BOS the
  // space stays, also when remove_special drops the BOS (as in llama.cpp). remove_special
  // drops a leading BOS / trailing EOS only when the vocabulary adds them. Where the family
  // cleans up spaces (clean_spaces()), the result then goes through clean_up_spaces.
  std::string decode(const std::vector<int32_t>& ids, bool remove_special = false,
                     bool render_special = false) const;

  // Whether decode() removes the spaces that tokenizing put before punctuation (Hugging
  // Face's clean_up_tokenization_spaces), as llama.cpp does for this family and .pre value.
  bool clean_spaces() const { return clean_spaces_; }
  // The cache of word -> ids that the families splitting text into words use (BPE, and
  // SentencePiece where no token spans a word start); empty for WordPiece.
  const TokenCache& word_cache() const { return word_cache_; }
  // Bytes held by caches that grow with use (the word cache), for memory accounting.
  size_t cache_bytes() const { return word_cache_.memory_bytes(); }

  int32_t bos() const { return vocab_.bos(); }
  int32_t eos() const { return vocab_.eos(); }
  int32_t n_vocab() const { return vocab_.n_tokens(); }
  // EOS, EOT, EOM, and tokens llama.cpp knows by text to end a turn (Phi-3's <|end|>):
  // generation should stop after sampling one of them.
  bool is_end_of_generation(int32_t id) const { return vocab_.is_end_of_generation(id); }
  const Vocab& vocab() const { return vocab_; }

 protected:
  explicit Tokenizer(Vocab vocab, bool clean_spaces = false, size_t word_cache_capacity = 0)
      : vocab_(std::move(vocab)), clean_spaces_(clean_spaces), word_cache_(word_cache_capacity) {}

  // The output text of a normal token, from its vocabulary text.
  virtual std::string decode_normal(std::string_view text) const = 0;

  // Appends the ids of `word`: from the word cache, or from encode_uncached(word, out), which
  // are then cached. Only for words whose ids do not depend on the text around them.
  template <typename EncodeUncached>
  void encode_cached(std::string_view word, std::vector<int32_t>& out,
                     EncodeUncached&& encode_uncached) const {
    if (word_cache_.lookup(word, out)) return;
    const size_t first = out.size();
    encode_uncached(word, out);
    word_cache_.insert(word, std::span<const int32_t>(out.data() + first, out.size() - first));
  }

  Vocab vocab_;
  bool clean_spaces_;
  TokenCache word_cache_;
};

// llama.cpp's clean-up of detokenized text: drops the space before ? ! . and , the spaces
// around a lone apostrophe (" ' "), and the space before 's 'm 're 've.
std::string clean_up_spaces(std::string_view text);

}  // namespace locara
