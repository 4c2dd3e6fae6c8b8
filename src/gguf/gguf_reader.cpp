#include "gguf/gguf_reader.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <type_traits>

#include "gguf/gguf_format.h"

namespace locara {

using gguf_format::corrupt_at;
using gguf_format::Cursor;

namespace {

// Where a tensor's data offset field sits, kept while parsing for error messages.
using OffsetPositions = std::vector<size_t>;

Error with_path(const std::string& path, Error error) {
  error.message = fmt::format("{}: {}", path, error.message);
  return error;
}

// A field's name for messages: a literal, or a callable that formats it, called only on
// error so that well-formed files parse without formatting a string per field.
template <typename Field>
std::string field_name(const Field& field) {
  if constexpr (std::is_invocable_v<Field>) {
    return field();
  } else {
    return std::string(field);
  }
}

template <typename T, typename Field>
Status read_field(Cursor& cursor, const Field& field, T* out) {
  if (!cursor.read(out)) return cursor.truncated(field_name(field), sizeof(T));
  return ok_status();
}

// Reads one string (uint64 length + bytes) as a view into the file.
template <typename Field>
Status read_string(Cursor& cursor, const Field& field, std::string_view* out) {
  const size_t position = cursor.position();
  uint64_t length = 0;
  if (!cursor.read(&length)) return cursor.truncated(field_name(field) + " length", 8);
  if (!cursor.read_bytes(length, out)) {
    return corrupt_at(position,
                      "{}: string length {} runs past the end of the file ({} bytes left)",
                      field_name(field), length, cursor.remaining());
  }
  return ok_status();
}

Status check_header(Cursor& cursor, uint32_t* version, uint64_t* n_tensors, uint64_t* n_kv) {
  std::string_view magic;
  if (!cursor.read_bytes(4, &magic)) return cursor.truncated("magic", 4);
  if (std::memcmp(magic.data(), gguf_format::kMagic, 4) != 0) {
    return corrupt_at(0, "bad magic {:02x} {:02x} {:02x} {:02x} (expected \"GGUF\")",
                      static_cast<uint8_t>(magic[0]), static_cast<uint8_t>(magic[1]),
                      static_cast<uint8_t>(magic[2]), static_cast<uint8_t>(magic[3]));
  }
  LOCARA_RETURN_IF_ERROR(read_field(cursor, "version", version));
  if (*version != 2 && *version != 3) {
    const bool byte_swapped = *version == 0x02000000 || *version == 0x03000000;
    return make_error(ErrorCode::kUnsupported,
                      "GGUF version {} is not supported (only 2 and 3){} at byte 0x4", *version,
                      byte_swapped ? "; the file looks big-endian" : "");
  }
  LOCARA_RETURN_IF_ERROR(read_field(cursor, "tensor count", n_tensors));
  LOCARA_RETURN_IF_ERROR(read_field(cursor, "key/value count", n_kv));

  // Reject counts the rest of the file could not hold before anything is allocated.
  const uint64_t left = cursor.remaining();
  if (*n_tensors > left / gguf_format::kMinTensorInfoBytes) {
    return corrupt_at(
        8, "tensor count {} is absurd: a tensor info takes at least {} bytes and {} remain",
        *n_tensors, gguf_format::kMinTensorInfoBytes, left);
  }
  if (*n_kv > left / gguf_format::kMinKeyValueBytes) {
    return corrupt_at(16,
                      "key/value count {} is absurd: a pair takes at least {} bytes and {} remain",
                      *n_kv, gguf_format::kMinKeyValueBytes, left);
  }
  if (*n_tensors * gguf_format::kMinTensorInfoBytes + *n_kv * gguf_format::kMinKeyValueBytes >
      left) {
    return corrupt_at(16, "key/value count {} and tensor count {} need more than the {} bytes left",
                      *n_kv, *n_tensors, left);
  }
  return ok_status();
}

// n_dims, dims and type of one tensor info; fills dims, type and n_bytes.
Status parse_tensor_shape(Cursor& cursor, GgufTensor* tensor) {
  const std::string& name = tensor->name;
  const size_t n_dims_position = cursor.position();
  uint32_t n_dims = 0;
  LOCARA_RETURN_IF_ERROR(read_field(
      cursor, [&] { return fmt::format("tensor '{}' n_dims", name); }, &n_dims));
  if (n_dims < 1 || n_dims > gguf_format::kMaxDims) {
    return corrupt_at(n_dims_position, "tensor '{}': n_dims {} is not in 1..{}", name, n_dims,
                      gguf_format::kMaxDims);
  }
  const size_t row_position = cursor.position();
  int64_t n_elements = 1;
  tensor->dims.resize(n_dims);
  for (uint32_t d = 0; d < n_dims; ++d) {
    const size_t position = cursor.position();
    uint64_t dim = 0;
    LOCARA_RETURN_IF_ERROR(read_field(
        cursor, [&] { return fmt::format("tensor '{}' dim {}", name, d); }, &dim));
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return corrupt_at(position, "tensor '{}': dim {} is negative ({})", name, d,
                        static_cast<int64_t>(dim));
    }
    tensor->dims[d] = static_cast<int64_t>(dim);
    if (__builtin_mul_overflow(n_elements, tensor->dims[d], &n_elements)) {
      return corrupt_at(position, "tensor '{}': dims {} overflow int64 in the element count", name,
                        fmt::join(tensor->dims.begin(), tensor->dims.begin() + d + 1, " x "));
    }
  }

  const size_t type_position = cursor.position();
  uint32_t type_id = 0;
  LOCARA_RETURN_IF_ERROR(read_field(
      cursor, [&] { return fmt::format("tensor '{}' type", name); }, &type_id));
  const auto info = tensor_type_info(type_id);
  if (!info) {
    return corrupt_at(type_position, "tensor '{}': type id {} is not a ggml tensor type{}", name,
                      type_id, type_id == 4 || type_id == 5 ? " (removed from ggml)" : "");
  }
  tensor->type = static_cast<TensorType>(type_id);
  const int64_t row_length = tensor->dims[0];
  const auto row_bytes = tensor_row_bytes(tensor->type, row_length);
  if (row_length % info->block_size != 0) {
    return corrupt_at(row_position,
                      "tensor '{}': row length {} is not a multiple of {}'s block size {}", name,
                      row_length, info->name, info->block_size);
  }
  const uint64_t n_rows = row_length == 0 ? 0 : static_cast<uint64_t>(n_elements / row_length);
  uint64_t n_bytes = 0;
  if (!row_bytes || __builtin_mul_overflow(*row_bytes, n_rows, &n_bytes) ||
      n_bytes > std::numeric_limits<size_t>::max()) {
    return corrupt_at(row_position, "tensor '{}': byte size of {} {} elements overflows", name,
                      n_elements, info->name);
  }
  tensor->n_bytes = static_cast<size_t>(n_bytes);
  return ok_status();
}

// Points each tensor into the mapping after checking that its bytes lie inside the file
// and do not overlap another tensor's.
Status place_tensor_data(const MappedFile& file, uint64_t data_offset,
                         const OffsetPositions& offset_positions,
                         std::vector<GgufTensor>* tensors) {
  const uint64_t data_size = file.size() - data_offset;
  for (size_t i = 0; i < tensors->size(); ++i) {
    GgufTensor& tensor = (*tensors)[i];
    if (tensor.offset > data_size) {
      return corrupt_at(offset_positions[i],
                        "tensor '{}': data offset {} lies past the end of the file (data section "
                        "at byte 0x{:x}, file size {})",
                        tensor.name, tensor.offset, data_offset, file.size());
    }
    if (tensor.n_bytes > data_size - tensor.offset) {
      return corrupt_at(offset_positions[i],
                        "tensor '{}': data offset {} + size {} exceeds file size {} (data section "
                        "at byte 0x{:x})",
                        tensor.name, tensor.offset, tensor.n_bytes, file.size(), data_offset);
    }
    tensor.data = file.data() + data_offset + tensor.offset;
  }

  std::vector<size_t> order(tensors->size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return (*tensors)[a].offset < (*tensors)[b].offset; });
  const GgufTensor* previous = nullptr;  // the non-empty tensor with the highest end so far
  for (const size_t index : order) {
    const GgufTensor& tensor = (*tensors)[index];
    if (tensor.n_bytes == 0) continue;
    if (previous != nullptr && previous->offset + previous->n_bytes > tensor.offset) {
      return corrupt_at(offset_positions[index],
                        "tensor '{}': data [{}, {}) overlaps tensor '{}' [{}, {})", tensor.name,
                        tensor.offset, tensor.offset + tensor.n_bytes, previous->name,
                        previous->offset, previous->offset + previous->n_bytes);
    }
    previous = &tensor;
  }
  return ok_status();
}

bool is_integer_type(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
      return true;
    default:
      return false;
  }
}

// The lookup every typed getter shares: NotFound if the key is missing, InvalidArgument
// naming the key, its type and what was `expected` when `convert` gives nullopt.
template <typename T, typename Convert>
Expected<T> get_typed(const GgufReader& reader, std::string_view key, std::string_view expected,
                      Convert convert) {
  const GgufValue* value = reader.find(key);
  if (value == nullptr) {
    return make_error(ErrorCode::kNotFound, "{}: metadata key '{}' not found", reader.path(), key);
  }
  if (std::optional<T> converted = convert(*value)) return std::move(*converted);
  return make_error(ErrorCode::kInvalidArgument, "{}: metadata key '{}' has type {}, expected {}",
                    reader.path(), key, gguf_value_type_name(value->type), expected);
}

}  // namespace

Expected<std::unique_ptr<GgufReader>> GgufReader::open(const std::string& path) {
  LOCARA_ASSIGN_OR_RETURN(MappedFile file, MappedFile::open(path));
  return from_mapping(std::move(file));
}

Expected<std::unique_ptr<GgufReader>> GgufReader::from_mapping(MappedFile file) {
  std::unique_ptr<GgufReader> reader(new GgufReader());
  reader->file_ = std::move(file);
  if (Status status = reader->parse(); !status) {
    return with_path(reader->file_.path(), status.error());
  }
  return reader;
}

Status GgufReader::parse() {
  Cursor cursor(file_.bytes());
  uint64_t n_tensors = 0;
  uint64_t n_kv = 0;
  LOCARA_RETURN_IF_ERROR(check_header(cursor, &version_, &n_tensors, &n_kv));

  metadata_.reserve(n_kv);
  size_t alignment_position = 0;
  for (uint64_t i = 0; i < n_kv; ++i) {
    const size_t key_position = cursor.position();
    std::string_view key;
    LOCARA_RETURN_IF_ERROR(read_string(
        cursor, [&] { return fmt::format("key {} name", i); }, &key));
    if (metadata_index_.count(key) != 0) return corrupt_at(key_position, "duplicate key '{}'", key);
    const size_t type_position = cursor.position();
    uint32_t type_id = 0;
    LOCARA_RETURN_IF_ERROR(read_field(
        cursor, [&] { return fmt::format("key '{}' value type", key); }, &type_id));
    if (!gguf_format::is_value_type(type_id)) {
      return corrupt_at(type_position, "key '{}': value type {} is not a GGUF value type", key,
                        type_id);
    }
    if (key == gguf_format::kAlignmentKey) alignment_position = cursor.position();
    GgufValue value;
    LOCARA_RETURN_IF_ERROR(
        gguf_format::parse_value(cursor, static_cast<GgufValueType>(type_id), key, &value));
    metadata_index_.emplace(std::string(key), metadata_.size());
    metadata_.emplace_back(std::string(key), std::move(value));
  }

  if (const GgufValue* value = find(gguf_format::kAlignmentKey)) {
    if (value->type != GgufValueType::kUint32) {
      return corrupt_at(alignment_position, "{} has type {}, expected uint32",
                        gguf_format::kAlignmentKey, gguf_value_type_name(value->type));
    }
    alignment_ = *value->as_uint();
    if (!gguf_format::is_power_of_two(alignment_)) {
      return corrupt_at(alignment_position, "{} = {} is not a nonzero power of two",
                        gguf_format::kAlignmentKey, alignment_);
    }
  }

  tensors_.reserve(n_tensors);
  OffsetPositions offset_positions;
  offset_positions.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    const size_t info_position = cursor.position();
    std::string_view name;
    LOCARA_RETURN_IF_ERROR(read_string(
        cursor, [&] { return fmt::format("tensor {} name", i); }, &name));
    if (tensor_index_.count(name) != 0) {
      return corrupt_at(info_position, "duplicate tensor name '{}'", name);
    }
    GgufTensor tensor;
    tensor.name = std::string(name);
    LOCARA_RETURN_IF_ERROR(parse_tensor_shape(cursor, &tensor));
    offset_positions.push_back(cursor.position());
    LOCARA_RETURN_IF_ERROR(read_field(
        cursor, [&] { return fmt::format("tensor '{}' data offset", name); }, &tensor.offset));
    if (tensor.offset % alignment_ != 0) {
      return corrupt_at(offset_positions.back(),
                        "tensor '{}': data offset {} is not a multiple of the alignment {}", name,
                        tensor.offset, alignment_);
    }
    tensor_index_.emplace(tensor.name, tensors_.size());
    tensors_.push_back(std::move(tensor));
  }

  // The data section follows the infos, padded to the alignment. A file without tensors
  // may end before the padding; data_offset_ then lies past its end, harmlessly.
  const auto data_offset = gguf_format::align_up(cursor.position(), alignment_);
  if (!data_offset || (*data_offset > file_.size() && !tensors_.empty())) {
    return corrupt_at(cursor.position(),
                      "data section (padded to alignment {}) starts past the end of the file "
                      "(size {})",
                      alignment_, file_.size());
  }
  data_offset_ = *data_offset;
  if (tensors_.empty()) return ok_status();
  return place_tensor_data(file_, data_offset_, offset_positions, &tensors_);
}

const GgufValue* GgufReader::find(std::string_view key) const {
  const auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

Expected<std::string> GgufReader::get_string(std::string_view key) const {
  return get_typed<std::string>(*this, key, "string", [](const GgufValue& value) {
    const std::string* text = value.as_string();
    return text != nullptr ? std::optional<std::string>(*text) : std::nullopt;
  });
}

Expected<int64_t> GgufReader::get_int(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value != nullptr && is_integer_type(value->type) && !value->as_int()) {
    return make_error(ErrorCode::kOutOfRange, "{}: metadata key '{}' = {} does not fit in int64",
                      path(), key, value->as_uint().value_or(0));
  }
  return get_typed<int64_t>(*this, key, "an integer", [](const GgufValue& value) {
    return is_integer_type(value.type) ? value.as_int() : std::nullopt;
  });
}

Expected<double> GgufReader::get_float(std::string_view key) const {
  return get_typed<double>(*this, key, "a number", [](const GgufValue& value) {
    const bool numeric = is_integer_type(value.type) || value.type == GgufValueType::kFloat32 ||
                         value.type == GgufValueType::kFloat64;
    return numeric ? value.as_float() : std::nullopt;
  });
}

Expected<bool> GgufReader::get_bool(std::string_view key) const {
  return get_typed<bool>(*this, key, "bool",
                         [](const GgufValue& value) { return value.as_bool(); });
}

const GgufArray* GgufReader::get_array(std::string_view key) const {
  const GgufValue* value = find(key);
  return value == nullptr ? nullptr : value->as_array();
}

const GgufTensor* GgufReader::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

uint64_t GgufReader::total_tensor_bytes() const {
  uint64_t total = 0;
  for (const GgufTensor& tensor : tensors_) total += tensor.n_bytes;
  return total;
}

}  // namespace locara
