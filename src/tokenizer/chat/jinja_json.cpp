#include "tokenizer/chat/jinja_json.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "tokenizer/chat/jinja_text.h"

namespace locara::jinja {

Expected<Value> from_json(const nlohmann::ordered_json& json, int depth) {
  using Type = nlohmann::ordered_json::value_t;
  if (depth > kMaxJsonDepth)
    return make_error(ErrorCode::kInvalidArgument, "JSON nested deeper than {} levels",
                      kMaxJsonDepth);
  switch (json.type()) {
    case Type::null:
      return Value::none();
    case Type::boolean:
      return Value::boolean(json.get<bool>());
    case Type::number_integer:
      return Value::integer(json.get<int64_t>());
    case Type::number_unsigned: {
      const uint64_t u = json.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return Value::number(static_cast<double>(u));
      return Value::integer(static_cast<int64_t>(u));
    }
    case Type::number_float:
      return Value::number(json.get<double>());
    case Type::string:
      return Value::string(json.get<std::string>());
    case Type::array: {
      List items;
      items.reserve(json.size());
      for (const auto& item : json) {
        LOCARA_ASSIGN_OR_RETURN(Value value, from_json(item, depth + 1));
        items.push_back(std::move(value));
      }
      return Value::list(std::move(items));
    }
    case Type::object: {
      Dict dict;
      for (const auto& [key, item] : json.items()) {
        LOCARA_ASSIGN_OR_RETURN(Value value, from_json(item, depth + 1));
        dict.append_new(Value::string(key), std::move(value));
      }
      return Value::dict(std::move(dict));
    }
    default:
      return Value::none();  // binary and discarded values carry no JSON meaning
  }
}

namespace {

// json.dumps's string encoding: quotes, backslashes and control characters escaped,
// non-ASCII kept (or \u-escaped, as surrogate pairs above U+FFFF, with ensure_ascii).
void write_string(std::string_view text, bool ensure_ascii, std::string* out) {
  *out += '"';
  for (size_t pos = 0; pos < text.size();) {
    const size_t start = pos;
    const uint32_t c = next_code_point(text, &pos);
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      default:
        if (c < 0x20) {
          *out += fmt::format("\\u{:04x}", c);
        } else if (c >= 0x80 && ensure_ascii) {
          if (c >= 0x10000) {
            const uint32_t v = c - 0x10000;
            *out += fmt::format("\\u{:04x}\\u{:04x}", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
          } else {
            *out += fmt::format("\\u{:04x}", c);
          }
        } else {
          out->append(text.substr(start, pos - start));
        }
    }
  }
  *out += '"';
}

std::string float_text(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
  return python_float_repr(d);
}

class JsonWriter {
 public:
  explicit JsonWriter(const JsonStyle& style) : style_(style) {}

  Status write(const Value& value, int depth, std::string* out) {
    if (depth > 512) return type_error("JSON nesting too deep");
    switch (value.kind()) {
      case Kind::kNone:
        *out += "null";
        return ok_status();
      case Kind::kBool:
        *out += value.as_bool() ? "true" : "false";
        return ok_status();
      case Kind::kInt:
        *out += std::to_string(value.as_int());
        return ok_status();
      case Kind::kFloat:
        *out += float_text(value.as_float());
        return ok_status();
      case Kind::kString:
        write_string(value.as_string(), style_.ensure_ascii, out);
        return ok_status();
      case Kind::kList:
      case Kind::kTuple:
        return write_list(value.items(), depth, out);
      case Kind::kDict:
        return write_dict(value.as_dict(), depth, out);
      default:
        return type_error(
            fmt::format("Object of type {} is not JSON serializable", value.type_name()));
    }
  }

 private:
  void newline(int depth, std::string* out) const {
    *out += '\n';
    for (int i = 0; i < depth; ++i) *out += *style_.indent;
  }

  Status write_list(const List& items, int depth, std::string* out) {
    if (items.empty()) {
      *out += "[]";
      return ok_status();
    }
    *out += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) *out += style_.item_separator;
      if (style_.indent) newline(depth + 1, out);
      LOCARA_RETURN_IF_ERROR(write(items[i], depth + 1, out));
    }
    if (style_.indent) newline(depth, out);
    *out += ']';
    return ok_status();
  }

  static Expected<std::string> key_text(const Value& key) {
    switch (key.kind()) {
      case Kind::kString:
        return key.as_string();
      case Kind::kNone:
        return std::string("null");
      case Kind::kBool:
        return std::string(key.as_bool() ? "true" : "false");
      case Kind::kInt:
        return std::to_string(key.as_int());
      case Kind::kFloat:
        return float_text(key.as_float());
      default:
        return type_error(
            fmt::format("keys must be str, int, float, bool or None, not {}", key.type_name()));
    }
  }

  Status write_dict(const Dict& dict, int depth, std::string* out) {
    if (dict.empty()) {
      *out += "{}";
      return ok_status();
    }
    std::vector<std::pair<std::string, const Value*>> entries;
    for (const auto& [key, value] : dict.entries()) {
      LOCARA_ASSIGN_OR_RETURN(std::string text, key_text(key));
      entries.emplace_back(std::move(text), &value);
    }
    if (style_.sort_keys)
      std::stable_sort(entries.begin(), entries.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
    *out += '{';
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i) *out += style_.item_separator;
      if (style_.indent) newline(depth + 1, out);
      write_string(entries[i].first, style_.ensure_ascii, out);
      *out += style_.key_separator;
      LOCARA_RETURN_IF_ERROR(write(*entries[i].second, depth + 1, out));
    }
    if (style_.indent) newline(depth, out);
    *out += '}';
    return ok_status();
  }

  const JsonStyle& style_;
};

}  // namespace

Expected<std::string> to_json(const Value& value, const JsonStyle& style) {
  std::string out;
  LOCARA_RETURN_IF_ERROR(JsonWriter(style).write(value, 0, &out));
  return out;
}

}  // namespace locara::jinja
