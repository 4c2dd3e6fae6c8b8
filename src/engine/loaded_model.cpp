#include "engine/loaded_model.h"

#include <chrono>

namespace locara {

Expected<std::shared_ptr<const LoadedModel>> LoadedModel::load(const std::string& path) {
  const auto start = std::chrono::steady_clock::now();
  LOCARA_ASSIGN_OR_RETURN(auto gguf, GgufReader::open(path));
  // The tokenizer reads its vocabulary before the model takes ownership of the file.
  LOCARA_ASSIGN_OR_RETURN(auto tokenizer, Tokenizer::from_gguf(*gguf));
  LOCARA_ASSIGN_OR_RETURN(auto model, load_model(std::move(gguf)));
  if (tokenizer->n_vocab() != model->hparams().n_vocab) {
    return make_error(ErrorCode::kCorruptFile,
                      "{}: the tokenizer has {} tokens but token_embd has {} rows", path,
                      tokenizer->n_vocab(), model->hparams().n_vocab);
  }
  auto loaded = std::make_shared<LoadedModel>();
  loaded->model = std::move(model);
  loaded->tokenizer = std::move(tokenizer);
  loaded->load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::shared_ptr<const LoadedModel>(std::move(loaded));
}

}  // namespace locara
