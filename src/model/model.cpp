#include "model/model.h"

#include "model/architecture_registry.h"
#include "model/llama.h"

namespace locara {

const std::vector<Architecture>& supported_architectures() {
  static const std::vector<Architecture> table = {
      {"llama", &LlamaModel::create},
  };
  return table;
}

Status Model::check_forward_args(std::span<const int32_t> tokens, int64_t start_position,
                                 const KvCache& cache, std::span<float> logits,
                                 bool all_logits) const {
  if (tokens.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "forward: no tokens to process");
  }
  const auto n = static_cast<int64_t>(tokens.size());
  if (start_position < 0 || start_position + n > cache.n_ctx()) {
    return make_error(ErrorCode::kResourceExhausted,
                      "forward: positions {}..{} do not fit the context of {} tokens",
                      start_position, start_position + n - 1, cache.n_ctx());
  }
  if (cache.n_layer() != hparams_.n_layer || cache.kv_dim() != hparams_.kv_dim() ||
      cache.head_dim() != hparams_.head_dim) {
    return make_error(ErrorCode::kInvalidArgument, "forward: KV cache shaped for another model");
  }
  for (int32_t token : tokens) {
    if (token < 0 || token >= hparams_.n_vocab) {
      return make_error(ErrorCode::kOutOfRange, "forward: token id {} outside the vocabulary of {}",
                        token, hparams_.n_vocab);
    }
  }
  const int64_t rows = all_logits ? n : 1;
  if (static_cast<int64_t>(logits.size()) < rows * hparams_.n_vocab) {
    return make_error(ErrorCode::kInvalidArgument,
                      "forward: logits buffer holds {} floats, needs {}", logits.size(),
                      rows * hparams_.n_vocab);
  }
  return ok_status();
}

Expected<std::unique_ptr<Model>> load_model(std::unique_ptr<GgufReader> gguf) {
  auto architecture = gguf->get_string("general.architecture");
  if (!architecture) {
    return make_error(ErrorCode::kNotFound, "{}: metadata 'general.architecture' is missing",
                      gguf->path());
  }
  for (const Architecture& entry : supported_architectures()) {
    if (entry.name == *architecture) return entry.create(std::move(gguf));
  }
  return make_error(ErrorCode::kUnsupported, "{}: architecture '{}' is not supported", gguf->path(),
                    *architecture);
}

Expected<std::unique_ptr<Model>> load_model(const std::string& path) {
  LOCARA_ASSIGN_OR_RETURN(auto gguf, GgufReader::open(path));
  return load_model(std::move(gguf));
}

}  // namespace locara
