#include <limits>

#include "gguf/gguf_format.h"
#include "gguf/gguf_reader.h"

namespace locara {

std::string_view gguf_value_type_name(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
      return "uint8";
    case GgufValueType::kInt8:
      return "int8";
    case GgufValueType::kUint16:
      return "uint16";
    case GgufValueType::kInt16:
      return "int16";
    case GgufValueType::kUint32:
      return "uint32";
    case GgufValueType::kInt32:
      return "int32";
    case GgufValueType::kFloat32:
      return "float32";
    case GgufValueType::kBool:
      return "bool";
    case GgufValueType::kString:
      return "string";
    case GgufValueType::kArray:
      return "array";
    case GgufValueType::kUint64:
      return "uint64";
    case GgufValueType::kInt64:
      return "int64";
    case GgufValueType::kFloat64:
      return "float64";
  }
  return "unknown";
}

std::optional<int64_t> GgufValue::as_int() const {
  if (const auto* value = std::get_if<int64_t>(&data)) return *value;
  if (const auto* value = std::get_if<uint64_t>(&data)) {
    if (*value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return static_cast<int64_t>(*value);
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> GgufValue::as_uint() const {
  if (const auto* value = std::get_if<uint64_t>(&data)) return *value;
  if (const auto* value = std::get_if<int64_t>(&data)) {
    if (*value >= 0) return static_cast<uint64_t>(*value);
  }
  return std::nullopt;
}

std::optional<double> GgufValue::as_float() const {
  if (const auto* value = std::get_if<double>(&data)) return *value;
  if (const auto* value = std::get_if<int64_t>(&data)) return static_cast<double>(*value);
  if (const auto* value = std::get_if<uint64_t>(&data)) return static_cast<double>(*value);
  return std::nullopt;
}

std::optional<bool> GgufValue::as_bool() const {
  if (const auto* value = std::get_if<bool>(&data)) return *value;
  return std::nullopt;
}

const std::string* GgufValue::as_string() const {
  return std::get_if<std::string>(&data);
}

const GgufArray* GgufValue::as_array() const {
  const auto* array = std::get_if<std::shared_ptr<GgufArray>>(&data);
  return array != nullptr ? array->get() : nullptr;
}

int64_t GgufTensor::n_elements() const {
  // The reader has checked that this product does not overflow.
  int64_t count = 1;
  for (const int64_t dim : dims) count *= dim;
  return dims.empty() ? 0 : count;
}

namespace gguf_format {

size_t min_value_bytes(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool:
      return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
      return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32:
      return 4;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64:
    case GgufValueType::kString:
      return 8;
    case GgufValueType::kArray:
      return 12;
  }
  return 1;
}

}  // namespace gguf_format
}  // namespace locara
