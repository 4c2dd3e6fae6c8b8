// Parsing of GGUF metadata values, nested arrays included.
#include <string>
#include <vector>

#include "gguf/gguf_format.h"

namespace locara::gguf_format {
namespace {

// Parses the values of one key. Tracks the index path inside nested arrays so that an
// error can say "key 'tokenizer.ggml.tokens'[1234]" without formatting anything while
// the file is well-formed (a 150k-token vocab must parse in milliseconds). Not thread-safe.
class ValueParser {
 public:
  ValueParser(Cursor& cursor, std::string_view key) : cursor_(cursor), key_(key) {}

  Status parse(GgufValueType type, GgufValue* out) { return parse_value(type, 0, out); }

 private:
  std::string where() const {
    std::string text = fmt::format("key '{}'", key_);
    for (const uint64_t index : path_) text += fmt::format("[{}]", index);
    return text;
  }

  template <typename FileType, typename StoredType>
  Status read_number(GgufValueType type, GgufValue* out) {
    FileType value{};
    if (!cursor_.read(&value)) {
      return cursor_.truncated(fmt::format("{} {} value", where(), gguf_value_type_name(type)),
                               sizeof(FileType));
    }
    out->data.template emplace<StoredType>(static_cast<StoredType>(value));
    return ok_status();
  }

  Status read_bool(GgufValue* out) {
    const size_t position = cursor_.position();
    uint8_t value = 0;
    if (!cursor_.read(&value)) return cursor_.truncated(where() + " bool value", 1);
    if (value > 1) return corrupt_at(position, "{}: bool value {} is not 0 or 1", where(), value);
    out->data.emplace<bool>(value != 0);
    return ok_status();
  }

  Status read_string(GgufValue* out) {
    const size_t position = cursor_.position();
    uint64_t length = 0;
    if (!cursor_.read(&length)) return cursor_.truncated(where() + " string length", 8);
    std::string_view text;
    if (!cursor_.read_bytes(length, &text)) {
      return corrupt_at(position,
                        "{}: string length {} runs past the end of the file ({} bytes left)",
                        where(), length, cursor_.remaining());
    }
    out->data.emplace<std::string>(text);
    return ok_status();
  }

  Status read_array(int depth, GgufValue* out) {
    const size_t type_position = cursor_.position();
    uint32_t element_type_id = 0;
    if (!cursor_.read(&element_type_id))
      return cursor_.truncated(where() + " array element type", 4);
    if (!is_value_type(element_type_id)) {
      return corrupt_at(type_position, "{}: array element type {} is not a GGUF value type",
                        where(), element_type_id);
    }
    const auto element_type = static_cast<GgufValueType>(element_type_id);
    if (element_type == GgufValueType::kArray && depth + 1 >= kMaxArrayDepth) {
      return make_error(ErrorCode::kUnsupported, "{}: arrays nested deeper than {} at byte 0x{:x}",
                        where(), kMaxArrayDepth, type_position);
    }
    const size_t count_position = cursor_.position();
    uint64_t count = 0;
    if (!cursor_.read(&count)) return cursor_.truncated(where() + " array count", 8);
    // Checked before reserving: a corrupt count must not become a huge allocation.
    if (count > cursor_.remaining() / min_value_bytes(element_type)) {
      return corrupt_at(count_position,
                        "{}: array count {} of {} runs past the end of the file ({} bytes left)",
                        where(), count, gguf_value_type_name(element_type), cursor_.remaining());
    }

    auto array = std::make_shared<GgufArray>();
    array->element_type = element_type;
    array->elements.resize(count);
    path_.push_back(0);
    for (uint64_t i = 0; i < count; ++i) {
      path_.back() = i;
      GgufValue& element = array->elements[i];
      element.type = element_type;
      LOCARA_RETURN_IF_ERROR(parse_value(element_type, depth + 1, &element));
    }
    path_.pop_back();
    out->data.emplace<std::shared_ptr<GgufArray>>(std::move(array));
    return ok_status();
  }

  Status parse_value(GgufValueType type, int depth, GgufValue* out) {
    out->type = type;
    switch (type) {
      case GgufValueType::kUint8:
        return read_number<uint8_t, uint64_t>(type, out);
      case GgufValueType::kInt8:
        return read_number<int8_t, int64_t>(type, out);
      case GgufValueType::kUint16:
        return read_number<uint16_t, uint64_t>(type, out);
      case GgufValueType::kInt16:
        return read_number<int16_t, int64_t>(type, out);
      case GgufValueType::kUint32:
        return read_number<uint32_t, uint64_t>(type, out);
      case GgufValueType::kInt32:
        return read_number<int32_t, int64_t>(type, out);
      case GgufValueType::kUint64:
        return read_number<uint64_t, uint64_t>(type, out);
      case GgufValueType::kInt64:
        return read_number<int64_t, int64_t>(type, out);
      case GgufValueType::kFloat32:
        return read_number<float, double>(type, out);
      case GgufValueType::kFloat64:
        return read_number<double, double>(type, out);
      case GgufValueType::kBool:
        return read_bool(out);
      case GgufValueType::kString:
        return read_string(out);
      case GgufValueType::kArray:
        return read_array(depth, out);
    }
    return make_error(ErrorCode::kInternal, "{}: unhandled value type {}", where(),
                      static_cast<uint32_t>(type));
  }

  Cursor& cursor_;
  std::string_view key_;
  std::vector<uint64_t> path_;
};

}  // namespace

Status parse_value(Cursor& cursor, GgufValueType type, std::string_view key, GgufValue* out) {
  return ValueParser(cursor, key).parse(type, out);
}

}  // namespace locara::gguf_format
