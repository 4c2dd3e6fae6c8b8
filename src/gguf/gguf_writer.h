// GGUF v3 writer: metadata and tensors in, a valid file out (tests and tools use it).
// Writes to a temporary file and renames, so a crash never leaves half a file. Tensors
// are either handed over whole or declared and streamed (files larger than memory).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "gguf/gguf_reader.h"
#include "gguf/gguf_tensor_stream.h"

namespace locara {

// Not thread-safe.
class GgufWriter {
 public:
  // alignment must be a nonzero power of two: write() reports kInvalidArgument otherwise
  // and serialize() returns an empty image. A non-default alignment is written as
  // general.alignment unless that key was set.
  explicit GgufWriter(uint64_t alignment = 32) : alignment_(alignment) {}

  // Sets or replaces a key (file order is first-set order). Array elements must have the
  // array's element type. Setting general.alignment to a valid uint32 also changes the
  // layout's alignment; an invalid value is written as given, and the layout keeps its own.
  void set(std::string key, GgufValue value);
  void set_string(std::string key, std::string value);
  void set_uint32(std::string key, uint32_t value);
  void set_int32(std::string key, int32_t value);
  void set_uint64(std::string key, uint64_t value);
  void set_float32(std::string key, float value);
  void set_bool(std::string key, bool value);
  void set_string_array(std::string key, const std::vector<std::string>& values);
  void set_float32_array(std::string key, const std::vector<float>& values);
  void set_int32_array(std::string key, const std::vector<int32_t>& values);

  // dims as in GgufTensor (dims[0] = row length). The bytes are copied.
  Status add_tensor(std::string name, TensorType type, std::vector<int64_t> dims,
                    std::span<const uint8_t> bytes);
  // A tensor whose bytes are not held here: the header needs only its type and shape, and
  // the bytes go through the stream begin_streaming() returns, in tensor order.
  Status declare_tensor(std::string name, TensorType type, std::vector<int64_t> dims);

  // The complete file image (declared tensors' bytes read as zeros).
  std::vector<uint8_t> serialize() const;
  // Writes path + ".tmp", fsyncs it and renames it over path; the tensors are streamed
  // from their buffers, so the image is never held twice. Fails if a tensor is declared.
  Status write(const std::string& path) const;
  // Streaming mode: writes everything before the data section to path + ".tmp" and
  // returns the stream that takes the declared tensors' bytes (tensors added with their
  // bytes are written by the stream in their turn). The writer must outlive the stream
  // and stay unchanged while it is open.
  Expected<std::unique_ptr<GgufTensorStream>> begin_streaming(const std::string& path) const;

 private:
  // Header, metadata, tensor infos and padding: everything before the data section.
  std::vector<uint8_t> serialize_header() const;
  // Validates a new tensor's name, type and dims; returns its size in bytes.
  Expected<uint64_t> check_new_tensor(const std::string& name, TensorType type,
                                      const std::vector<int64_t>& dims) const;

  struct PendingTensor {
    std::string name;
    TensorType type;
    std::vector<int64_t> dims;
    std::vector<uint8_t> bytes;  // empty when declared
    uint64_t n_bytes = 0;
    bool declared = false;
  };
  uint64_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace locara
