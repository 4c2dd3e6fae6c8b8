// Tokenizer::from_gguf: picks the tokenizer family a GGUF file names.
#include "gguf/gguf_reader.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/gguf_strings.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/wpm_tokenizer.h"

namespace locara {
namespace {

template <typename T>
std::unique_ptr<Tokenizer> as_tokenizer(std::unique_ptr<T> tokenizer) {
  return std::unique_ptr<Tokenizer>(std::move(tokenizer));
}

}  // namespace

Expected<std::unique_ptr<Tokenizer>> Tokenizer::from_gguf(const GgufReader& gguf,
                                                          const TokenizerOptions& options) {
  constexpr std::string_view kModelKey = "tokenizer.ggml.model";
  if (gguf.find(kModelKey) == nullptr) {
    return make_error(ErrorCode::kNotFound, "{}: no tokenizer ({} is missing)", gguf.path(),
                      kModelKey);
  }
  LOCARA_ASSIGN_OR_RETURN(const std::string model, gguf.get_string(kModelKey));
  if (model != "llama" && model != "gpt2" && model != "bert") {
    return make_error(ErrorCode::kUnsupported,
                      "{}: {} = '{}' is not supported (supported: 'llama' SentencePiece, 'gpt2' "
                      "byte-level BPE, 'bert' WordPiece)",
                      gguf.path(), kModelKey, model);
  }
  LOCARA_ASSIGN_OR_RETURN(Vocab vocab, Vocab::from_gguf(gguf));
  if (model == "llama") {
    return as_tokenizer(
        std::make_unique<SpmTokenizer>(std::move(vocab), options.word_cache_capacity));
  }
  if (model == "bert") {
    LOCARA_ASSIGN_OR_RETURN(auto wpm, WpmTokenizer::create(std::move(vocab)));
    return as_tokenizer(std::move(wpm));
  }
  // Views into the reader's copy: BpeTokenizer::create keeps none of them.
  LOCARA_ASSIGN_OR_RETURN(
      const std::vector<std::string_view> merges,
      read_gguf_strings(gguf, "tokenizer.ggml.merges", "byte-level BPE vocabulary without merges"));
  auto bpe = BpeTokenizer::create(std::move(vocab), merges, options.word_cache_capacity);
  if (!bpe) return Error{bpe.error().code, gguf.path() + ": " + bpe.error().message};
  return as_tokenizer(std::move(*bpe));
}

}  // namespace locara
