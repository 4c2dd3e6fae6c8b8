#include "model/tensor_streaming.h"

#include <algorithm>

#include "ops/convert_rows.h"

namespace locara {
namespace {

// Floats made per step: big enough to keep every thread busy, small enough that a
// multi-gigabyte tensor never sits in memory (16 MiB of floats).
constexpr int64_t kChunkFloats = int64_t{4} << 20;

// Rows of a tensor: every dim after the first (declare_tensor has checked them).
int64_t rows_of(const std::vector<int64_t>& dims) {
  int64_t n_rows = 1;
  for (size_t i = 1; i < dims.size(); ++i) n_rows *= dims[i];
  return n_rows;
}

}  // namespace

Status write_streamed_model(GgufWriter& writer, std::span<const StreamedTensor> tensors,
                            const std::string& path, ops::ThreadPool& pool,
                            const ProgressFn& on_progress) {
  uint64_t bytes_total = 0;
  for (const StreamedTensor& tensor : tensors) {
    LOCARA_RETURN_IF_ERROR(writer.declare_tensor(tensor.name, tensor.type, tensor.dims));
    const uint64_t n_bytes = *tensor_row_bytes(tensor.type, tensor.dims[0]) *
                             static_cast<uint64_t>(rows_of(tensor.dims));
    const bool made = tensor.make_rows || tensor.make_typed_rows;
    if (!made && tensor.bytes.size() != n_bytes) {
      return make_error(ErrorCode::kInvalidArgument, "{}: tensor '{}' has {} bytes, {} needs {}",
                        path, tensor.name, tensor.bytes.size(), tensor_type_name(tensor.type),
                        n_bytes);
    }
    if (tensor.make_rows && !tensor.make_typed_rows && !ops::can_convert_to(tensor.type)) {
      return make_error(ErrorCode::kUnsupported,
                        "{}: tensor '{}': type {} is not supported yet (no quantization kernel)",
                        path, tensor.name, tensor_type_name(tensor.type));
    }
    bytes_total += n_bytes;
  }

  LOCARA_ASSIGN_OR_RETURN(auto stream, writer.begin_streaming(path));
  std::vector<float> floats;
  std::vector<uint8_t> converted;
  uint64_t bytes_done = 0;
  for (size_t index = 0; index < tensors.size(); ++index) {
    const StreamedTensor& tensor = tensors[index];
    if (!tensor.make_rows && !tensor.make_typed_rows) {
      LOCARA_RETURN_IF_ERROR(stream->write(tensor.bytes));
      bytes_done += tensor.bytes.size();
    } else {
      const int64_t row_length = tensor.dims[0];
      const int64_t n_rows = rows_of(tensor.dims);
      const size_t row_bytes = *tensor_row_bytes(tensor.type, row_length);
      const int64_t rows_per_chunk =
          std::max<int64_t>(1, kChunkFloats / std::max<int64_t>(1, row_length));
      for (int64_t begin = 0; begin < n_rows; begin += rows_per_chunk) {
        const int64_t end = std::min(n_rows, begin + rows_per_chunk);
        const size_t chunk_bytes = row_bytes * static_cast<size_t>(end - begin);
        if (tensor.make_typed_rows) {
          converted.resize(chunk_bytes);
          tensor.make_typed_rows(begin, end, converted.data(), pool);
          LOCARA_RETURN_IF_ERROR(stream->write(converted));
          bytes_done += chunk_bytes;
          continue;
        }
        floats.resize(static_cast<size_t>((end - begin) * row_length));
        tensor.make_rows(begin, end, floats.data(), pool);
        if (tensor.type == TensorType::kF32) {
          LOCARA_RETURN_IF_ERROR(
              stream->write({reinterpret_cast<const uint8_t*>(floats.data()), chunk_bytes}));
        } else {
          converted.resize(chunk_bytes);
          ops::quantize_rows(tensor.type, floats.data(), converted.data(), row_length, end - begin,
                             pool);
          LOCARA_RETURN_IF_ERROR(stream->write(converted));
        }
        bytes_done += chunk_bytes;
      }
    }
    if (on_progress) {
      on_progress({index, tensors.size(), tensor.name, tensor.type, bytes_done, bytes_total});
    }
  }
  return stream->finish();
}

}  // namespace locara
