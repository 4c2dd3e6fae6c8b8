// Text <-> token ids for a model: the family-independent interface, and the factory that picks
// the family from tokenizer.ggml.model. Ids and text match llama.cpp's for the same file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/vocab.h"

namespace locara {

class GgufReader;

// Immutable after construction; all methods are const and safe to call concurrently.
class Tokenizer {
 public:
  // Reads the vocabulary and picks the family from tokenizer.ggml.model: "llama"
  // (SentencePiece) for now; any other name is kUnsupported, naming it.
  static Expected<std::unique_ptr<Tokenizer>> from_gguf(const GgufReader& gguf);

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
  // render_special; ids outside the vocabulary give "".
  virtual std::string token_to_piece(int32_t id, bool render_special = false) const = 0;

  // llama.cpp's detokenize: the pieces concatenated. When the vocabulary adds a space prefix,
  // the first piece loses one leading space, unless the first token is BOS: after BOS the
  // space stays, also when remove_special drops the BOS (as in llama.cpp). remove_special
  // drops a leading BOS / trailing EOS only when the vocabulary adds them.
  virtual std::string decode(const std::vector<int32_t>& ids, bool remove_special = false,
                             bool render_special = false) const;

  int32_t bos() const { return vocab_.bos(); }
  int32_t eos() const { return vocab_.eos(); }
  int32_t n_vocab() const { return vocab_.n_tokens(); }
  // EOS, EOT, EOM, and tokens llama.cpp knows by text to end a turn (Phi-3's <|end|>):
  // generation should stop after sampling one of them.
  bool is_end_of_generation(int32_t id) const { return vocab_.is_end_of_generation(id); }
  const Vocab& vocab() const { return vocab_; }

 protected:
  explicit Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {}

  Vocab vocab_;
};

}  // namespace locara
