// How byte-level BPE vocabularies cut text into words before merging: the regex sequence and
// flags behind each tokenizer.ggml.pre value, as llama.cpp applies them.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/regex.h"

namespace locara {

// What a pre-tokenizer name implies beyond its regexes (llama.cpp's per-name settings).
struct PretokenizerFlags {
  bool ignore_merges = false;  // a word that is a token is taken whole, before any merge
  bool clean_spaces = true;    // decode() drops the space before ?!., and some contractions
  bool add_bos = false;        // add BOS when tokenizer.ggml.add_bos_token is absent
};

// The flags of a tokenizer.ggml.pre value ("" means "default"), or nullopt if unknown.
std::optional<PretokenizerFlags> pretokenizer_flags(std::string_view pre);
// Every tokenizer.ggml.pre value Pretokenizer::for_name knows, for messages and tests.
std::vector<std::string_view> known_pretokenizers();

// Immutable after construction; safe to use from many threads at once.
class Pretokenizer {
 public:
  // The pre-tokenizer named by tokenizer.ggml.pre ("" means "default", as in llama.cpp);
  // kUnsupported naming the value when it is not one of known_pretokenizers().
  static Expected<Pretokenizer> for_name(std::string_view pre);
  // Regexes applied in sequence; kInvalidArgument when one does not compile.
  static Expected<Pretokenizer> from_patterns(const std::vector<std::string_view>& patterns);

  // Replaces `words` with the words of `text`, in order, covering it exactly. Each regex in
  // turn cuts every word so far into its matches and the text between them (both kept, as
  // llama.cpp does), seeing only that word.
  void split(std::string_view text, std::vector<TextSpan>& words) const;

 private:
  explicit Pretokenizer(std::vector<Regex> regexes) : regexes_(std::move(regexes)) {}

  std::vector<Regex> regexes_;
};

}  // namespace locara
