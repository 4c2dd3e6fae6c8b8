// Deterministic random-weight llama GGUFs of any shape and file type, with a valid
// SentencePiece vocabulary, so tests and benchmarks never need a download. Tensors are
// streamed to disk, so a billion-parameter model never sits in memory.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "model/quant_mixture.h"
#include "model/tensor_streaming.h"

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

struct SyntheticModelOptions {
  // Tensor types as `locara quantize` (llama.cpp's quantizer) would give an F32 model of
  // this shape, so synthetic and quantized benchmark models agree.
  FileType file_type = FileType::kAllF32;
  bool pure = false;  // every weight in the file type's default type
  int n_threads = 1;
  ProgressFn on_progress;
};

// Writes an all-F32 llama model of the given shape to path.
Status write_synthetic_llama(const SyntheticModelShape& shape, const std::string& path);
// Writes one of any file type whose tensor types have kernels. The same shape and seed
// give the same bytes (independent of n_threads and of the CPU). Tensors of block types
// larger than 4M elements are assembled from a pool of quantized random blocks (so a
// 1B-parameter k-quant model takes seconds, not minutes); smaller ones are quantized
// element for element, exactly as `locara quantize` would quantize the F32 model.
Status write_synthetic_llama(const SyntheticModelShape& shape, const SyntheticModelOptions& options,
                             const std::string& path);

}  // namespace locara
