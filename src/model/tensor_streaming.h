// Writing a model file tensor by tensor without holding it: each tensor's rows are made as
// floats a chunk at a time, converted to the tensor's type on a thread pool and streamed
// to disk. Shared by the synthetic-model writer and the quantizer.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gguf/gguf_writer.h"
#include "ops/thread_pool.h"

namespace locara {

// Where a tensor's bytes come from: copied as they are, made as float rows (converted
// here), or made as rows already in `type`.
struct StreamedTensor {
  std::string name;
  std::vector<int64_t> dims;  // dims[0] = row length
  TensorType type = TensorType::kF32;
  // The bytes in `type` already; used when neither function is set.
  std::span<const uint8_t> bytes;
  // Writes rows [row_begin, row_end) as floats to out (may use the pool).
  std::function<void(int64_t row_begin, int64_t row_end, float* out, ops::ThreadPool& pool)>
      make_rows;
  // Writes rows [row_begin, row_end) in `type` to out (row bytes apart); wins over make_rows.
  std::function<void(int64_t row_begin, int64_t row_end, uint8_t* out, ops::ThreadPool& pool)>
      make_typed_rows;
};

struct TensorProgress {
  size_t tensor_index = 0;  // of the tensor just finished
  size_t n_tensors = 0;
  std::string_view name;
  TensorType type = TensorType::kF32;
  uint64_t bytes_done = 0;  // of the data section
  uint64_t bytes_total = 0;
};
using ProgressFn = std::function<void(const TensorProgress&)>;

// Declares every tensor on `writer` (whose metadata is set), then streams them to path
// (atomically: a temporary file renamed into place at the end). A tensor whose type has
// no from_float in the kernel table is an error before anything is written.
Status write_streamed_model(GgufWriter& writer, std::span<const StreamedTensor> tensors,
                            const std::string& path, ops::ThreadPool& pool,
                            const ProgressFn& on_progress = {});

}  // namespace locara
