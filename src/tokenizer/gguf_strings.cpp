#include "tokenizer/gguf_strings.h"

#include "gguf/gguf_reader.h"

namespace locara {

Expected<std::vector<std::string_view>> read_gguf_strings(const GgufReader& gguf,
                                                          std::string_view key,
                                                          std::string_view missing) {
  const GgufValue* value = gguf.find(key);
  if (value == nullptr) {
    return make_error(ErrorCode::kNotFound, "{}: {} ({} is missing)", gguf.path(), missing, key);
  }
  const GgufArray* array = value->as_array();
  if (array == nullptr) {
    return make_error(ErrorCode::kCorruptFile, "{}: {} is a {}, not an array", gguf.path(), key,
                      gguf_value_type_name(value->type));
  }
  if (array->element_type != GgufValueType::kString) {
    return make_error(ErrorCode::kCorruptFile, "{}: {} holds {}, expected strings", gguf.path(),
                      key, gguf_value_type_name(array->element_type));
  }
  std::vector<std::string_view> strings;
  strings.reserve(array->elements.size());
  for (const GgufValue& element : array->elements) {
    const std::string* text = element.as_string();
    if (text == nullptr) {
      return make_error(ErrorCode::kCorruptFile, "{}: {}[{}] is not a string", gguf.path(), key,
                        strings.size());
    }
    strings.push_back(*text);
  }
  return strings;
}

}  // namespace locara
