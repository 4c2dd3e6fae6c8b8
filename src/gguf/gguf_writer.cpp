#include "gguf/gguf_writer.h"

#include <algorithm>
#include <cstring>

#include "gguf/gguf_format.h"

namespace locara {
namespace {

// Appends little-endian values to a file image. Not thread-safe.
class ByteSink {
 public:
  explicit ByteSink(std::vector<uint8_t>* out) : out_(out) {}

  template <typename T>
  void put(T value) {
    append(&value, sizeof(T));
  }
  void put_string(std::string_view text) {
    put<uint64_t>(text.size());
    append(text.data(), text.size());
  }
  void pad_to(uint64_t alignment) { out_->resize(*gguf_format::align_up(out_->size(), alignment)); }

  // Writes `value` as `type`, converting numbers between representations; a value whose
  // kind does not match (a string where a number belongs) is written as zero or empty.
  void put_value(GgufValueType type, const GgufValue& value) {
    switch (type) {
      case GgufValueType::kUint8:
        return put<uint8_t>(static_cast<uint8_t>(as_u64(value)));
      case GgufValueType::kInt8:
        return put<int8_t>(static_cast<int8_t>(as_i64(value)));
      case GgufValueType::kUint16:
        return put<uint16_t>(static_cast<uint16_t>(as_u64(value)));
      case GgufValueType::kInt16:
        return put<int16_t>(static_cast<int16_t>(as_i64(value)));
      case GgufValueType::kUint32:
        return put<uint32_t>(static_cast<uint32_t>(as_u64(value)));
      case GgufValueType::kInt32:
        return put<int32_t>(static_cast<int32_t>(as_i64(value)));
      case GgufValueType::kUint64:
        return put<uint64_t>(as_u64(value));
      case GgufValueType::kInt64:
        return put<int64_t>(as_i64(value));
      case GgufValueType::kFloat32:
        return put<float>(static_cast<float>(as_f64(value)));
      case GgufValueType::kFloat64:
        return put<double>(as_f64(value));
      case GgufValueType::kBool:
        return put<uint8_t>(value.as_bool().value_or(false) ? 1 : 0);
      case GgufValueType::kString: {
        const std::string* text = value.as_string();
        return put_string(text != nullptr ? std::string_view(*text) : std::string_view());
      }
      case GgufValueType::kArray: {
        const GgufArray* array = value.as_array();
        const GgufArray empty;
        if (array == nullptr) array = &empty;
        put<uint32_t>(static_cast<uint32_t>(array->element_type));
        put<uint64_t>(array->elements.size());
        for (const GgufValue& element : array->elements) put_value(array->element_type, element);
        return;
      }
    }
  }

 private:
  static uint64_t as_u64(const GgufValue& value) {
    if (const auto* number = std::get_if<uint64_t>(&value.data)) return *number;
    if (const auto* number = std::get_if<int64_t>(&value.data))
      return static_cast<uint64_t>(*number);
    if (const auto* number = std::get_if<double>(&value.data))
      return static_cast<uint64_t>(*number);
    return value.as_bool().value_or(false) ? 1 : 0;
  }
  static int64_t as_i64(const GgufValue& value) { return static_cast<int64_t>(as_u64(value)); }
  static double as_f64(const GgufValue& value) {
    if (const auto* number = std::get_if<double>(&value.data)) return *number;
    if (const auto* number = std::get_if<int64_t>(&value.data)) return static_cast<double>(*number);
    return static_cast<double>(as_u64(value));
  }

  // resize + memcpy rather than insert: GCC 12 misreports insert into an empty vector
  // as an overflow (-Wstringop-overflow) once inlined.
  void append(const void* bytes, size_t n) {
    if (n == 0) return;
    const size_t at = out_->size();
    out_->resize(at + n);
    std::memcpy(out_->data() + at, bytes, n);
  }

  std::vector<uint8_t>* out_;
};

template <typename T>
GgufValue make_value(GgufValueType type, T data) {
  GgufValue value;
  value.type = type;
  value.data = std::move(data);
  return value;
}

template <typename T, typename Stored>
GgufValue make_array(GgufValueType element_type, const std::vector<T>& values) {
  auto array = std::make_shared<GgufArray>();
  array->element_type = element_type;
  array->elements.reserve(values.size());
  for (const T& element : values)
    array->elements.push_back(make_value(element_type, Stored(element)));
  return make_value(GgufValueType::kArray, std::move(array));
}

}  // namespace

void GgufWriter::set(std::string key, GgufValue value) {
  // A valid alignment set as metadata also governs the layout, so key and layout agree.
  // An invalid one is written as given (tests use that to make files readers must reject).
  if (key == gguf_format::kAlignmentKey && value.type == GgufValueType::kUint32) {
    const auto alignment = value.as_uint();
    if (alignment && gguf_format::is_power_of_two(*alignment)) alignment_ = *alignment;
  }
  for (auto& [existing_key, existing_value] : metadata_) {
    if (existing_key == key) {
      existing_value = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(std::move(key), std::move(value));
}

void GgufWriter::set_string(std::string key, std::string value) {
  set(std::move(key), make_value(GgufValueType::kString, std::move(value)));
}
void GgufWriter::set_uint32(std::string key, uint32_t value) {
  set(std::move(key), make_value(GgufValueType::kUint32, uint64_t{value}));
}
void GgufWriter::set_int32(std::string key, int32_t value) {
  set(std::move(key), make_value(GgufValueType::kInt32, int64_t{value}));
}
void GgufWriter::set_uint64(std::string key, uint64_t value) {
  set(std::move(key), make_value(GgufValueType::kUint64, value));
}
void GgufWriter::set_float32(std::string key, float value) {
  set(std::move(key), make_value(GgufValueType::kFloat32, double{value}));
}
void GgufWriter::set_bool(std::string key, bool value) {
  set(std::move(key), make_value(GgufValueType::kBool, value));
}
void GgufWriter::set_string_array(std::string key, const std::vector<std::string>& values) {
  set(std::move(key), make_array<std::string, std::string>(GgufValueType::kString, values));
}
void GgufWriter::set_float32_array(std::string key, const std::vector<float>& values) {
  set(std::move(key), make_array<float, double>(GgufValueType::kFloat32, values));
}
void GgufWriter::set_int32_array(std::string key, const std::vector<int32_t>& values) {
  set(std::move(key), make_array<int32_t, int64_t>(GgufValueType::kInt32, values));
}

Expected<uint64_t> GgufWriter::check_new_tensor(const std::string& name, TensorType type,
                                                const std::vector<int64_t>& dims) const {
  for (const PendingTensor& tensor : tensors_) {
    if (tensor.name == name) {
      return make_error(ErrorCode::kInvalidArgument, "tensor '{}' added twice", name);
    }
  }
  if (!tensor_type_info(static_cast<uint32_t>(type))) {
    return make_error(ErrorCode::kInvalidArgument, "tensor '{}': type id {} is not a ggml type",
                      name, static_cast<uint32_t>(type));
  }
  if (dims.empty() || dims.size() > gguf_format::kMaxDims) {
    return make_error(ErrorCode::kInvalidArgument, "tensor '{}': {} dims, expected 1..{}", name,
                      dims.size(), gguf_format::kMaxDims);
  }
  int64_t n_elements = 1;
  for (const int64_t dim : dims) {
    if (dim < 0 || __builtin_mul_overflow(n_elements, dim, &n_elements)) {
      return make_error(ErrorCode::kInvalidArgument, "tensor '{}': bad dim {}", name, dim);
    }
  }
  const auto row_bytes = tensor_row_bytes(type, dims[0]);
  uint64_t expected_bytes = 0;
  if (!row_bytes ||
      (dims[0] != 0 &&
       __builtin_mul_overflow(*row_bytes, uint64_t(n_elements / dims[0]), &expected_bytes))) {
    return make_error(ErrorCode::kInvalidArgument,
                      "tensor '{}': row length {} does not fit {}'s block size {}", name, dims[0],
                      tensor_type_name(type), tensor_type_info(type).block_size);
  }
  return expected_bytes;
}

Status GgufWriter::add_tensor(std::string name, TensorType type, std::vector<int64_t> dims,
                              std::span<const uint8_t> bytes) {
  LOCARA_ASSIGN_OR_RETURN(const uint64_t expected_bytes, check_new_tensor(name, type, dims));
  if (bytes.size() != expected_bytes) {
    int64_t n_elements = 1;
    for (const int64_t dim : dims) n_elements *= dim;
    return make_error(ErrorCode::kInvalidArgument, "tensor '{}': {} bytes given, {} {} needs {}",
                      name, bytes.size(), n_elements, tensor_type_name(type), expected_bytes);
  }
  tensors_.push_back(PendingTensor{
      std::move(name), type, std::move(dims), {bytes.begin(), bytes.end()}, expected_bytes, false});
  return ok_status();
}

Status GgufWriter::declare_tensor(std::string name, TensorType type, std::vector<int64_t> dims) {
  LOCARA_ASSIGN_OR_RETURN(const uint64_t n_bytes, check_new_tensor(name, type, dims));
  tensors_.push_back(PendingTensor{std::move(name), type, std::move(dims), {}, n_bytes, true});
  return ok_status();
}

std::vector<uint8_t> GgufWriter::serialize_header() const {
  std::vector<uint8_t> image;
  ByteSink sink(&image);
  const bool add_alignment_key =
      alignment_ != gguf_format::kDefaultAlignment &&
      std::none_of(metadata_.begin(), metadata_.end(),
                   [](const auto& kv) { return kv.first == gguf_format::kAlignmentKey; });
  sink.put<uint32_t>(0x46554747);  // "GGUF" read as a little-endian uint32
  sink.put<uint32_t>(gguf_format::kVersion);
  sink.put<uint64_t>(tensors_.size());
  sink.put<uint64_t>(metadata_.size() + (add_alignment_key ? 1 : 0));
  if (add_alignment_key) {
    sink.put_string(gguf_format::kAlignmentKey);
    sink.put<uint32_t>(static_cast<uint32_t>(GgufValueType::kUint32));
    sink.put<uint32_t>(static_cast<uint32_t>(alignment_));
  }
  for (const auto& [key, value] : metadata_) {
    sink.put_string(key);
    sink.put<uint32_t>(static_cast<uint32_t>(value.type));
    sink.put_value(value.type, value);
  }
  uint64_t offset = 0;
  for (const PendingTensor& tensor : tensors_) {
    sink.put_string(tensor.name);
    sink.put<uint32_t>(static_cast<uint32_t>(tensor.dims.size()));
    for (const int64_t dim : tensor.dims) sink.put<uint64_t>(static_cast<uint64_t>(dim));
    sink.put<uint32_t>(static_cast<uint32_t>(tensor.type));
    sink.put<uint64_t>(offset);
    offset = *gguf_format::align_up(offset + tensor.n_bytes, alignment_);
  }
  sink.pad_to(alignment_);
  return image;
}

std::vector<uint8_t> GgufWriter::serialize() const {
  if (!gguf_format::is_power_of_two(alignment_)) return {};
  std::vector<uint8_t> image = serialize_header();
  const size_t data_offset = image.size();
  for (const PendingTensor& tensor : tensors_) {
    if (tensor.declared) {
      image.resize(image.size() + tensor.n_bytes);
    } else {
      image.insert(image.end(), tensor.bytes.begin(), tensor.bytes.end());
    }
    // Pad relative to the data section, which itself starts aligned.
    image.resize(data_offset + *gguf_format::align_up(image.size() - data_offset, alignment_));
  }
  return image;
}

Expected<std::unique_ptr<GgufTensorStream>> GgufWriter::begin_streaming(
    const std::string& path) const {
  if (!gguf_format::is_power_of_two(alignment_)) {
    return make_error(ErrorCode::kInvalidArgument, "{}: alignment {} is not a nonzero power of two",
                      path, alignment_);
  }
  std::vector<GgufTensorStream::Slot> slots;
  slots.reserve(tensors_.size());
  for (const PendingTensor& tensor : tensors_) {
    slots.push_back({tensor.name, tensor.n_bytes, tensor.declared ? nullptr : tensor.bytes.data()});
  }
  return GgufTensorStream::open(path, serialize_header(), std::move(slots), alignment_);
}

Status GgufWriter::write(const std::string& path) const {
  for (const PendingTensor& tensor : tensors_) {
    if (tensor.declared) {
      return make_error(ErrorCode::kInvalidArgument,
                        "{}: tensor '{}' was declared for streaming; write it through "
                        "begin_streaming()",
                        path, tensor.name);
    }
  }
  // Tensors go straight from their buffers to the file: no second copy of the weights.
  LOCARA_ASSIGN_OR_RETURN(auto stream, begin_streaming(path));
  return stream->finish();
}

}  // namespace locara
