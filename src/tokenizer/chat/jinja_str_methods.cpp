// The methods templates call on str, list and dict values, with Python's semantics.
#include <fmt/format.h>

#include <algorithm>

#include "tokenizer/chat/jinja_builtins.h"
#include "tokenizer/chat/jinja_operators.h"
#include "tokenizer/chat/jinja_text.h"

namespace locara::jinja {
namespace {

Expected<std::string> string_arg(const std::optional<Value>& value, std::string_view what) {
  if (!value) return type_error(fmt::format("{}() missing required argument", what));
  if (!value->is_string())
    return type_error(fmt::format("{}() argument must be str, not {}", what, value->type_name()));
  return value->as_string();
}

// An optional "chars"/"sep" argument: None or absent means "not given".
Expected<std::optional<std::string>> optional_string_arg(const std::optional<Value>& value,
                                                         std::string_view what) {
  if (!value || value->is_none()) return std::optional<std::string>();
  LOCARA_ASSIGN_OR_RETURN(std::string text, string_arg(value, what));
  return std::optional<std::string>(std::move(text));
}

Expected<int64_t> int_arg(const std::optional<Value>& value, int64_t fallback) {
  if (!value || value->is_none()) return fallback;
  if (!value->is_int() && !value->is_bool())
    return type_error(
        fmt::format("'{}' object cannot be interpreted as an integer", value->type_name()));
  return value->as_int();
}

Value string_list(std::vector<std::string> parts) {
  List items;
  for (std::string& part : parts) items.push_back(Value::string(std::move(part)));
  return Value::list(std::move(items));
}

// str.split / str.rsplit. Without a separator, runs of whitespace split and ends are trimmed.
std::vector<std::string> split(const std::string& text, const std::optional<std::string>& sep,
                               int64_t max_split, bool from_right) {
  std::vector<std::string> parts;
  if (sep) {
    if (!from_right) {
      size_t start = 0;
      for (size_t hit; max_split != 0 && (hit = text.find(*sep, start)) != std::string::npos;
           --max_split) {
        parts.push_back(text.substr(start, hit - start));
        start = hit + sep->size();
      }
      parts.push_back(text.substr(start));
    } else {
      size_t end = text.size();
      for (size_t hit; max_split != 0 && end >= sep->size() &&
                       (hit = text.rfind(*sep, end - sep->size())) != std::string::npos;
           --max_split) {
        parts.insert(parts.begin(), text.substr(hit + sep->size(), end - hit - sep->size()));
        end = hit;
      }
      parts.insert(parts.begin(), text.substr(0, end));
    }
    return parts;
  }
  std::vector<uint32_t> points = code_points(text);
  if (from_right) std::reverse(points.begin(), points.end());
  size_t i = 0;
  while (i < points.size()) {
    while (i < points.size() && is_python_space(points[i])) ++i;
    if (i == points.size()) break;
    size_t end = i;
    if (max_split == 0) {  // the rest, trailing whitespace included
      end = points.size();
    } else {
      while (end < points.size() && !is_python_space(points[end])) ++end;
      --max_split;
    }
    std::vector<uint32_t> word(points.begin() + static_cast<std::ptrdiff_t>(i),
                               points.begin() + static_cast<std::ptrdiff_t>(end));
    if (from_right) std::reverse(word.begin(), word.end());
    parts.push_back(utf8_from(word, 0, word.size()));
    i = end;
  }
  if (from_right) std::reverse(parts.begin(), parts.end());
  return parts;
}

Expected<std::string> replace(const std::string& text, const std::string& old,
                              const std::string& with, int64_t count) {
  // The result's size, before building it: a template may not blow a text up past the limit.
  size_t hits = 0;
  if (old.empty()) {
    hits = code_point_count(text) + 1;
  } else {
    for (size_t at = text.find(old); at != std::string::npos; at = text.find(old, at + old.size()))
      ++hits;
  }
  if (count >= 0) hits = std::min(hits, static_cast<size_t>(count));
  if (with.size() > old.size() && hits > 0 &&
      (with.size() - old.size()) > (kMaxBuiltSize - text.size()) / hits)
    return too_large("a replaced text");
  std::string out;
  if (old.empty()) {  // Python inserts `with` around every character
    const std::vector<uint32_t> points = code_points(text);
    for (size_t i = 0; i <= points.size(); ++i) {
      if (count != 0) out += with, --count;
      if (i < points.size()) append_utf8(points[i], &out);
    }
    return out;
  }
  size_t start = 0;
  for (size_t hit; count != 0 && (hit = text.find(old, start)) != std::string::npos; --count) {
    out.append(text, start, hit - start);
    out += with;
    start = hit + old.size();
  }
  out.append(text, start, std::string::npos);
  return out;
}

bool is_cased(uint32_t c) {
  return is_upper(c) || is_lower(c);
}

std::string title_case(const std::string& text) {
  std::string out;
  bool previous_cased = false;
  for (size_t pos = 0; pos < text.size();) {
    uint32_t c = next_code_point(text, &pos);
    c = previous_cased ? to_lower(c) : to_upper(c);
    previous_cased = is_cased(c);
    append_utf8(c, &out);
  }
  return out;
}

// str.isdigit() and friends: false for "", else every character must pass.
template <typename Predicate>
Value all_chars(const std::string& text, Predicate predicate) {
  if (text.empty()) return Value::boolean(false);
  for (uint32_t c : code_points(text))
    if (!predicate(c)) return Value::boolean(false);
  return Value::boolean(true);
}

Expected<Value> affix_test(const std::string& text, const std::optional<Value>& affix,
                           bool at_start, std::string_view what) {
  if (affix && affix->kind() == Kind::kTuple) {
    for (const Value& option : affix->items()) {
      LOCARA_ASSIGN_OR_RETURN(Value hit, affix_test(text, option, at_start, what));
      if (hit.as_bool()) return hit;
    }
    return Value::boolean(false);
  }
  LOCARA_ASSIGN_OR_RETURN(std::string a, string_arg(affix, what));
  const bool hit = a.size() <= text.size() &&
                   (at_start ? text.compare(0, a.size(), a) == 0
                             : text.compare(text.size() - a.size(), a.size(), a) == 0);
  return Value::boolean(hit);
}

Expected<Value> string_method(const Value& self, std::string_view name, CallArgs& args) {
  const std::string& text = self.as_string();
  const bool safe = self.is_safe();
  ArgReader reader(name, args);
  if (name == "format") {
    LOCARA_ASSIGN_OR_RETURN(std::string formatted, python_format(text, args));
    return Value::string(std::move(formatted), safe);
  }
  Expected<Value> result = Value::none();
  if (name == "startswith" || name == "endswith") {
    result = affix_test(text, reader.next("prefix"), name == "startswith", name);
  } else if (name == "strip" || name == "lstrip" || name == "rstrip") {
    LOCARA_ASSIGN_OR_RETURN(auto chars, optional_string_arg(reader.next("chars"), name));
    result =
        Value::string(strip(text, chars.value_or(""), name != "rstrip", name != "lstrip"), safe);
    if (chars && chars->empty()) result = Value::string(text, safe);  // strip("") strips nothing
  } else if (name == "split" || name == "rsplit") {
    LOCARA_ASSIGN_OR_RETURN(auto sep, optional_string_arg(reader.next("sep"), name));
    LOCARA_ASSIGN_OR_RETURN(int64_t max_split, int_arg(reader.next("maxsplit"), -1));
    if (max_split < 0) max_split = -1;  // any negative: no limit
    if (sep && sep->empty())
      return Error{ErrorCode::kInvalidArgument, "ValueError: empty separator"};
    result = string_list(split(text, sep, max_split, name == "rsplit"));
  } else if (name == "splitlines") {
    result = string_list(split_lines(text));
  } else if (name == "upper" || name == "lower") {
    result = Value::string(name == "upper" ? upper(text) : lower(text), safe);
  } else if (name == "title") {
    result = Value::string(title_case(text), safe);
  } else if (name == "capitalize") {
    std::vector<uint32_t> points = code_points(lower(text));
    if (!points.empty()) points[0] = to_upper(points[0]);
    result = Value::string(utf8_from(points, 0, points.size()), safe);
  } else if (name == "replace") {
    LOCARA_ASSIGN_OR_RETURN(std::string old, string_arg(reader.next("old"), name));
    LOCARA_ASSIGN_OR_RETURN(std::string with, string_arg(reader.next("new"), name));
    LOCARA_ASSIGN_OR_RETURN(int64_t count, int_arg(reader.next("count"), -1));
    if (count < 0) count = -1;  // any negative: replace all
    LOCARA_ASSIGN_OR_RETURN(std::string replaced, replace(text, old, with, count));
    result = Value::string(std::move(replaced), safe);
  } else if (name == "find" || name == "rfind" || name == "index" || name == "count") {
    LOCARA_ASSIGN_OR_RETURN(std::string sub, string_arg(reader.next("sub"), name));
    if (name == "count") {
      int64_t count = 0;
      if (sub.empty()) {
        count = static_cast<int64_t>(code_point_count(text)) + 1;
      } else {
        for (size_t at = text.find(sub); at != std::string::npos;
             at = text.find(sub, at + sub.size()))
          ++count;
      }
      result = Value::integer(count);
    } else {
      const size_t at = name == "rfind" ? text.rfind(sub) : text.find(sub);
      if (at == std::string::npos && name == "index")
        return Error{ErrorCode::kInvalidArgument, "ValueError: substring not found"};
      result = Value::integer(at == std::string::npos
                                  ? -1
                                  : static_cast<int64_t>(code_point_count(text.substr(0, at))));
    }
  } else if (name == "join") {
    std::optional<Value> iterable = reader.next("iterable");
    if (!iterable) return type_error("join() takes exactly one argument (0 given)");
    LOCARA_ASSIGN_OR_RETURN(List items, iterate(*iterable));
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string())
        return type_error(fmt::format("sequence item {}: expected str instance, {} found", i,
                                      items[i].type_name()));
      if (i) out += text;
      out += items[i].as_string();
      if (out.size() > kMaxBuiltSize) return too_large("a joined text");
    }
    result = Value::string(std::move(out), safe);
  } else if (name == "isdigit") {
    result = all_chars(text, is_digit);
  } else if (name == "isalpha") {
    result = all_chars(text, is_alpha);
  } else if (name == "isalnum") {
    result = all_chars(text, [](uint32_t c) { return is_alpha(c) || is_digit(c); });
  } else if (name == "isspace") {
    result = all_chars(text, is_python_space);
  } else if (name == "islower" || name == "isupper") {
    bool any_cased = false, all_match = true;
    for (uint32_t c : code_points(text)) {
      if (!is_cased(c)) continue;
      any_cased = true;
      all_match &= name == "islower" ? is_lower(c) : is_upper(c);
    }
    result = Value::boolean(any_cased && all_match);
  }
  if (!result) return result;
  LOCARA_RETURN_IF_ERROR(reader.finish());
  return result;
}

Expected<Value> dict_method(const Value& self, std::string_view name, CallArgs& args) {
  ArgReader reader(name, args);
  const Dict& dict = self.as_dict();
  Value result;
  if (name == "get") {
    std::optional<Value> key = reader.next("key");
    if (!key) return type_error("get expected at least 1 argument, got 0");
    Value fallback = reader.next_or("default", Value::none());
    const Value* found = dict.find(*key);
    result = found ? *found : fallback;
  } else {
    List items;
    for (const auto& [key, value] : dict.entries()) {
      if (name == "keys")
        items.push_back(key);
      else if (name == "values")
        items.push_back(value);
      else
        items.push_back(Value::tuple({key, value}));
    }
    result = Value::list(std::move(items));
  }
  LOCARA_RETURN_IF_ERROR(reader.finish());
  return result;
}

Expected<Value> list_method(const Value& self, std::string_view name, CallArgs& args) {
  ArgReader reader(name, args);
  std::optional<Value> item = reader.next("value");
  if (!item) return type_error(fmt::format("{}() takes exactly one argument (0 given)", name));
  LOCARA_RETURN_IF_ERROR(reader.finish());
  const List& items = self.items();
  int64_t count = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!equals(items[i], *item)) continue;
    if (name == "index") return Value::integer(static_cast<int64_t>(i));
    ++count;
  }
  if (name == "index")
    return Error{ErrorCode::kInvalidArgument,
                 fmt::format("ValueError: {} is not in list", to_repr(*item))};
  return Value::integer(count);
}

}  // namespace

Expected<Value> call_method(const Value& self, std::string_view name, CallArgs& args) {
  if (self.is_string()) return string_method(self, name, args);
  if (self.is_dict()) return dict_method(self, name, args);
  if (self.is_sequence()) return list_method(self, name, args);
  return type_error(fmt::format("'{}' object has no method '{}'", self.type_name(), name));
}

}  // namespace locara::jinja
