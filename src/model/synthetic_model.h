// Deterministic random-weight llama GGUFs of any shape, with a valid SentencePiece
// vocabulary, so tests and benchmarks never need a download.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace locara {

struct SyntheticModelShape {
  int64_t n_embd = 64;
  int64_t n_layer = 2;
  int64_t n_head = 4;
  int64_t n_head_kv = 2;
  int64_t n_ff = 128;
  int64_t n_vocab = 512;  // at least 259: <unk>, <s>, </s> and the 256 byte tokens
  int64_t n_ctx_train = 512;
  uint64_t seed = 1;
};

// Writes an all-F32 llama model of the given shape to path.
Status write_synthetic_llama(const SyntheticModelShape& shape, const std::string& path);

}  // namespace locara
