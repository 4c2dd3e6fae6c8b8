// Hyperparameters of a transformer, read from GGUF metadata under the architecture's
// prefix ("llama.embedding_length", ...). Missing required keys are errors naming the key.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "gguf/gguf_reader.h"

namespace locara {

struct ModelHParams {
  std::string architecture;  // general.architecture
  std::string name;          // general.name, if any
  int64_t n_vocab = 0;       // rows of token_embd
  int64_t n_ctx_train = 0;   // context the model was trained for
  int64_t n_embd = 0;        // hidden size
  int64_t n_layer = 0;
  int64_t n_head = 0;     // query heads
  int64_t n_head_kv = 0;  // key/value heads (GQA: n_head is a multiple)
  int64_t head_dim = 0;   // values per head (key_length), usually n_embd / n_head
  int64_t n_ff = 0;       // feed-forward width
  int64_t n_rot = 0;      // rotated values per head
  float rms_norm_eps = 1e-5f;
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // 1 / linear scaling factor

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
};

// Reads the hyperparameters shared by decoder-only transformers of `architecture`.
Expected<ModelHParams> read_transformer_hparams(const GgufReader& gguf,
                                                const std::string& architecture);

}  // namespace locara
