// Converting a GGUF model to another file type (`locara quantize`): every tensor gets the
// type llama.cpp's quantizer would give it, metadata is copied, and the result is
// streamed to disk and renamed into place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/quant_mixture.h"
#include "model/tensor_streaming.h"

namespace locara {

struct QuantizeOptions {
  FileType file_type = FileType::kQ8_0;
  bool pure = false;              // every weight in the file type's default type
  bool allow_requantize = false;  // accept already-quantized weights (quality suffers)
  int n_threads = 1;
  ProgressFn on_progress;
};

// What happened to one tensor.
struct QuantizedTensor {
  std::string name;
  TensorType from = TensorType::kF32;
  TensorType to = TensorType::kF32;
  bool fell_back = false;
  uint64_t bytes_before = 0;
  uint64_t bytes_after = 0;
};

struct QuantizeReport {
  std::vector<QuantizedTensor> tensors;
  uint64_t bytes_before = 0;
  uint64_t bytes_after = 0;
  int n_fallbacks = 0;
};

// The plan alone (which tensor becomes which type), without writing anything.
Expected<QuantizeReport> plan_quantization(const GgufReader& input, const QuantizeOptions& options);

// Reads input_path, writes output_path (never the same file). Errors name the file and
// tensor: a type whose kernels do not exist yet is kUnsupported.
Expected<QuantizeReport> quantize_model(const std::string& input_path,
                                        const std::string& output_path,
                                        const QuantizeOptions& options);

}  // namespace locara
