// Binding named GGUF tensors to the matrices and vectors a forward pass reads,
// checking each one's type and shape against the hyperparameters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "gguf/gguf_reader.h"
#include "ops/matmul.h"

namespace locara {

// Looks up tensors of one file by name and checks their shapes. Not thread-safe.
class TensorBinder {
 public:
  explicit TensorBinder(const GgufReader& gguf) : gguf_(gguf) {}

  // A 2-D weight of n_rows rows of row_length elements (ggml dims {row_length, n_rows}).
  Expected<ops::WeightMatrix> matrix(const std::string& name, int64_t row_length,
                                     int64_t n_rows) const;
  // A 1-D F32 vector of n elements (norm weights stay F32 in every GGUF converter).
  Expected<const float*> f32_vector(const std::string& name, int64_t n) const;
  bool has(const std::string& name) const { return gguf_.find_tensor(name) != nullptr; }

 private:
  Expected<const GgufTensor*> find(const std::string& name) const;
  const GgufReader& gguf_;
};

}  // namespace locara
