// Jinja2's filters on text and numbers, plus Hugging Face's tojson; the lookup of all filters.
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "tokenizer/chat/jinja_filter_tables.h"
#include "tokenizer/chat/jinja_json.h"
#include "tokenizer/chat/jinja_operators.h"
#include "tokenizer/chat/jinja_text.h"

namespace locara::jinja {
namespace {

Error filter_error(std::string message) {
  return Error{ErrorCode::kInvalidArgument, "FilterArgumentError: " + std::move(message)};
}

// Python's float(str): surrounding whitespace and digit separators allowed, nothing else.
std::optional<double> parse_float(const std::string& raw) {
  std::string text = strip(raw, "", true, true);
  text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return value;
}

std::optional<int64_t> parse_int(const std::string& raw, int base) {
  std::string text = strip(raw, "", true, true);
  text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, base);
  if (errno == ERANGE || end != text.c_str() + text.size()) return std::nullopt;
  return value;
}

Expected<Value> filter_abs(Value value, CallArgs& args) {
  LOCARA_RETURN_IF_ERROR(ArgReader("abs", args).finish());
  if (!value.is_number())
    return type_error(fmt::format("bad operand type for abs(): '{}'", value.type_name()));
  if (value.is_float()) return Value::number(std::fabs(value.as_float()));
  if (value.as_int() == INT64_MIN) return type_error("integer overflow in abs()");
  return Value::integer(std::llabs(value.as_int()));
}

Expected<Value> filter_attr(Value value, CallArgs& args) {
  ArgReader reader("attr", args);
  const Value name = reader.next_or("name", Value::none());
  LOCARA_RETURN_IF_ERROR(reader.finish());
  if (!name.is_string()) return type_error("attribute name must be a string");
  // Only true attributes: a dict's methods, a namespace's values, never a dict's items.
  if (has_method(value, name.as_string()) || value.is_namespace() || value.is_undefined())
    return get_attribute(value, name.as_string());
  return Value::undefined(
      fmt::format("'{} object' has no attribute '{}'", value.type_name(), name.as_string()));
}

Expected<Value> filter_capitalize(Value value, CallArgs& args) {
  LOCARA_RETURN_IF_ERROR(ArgReader("capitalize", args).finish());
  const Value text = soft_str(value);
  std::vector<uint32_t> points = code_points(lower(text.as_string()));
  if (!points.empty()) points[0] = to_upper(points[0]);
  return Value::string(utf8_from(points, 0, points.size()), text.is_safe());
}

Expected<Value> filter_center(Value value, CallArgs& args) {
  ArgReader reader("center", args);
  const Value width = reader.next_or("width", Value::integer(80));
  LOCARA_RETURN_IF_ERROR(reader.finish());
  if (!width.is_int()) return type_error("center() width must be an integer");
  const std::string text = to_str(value);
  const int64_t margin =
      std::min<int64_t>(width.as_int(), 1 << 20) - static_cast<int64_t>(code_point_count(text));
  if (margin <= 0) return Value::string(text);
  const int64_t left = margin / 2 + (margin & width.as_int() & 1);  // Python's str.center
  return Value::string(std::string(static_cast<size_t>(left), ' ') + text +
                       std::string(static_cast<size_t>(margin - left), ' '));
}

Expected<Value> filter_default(Value value, CallArgs& args) {
  ArgReader reader("default", args);
  Value fallback = reader.next_or("default_value", Value::string(""));
  const Value boolean = reader.next_or("boolean", Value::boolean(false));
  LOCARA_RETURN_IF_ERROR(reader.finish());
  if (value.is_undefined() || (boolean.truthy() && !value.truthy())) return fallback;
  return value;
}

Expected<Value> filter_escape(Value value, CallArgs& args) {
  LOCARA_RETURN_IF_ERROR(ArgReader("escape", args).finish());
  if (value.is_string() && value.is_safe()) return value;
  return Value::string(escape_html(to_str(value)), /*safe=*/true);
}

Expected<Value> filter_float(Value value, CallArgs& args) {
  ArgReader reader("float", args);
  Value fallback = reader.next_or("default", Value::number(0.0));
  LOCARA_RETURN_IF_ERROR(reader.finish());
  if (value.is_undefined()) return undefined_error(value);  // float(Undefined) raises
  if (value.is_number()) return Value::number(value.as_float());
  if (value.is_string())
    if (auto parsed = parse_float(value.as_string())) return Value::number(*parsed);
  return fallback;
}

Expected<Value> filter_int(Value value, CallArgs& args) {
  ArgReader reader("int", args);
  Value fallback = reader.next_or("default", Value::integer(0));
  const Value base = reader.next_or("base", Value::integer(10));
  LOCARA_RETURN_IF_ERROR(reader.finish());
  if (value.is_undefined()) return undefined_error(value);  // int(Undefined) raises
  if (value.is_int() || value.is_bool()) return Value::integer(value.as_int());
  if (value.is_float()) {
    const double d = value.as_float();
    if (std::isfinite(d) && std::fabs(d) < 9.2e18) return Value::integer(static_cast<int64_t>(d));
    return fallback;
  }
  if (value.is_string()) {
    if (auto parsed =
            parse_int(value.as_string(), base.is_int() ? static_cast<int>(base.as_int()) : 10))
      return Value::integer(*parsed);
    if (auto parsed = parse_float(value.as_string()); parsed && std::fabs(*parsed) < 9.2e18)
      return Value::integer(static_cast<int64_t>(*parsed));  // "42.23"|int is 42
  }
  return fallback;
}

Expected<Value> filter_format(Value value, CallArgs& args) {
  if (!args.positional.empty() && !args.keyword.empty())
    return filter_error("can't handle positional and keyword arguments at the same time");
  Value operands;
  if (!args.keyword.empty()) {
    Dict mapping;
    for (auto& [key, item] : args.keyword) mapping.set(Value::string(key), item);
    operands = Value::dict(std::move(mapping));
  } else {
    operands = Value::tuple(args.positional);
  }
  const Value text = soft_str(value);
  LOCARA_ASSIGN_OR_RETURN(std::string out, percent_format(text.as_string(), operands));
  return Value::string(std::move(out), text.is_safe());
}

Expected<Value> filter_indent(Value value, CallArgs& args) {
  ArgReader reader("indent", args);
  const Value width = reader.next_or("width", Value::integer(4));
  const bool first = reader.next_or("first", Value::boolean(false)).truthy();
  const bool blank = reader.next_or("blank", Value::boolean(false)).truthy();
  LOCARA_RETURN_IF_ERROR(reader.finish());
  if (value.is_undefined()) return undefined_error(value);  // Undefined + "\n" raises
  const std::string indention =
      width.is_string() ? width.as_string()
                        : std::string(static_cast<size_t>(std::clamp<int64_t>(
                                          width.is_number() ? width.as_int() : 0, 0, 1 << 16)),
                                      ' ');
  const Value text = soft_str(value);
  // Jinja2 appends a newline before splitting, so a trailing newline survives as one line.
  const std::vector<std::string> lines = split_lines(text.as_string() + "\n");
  if (lines.size() * indention.size() + text.as_string().size() > kMaxBuiltSize)
    return too_large("an indented text");
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) out += '\n';
    if (i > 0 && (blank || !lines[i].empty())) out += indention;
    out += lines[i];
  }
  if (first) out = indention + out;
  return Value::string(std::move(out), text.is_safe());
}

Expected<Value> filter_length(Value value, CallArgs& args) {
  LOCARA_RETURN_IF_ERROR(ArgReader("length", args).finish());
  if (value.is_namespace()) return type_error("object of type 'Namespace' has no len()");
  LOCARA_ASSIGN_OR_RETURN(int64_t n, length(value));
  return Value::integer(n);
}

template <bool upper_case>
Expected<Value> filter_case(Value value, CallArgs& args) {
  LOCARA_RETURN_IF_ERROR(ArgReader(upper_case ? "upper" : "lower", args).finish());
  const Value text = soft_str(value);
  return Value::string(upper_case ? upper(text.as_string()) : lower(text.as_string()),
                       text.is_safe());
}

Expected<Value> filter_replace(Value value, CallArgs& args) {
  ArgReader reader("replace", args);
  const Value old_text = reader.next_or("old", Value::string(""));
  const Value new_text = reader.next_or("new", Value::string(""));
  const Value count = reader.next_or("count", Value::none());
  LOCARA_RETURN_IF_ERROR(reader.finish());
  CallArgs method_args;
  method_args.positional = {Value::string(to_str(old_text)), Value::string(to_str(new_text))};
  if (!count.is_none()) method_args.positional.push_back(count);
  return call_method(Value::string(to_str(value)), "replace", method_args);
}

Expected<Value> filter_round(Value value, CallArgs& args) {
  ArgReader reader("round", args);
  const Value precision_value = reader.next_or("precision", Value::integer(0));
  const Value method = reader.next_or("method", Value::string("common"));
  LOCARA_RETURN_IF_ERROR(reader.finish());
  if (!precision_value.is_int() && !precision_value.is_bool())
    return type_error(fmt::format("'{}' object cannot be interpreted as an integer",
                                  precision_value.type_name()));
  const std::string how = to_str(method);
  if (how != "common" && how != "ceil" && how != "floor")
    return filter_error("method must be common, ceil or floor");
  if (!value.is_number())
    return type_error(fmt::format("type {} doesn't define __round__ method", value.type_name()));
  const int64_t precision = std::clamp<int64_t>(precision_value.as_int(), -300, 300);
  const double scale = std::pow(10.0, static_cast<double>(precision));
  if (how != "common") {  // math.ceil / math.floor of value * 10**precision, as a float
    const double scaled = value.as_float() * scale;
    return Value::number((how == "ceil" ? std::ceil(scaled) : std::floor(scaled)) / scale);
  }
  if (!value.is_float()) return Value::integer(value.as_int());  // round(int) stays int
  // Python's round(): correctly rounded, ties to even on the exact binary value, which is
  // what printf's %.*f does.
  const double x = value.as_float();
  if (!std::isfinite(x)) return value;
  if (precision < 0) return Value::number(std::nearbyint(x / (1.0 / scale)) * (1.0 / scale));
  char buffer[512];
  std::snprintf(buffer, sizeof(buffer), "%.*f", static_cast<int>(std::min<int64_t>(precision, 60)),
                x);
  return Value::number(std::strtod(buffer, nullptr));
}

Expected<Value> filter_safe(Value value, CallArgs& args) {
  LOCARA_RETURN_IF_ERROR(ArgReader("safe", args).finish());
  return Value::string(to_str(value), /*safe=*/true);
}

Expected<Value> filter_string(Value value, CallArgs& args) {
  LOCARA_RETURN_IF_ERROR(ArgReader("string", args).finish());
  return soft_str(value);
}

// Jinja2's title: words start after '-', whitespace or an opening bracket.
Expected<Value> filter_title(Value value, CallArgs& args) {
  LOCARA_RETURN_IF_ERROR(ArgReader("title", args).finish());
  const Value text = soft_str(value);
  std::string out;
  bool word_start = true;
  for (uint32_t c : code_points(text.as_string())) {
    const bool separator =
        c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || is_python_space(c);
    append_utf8(separator ? c : word_start ? to_upper(c) : to_lower(c), &out);
    word_start = separator;
  }
  return Value::string(std::move(out), text.is_safe());
}

// Hugging Face's tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
// json.dumps, without Jinja2's HTML escaping.
Expected<Value> filter_tojson(Value value, CallArgs& args) {
  ArgReader reader("tojson", args);
  JsonStyle style;
  style.ensure_ascii = reader.next_or("ensure_ascii", Value::boolean(false)).truthy();
  const Value indent = reader.next_or("indent", Value::none());
  const Value separators = reader.next_or("separators", Value::none());
  style.sort_keys = reader.next_or("sort_keys", Value::boolean(false)).truthy();
  LOCARA_RETURN_IF_ERROR(reader.finish());
  if (indent.is_string()) {
    style.indent = indent.as_string();
  } else if (indent.is_int() || indent.is_bool()) {
    style.indent =
        std::string(static_cast<size_t>(std::clamp<int64_t>(indent.as_int(), 0, 64)), ' ');
  } else if (!indent.is_none()) {
    return type_error("tojson indent must be an int or a str");
  }
  if (style.indent) style.item_separator = ",";
  if (!separators.is_none()) {
    if (!separators.is_sequence() || separators.items().size() != 2 ||
        !separators.items()[0].is_string() || !separators.items()[1].is_string())
      return type_error("tojson separators must be a pair of strings");
    style.item_separator = separators.items()[0].as_string();
    style.key_separator = separators.items()[1].as_string();
  }
  LOCARA_ASSIGN_OR_RETURN(std::string json, to_json(value, style));
  return Value::string(std::move(json));
}

Expected<Value> filter_trim(Value value, CallArgs& args) {
  ArgReader reader("trim", args);
  const Value chars = reader.next_or("chars", Value::none());
  LOCARA_RETURN_IF_ERROR(reader.finish());
  const Value text = soft_str(value);
  if (!chars.is_none() && !chars.is_string()) return type_error("strip arg must be None or str");
  if (chars.is_string() && chars.as_string().empty()) return text;
  return Value::string(
      strip(text.as_string(), chars.is_string() ? chars.as_string() : "", true, true),
      text.is_safe());
}

Expected<Value> filter_truncate(Value value, CallArgs& args) {
  ArgReader reader("truncate", args);
  const Value length_value = reader.next_or("length", Value::integer(255));
  const bool kill_words = reader.next_or("killwords", Value::boolean(false)).truthy();
  const std::string end = to_str(reader.next_or("end", Value::string("...")));
  const Value leeway_value = reader.next_or("leeway", Value::none());
  LOCARA_RETURN_IF_ERROR(reader.finish());
  if (!length_value.is_int() || !(leeway_value.is_none() || leeway_value.is_int()))
    return type_error("truncate() length and leeway must be integers");
  const int64_t max_length = std::clamp<int64_t>(length_value.as_int(), -1, int64_t{1} << 40);
  const int64_t leeway =
      leeway_value.is_none() ? 5 : std::clamp<int64_t>(leeway_value.as_int(), -1, int64_t{1} << 40);
  const std::vector<uint32_t> points = code_points(to_str(value));
  const auto end_length = static_cast<int64_t>(code_point_count(end));
  if (max_length < end_length || leeway < 0)
    return filter_error(fmt::format("expected length >= {}, got {}", end_length, max_length));
  if (static_cast<int64_t>(points.size()) <= max_length + leeway) return soft_str(value);
  std::string kept = utf8_from(points, 0, static_cast<size_t>(max_length - end_length));
  if (!kill_words) {
    const size_t space = kept.rfind(' ');
    if (space != std::string::npos) kept.resize(space);
  }
  return Value::string(kept + end);
}

// Words as Python's \w+ finds them: letters, digits and '_' (any non-ASCII character that is
// not whitespace or punctuation counts as a letter).
Expected<Value> filter_wordcount(Value value, CallArgs& args) {
  LOCARA_RETURN_IF_ERROR(ArgReader("wordcount", args).finish());
  int64_t count = 0;
  bool in_word = false;
  for (uint32_t c : code_points(to_str(value))) {
    const bool word_char = is_alpha(c) || is_digit(c) || c == '_' ||
                           (c >= 0x80 && !is_python_space(c) && !(c >= 0x2000 && c <= 0x206F) &&
                            !(c >= 0x3000 && c <= 0x303F) && !(c >= 0xFF00 && c <= 0xFF0F) &&
                            c != 0xA7 && c != 0xB6 && c != 0xB7 && c != 0xAB && c != 0xBB);
    if (word_char && !in_word) ++count;
    in_word = word_char;
  }
  return Value::integer(count);
}

constexpr NamedFilter kTextFilters[] = {
    {"abs", filter_abs},
    {"attr", filter_attr},
    {"capitalize", filter_capitalize},
    {"center", filter_center},
    {"count", filter_length},
    {"d", filter_default},
    {"default", filter_default},
    {"e", filter_escape},
    {"escape", filter_escape},
    {"float", filter_float},
    {"format", filter_format},
    {"indent", filter_indent},
    {"int", filter_int},
    {"length", filter_length},
    {"lower", filter_case<false>},
    {"replace", filter_replace},
    {"round", filter_round},
    {"safe", filter_safe},
    {"string", filter_string},
    {"title", filter_title},
    {"tojson", filter_tojson},
    {"trim", filter_trim},
    {"truncate", filter_truncate},
    {"upper", filter_case<true>},
    {"wordcount", filter_wordcount},
};

}  // namespace

std::span<const NamedFilter> text_filters() {
  return kTextFilters;
}

FilterFn find_filter(std::string_view name) {
  for (const auto table : {text_filters(), sequence_filters()}) {
    for (const NamedFilter& entry : table)
      if (entry.name == name) return entry.filter;
  }
  return nullptr;
}

}  // namespace locara::jinja
