// Tokenizer::from_gguf: picks the tokenizer family a GGUF file names.
#include "gguf/gguf_reader.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace locara {

Expected<std::unique_ptr<Tokenizer>> Tokenizer::from_gguf(const GgufReader& gguf) {
  constexpr std::string_view kModelKey = "tokenizer.ggml.model";
  if (gguf.find(kModelKey) == nullptr) {
    return make_error(ErrorCode::kNotFound, "{}: no tokenizer ({} is missing)", gguf.path(),
                      kModelKey);
  }
  LOCARA_ASSIGN_OR_RETURN(const std::string model, gguf.get_string(kModelKey));
  if (model != "llama") {
    return make_error(ErrorCode::kUnsupported,
                      "{}: {} = '{}' is not supported (supported: 'llama', SentencePiece)",
                      gguf.path(), kModelKey, model);
  }
  LOCARA_ASSIGN_OR_RETURN(Vocab vocab, Vocab::from_gguf(gguf));
  return std::unique_ptr<Tokenizer>(std::make_unique<SpmTokenizer>(std::move(vocab)));
}

}  // namespace locara
