// GGUF v2/v3 reader: validates a whole file up front, then exposes its metadata and
// its tensors as zero-copy views into a read-only mapping. Immutable after open.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"
#include "gguf/tensor_type.h"
#include "platform/mapped_file.h"

namespace locara {

// GGUF metadata value types, numbered as in the file format.
enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
std::string_view gguf_value_type_name(GgufValueType type);

struct GgufValue;
// An array keeps its element type (also when empty) and its elements.
struct GgufArray {
  GgufValueType element_type = GgufValueType::kUint8;
  std::vector<GgufValue> elements;
};

// One metadata value of any GGUF type, nested arrays included.
struct GgufValue {
  GgufValueType type = GgufValueType::kUint8;
  std::variant<uint64_t, int64_t, double, bool, std::string, std::shared_ptr<GgufArray>> data;
  // Accessors; they convert between integer widths when the value fits.
  std::optional<int64_t> as_int() const;
  std::optional<uint64_t> as_uint() const;
  std::optional<double> as_float() const;  // any numeric type
  std::optional<bool> as_bool() const;
  const std::string* as_string() const;  // nullptr unless a string
  const GgufArray* as_array() const;     // nullptr unless an array
};

// A tensor as the file describes it. dims[0] is the fastest-varying (row length),
// as in ggml: a weight matrix [n_out, n_in] has dims {n_in, n_out}.
struct GgufTensor {
  std::string name;
  TensorType type = TensorType::kF32;
  std::vector<int64_t> dims;      // 1..4 entries, each >= 1 (0 allowed only for empty tensors)
  uint64_t offset = 0;            // relative to the start of the data section
  const uint8_t* data = nullptr;  // points into the mapping
  size_t n_bytes = 0;
  int64_t n_elements() const;
  int64_t row_length() const { return dims.empty() ? 0 : dims[0]; }
  int64_t n_rows() const { return n_elements() / (row_length() ? row_length() : 1); }
};

// Thread-safe for concurrent reads (immutable after open).
class GgufReader {
 public:
  // Maps and validates the file; every failure names the field and byte offset.
  static Expected<std::unique_ptr<GgufReader>> open(const std::string& path);
  // Same validation over an existing mapping (tests build files in memory via the writer).
  static Expected<std::unique_ptr<GgufReader>> from_mapping(MappedFile file);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // file offset of the data section
  const MappedFile& file() const { return file_; }
  const std::string& path() const { return file_.path(); }

  // Metadata in file order, and by key.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* find(std::string_view key) const;
  // Typed getters: NotFound if missing, InvalidArgument (naming key and type) if mistyped.
  Expected<std::string> get_string(std::string_view key) const;
  Expected<int64_t> get_int(std::string_view key) const;
  Expected<double> get_float(std::string_view key) const;
  Expected<bool> get_bool(std::string_view key) const;
  const GgufArray* get_array(std::string_view key) const;  // nullptr if missing or not an array

  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  const GgufTensor* find_tensor(std::string_view name) const;
  // Sum of all tensors' bytes: what the weights cost once mapped.
  uint64_t total_tensor_bytes() const;

 private:
  GgufReader() = default;
  Status parse();

  MappedFile file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::map<std::string, size_t, std::less<>> metadata_index_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

}  // namespace locara
