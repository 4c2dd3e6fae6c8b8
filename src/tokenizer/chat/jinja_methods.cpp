// Attribute, item and slice access, and the Python methods of str, list and dict that
// templates call ('text'.split(), message.get('content'), tools.items() ...).
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "tokenizer/chat/jinja_builtins.h"
#include "tokenizer/chat/jinja_text.h"

namespace locara::jinja {
namespace {

constexpr std::array kStringMethods = {
    "capitalize", "count",   "endswith", "find",    "format",  "index", "isalnum",
    "isalpha",    "isdigit", "islower",  "isspace", "isupper", "join",  "lower",
    "lstrip",     "replace", "rfind",    "rsplit",  "rstrip",  "split", "splitlines",
    "startswith", "strip",   "title",    "upper",
};
constexpr std::array kListMethods = {"count", "index"};
constexpr std::array kDictMethods = {"get", "items", "keys", "values"};
// Methods that would change an object: Hugging Face renders in an immutable sandbox.
constexpr std::array kListMutators = {"append", "clear",  "extend",  "insert",
                                      "pop",    "remove", "reverse", "sort"};
constexpr std::array kDictMutators = {"clear", "pop", "popitem", "setdefault", "update"};

template <size_t N>
bool contains_name(const std::array<const char*, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool is_mutator(const Value& object, std::string_view name) {
  return (object.kind() == Kind::kList && contains_name(kListMutators, name)) ||
         (object.is_dict() && contains_name(kDictMutators, name));
}

std::string object_name(const Value& object) {
  if (object.is_none()) return "None";
  return fmt::format("{} object", object.type_name());
}

Value missing_attribute(const Value& object, std::string_view name) {
  return Value::undefined(fmt::format("'{}' has no attribute '{}'", object_name(object), name));
}

class BoundMethod : public Callable {
 public:
  BoundMethod(Value self, std::string name) : self_(std::move(self)), name_(std::move(name)) {}
  std::string name() const override {
    return fmt::format("built-in method {} of {}", name_, object_name(self_));
  }
  Expected<Value> call(CallArgs args, Interpreter&) override {
    return call_method(self_, name_, args);
  }

 private:
  Value self_;
  std::string name_;
};

// Python's index normalization for one subscript: negative counts from the end.
std::optional<size_t> normalize_index(int64_t index, size_t size) {
  if (index < 0) index += static_cast<int64_t>(size);
  if (index < 0 || index >= static_cast<int64_t>(size)) return std::nullopt;
  return static_cast<size_t>(index);
}

}  // namespace

bool has_method(const Value& object, std::string_view name) {
  if (object.is_string()) return contains_name(kStringMethods, name);
  if (object.is_sequence()) return contains_name(kListMethods, name);
  if (object.is_dict()) return contains_name(kDictMethods, name);
  return false;
}

Expected<Value> get_attribute(const Value& object, std::string_view name) {
  if (object.is_undefined()) return undefined_error(object);
  if (!name.empty() && name[0] == '_')
    return Value::undefined(
        fmt::format("SecurityError: access to attribute '{}' of '{}' object "
                    "is unsafe.",
                    name, object.type_name()));
  if (is_mutator(object, name))
    return Value::undefined(
        fmt::format("SecurityError: access to attribute '{}' of '{}' object "
                    "is unsafe.",
                    name, object.type_name()));
  if (has_method(object, name))
    return Value::callable(std::make_shared<BoundMethod>(object, std::string(name)));
  if (object.is_dict() || object.is_namespace()) {
    if (const Value* value = object.as_dict().find(name)) return *value;
  }
  return missing_attribute(object, name);
}

Expected<Value> get_item(const Value& object, const Value& key) {
  if (object.is_undefined()) return undefined_error(object);
  if (object.is_dict()) {
    if (const Value* value = object.as_dict().find(key)) return *value;
  } else if ((object.is_sequence() || object.is_string()) && (key.is_int() || key.is_bool())) {
    if (object.is_string()) {
      const std::vector<uint32_t> points = code_points(object.as_string());
      if (auto i = normalize_index(key.as_int(), points.size()))
        return Value::string(utf8_from(points, *i, *i + 1), object.is_safe());
    } else if (auto i = normalize_index(key.as_int(), object.items().size())) {
      return object.items()[*i];
    }
    return Value::undefined(
        fmt::format("'{}' has no element {}", object_name(object), key.as_int()));
  }
  if (key.is_string()) return get_attribute(object, key.as_string());
  return Value::undefined(fmt::format("'{}' has no element {}", object_name(object), to_repr(key)));
}

Expected<Value> get_slice(const Value& object, const Value& start_value, const Value& stop_value,
                          const Value& step_value) {
  if (object.is_undefined()) return undefined_error(object);
  if (!object.is_string() && !object.is_sequence())
    return Value::undefined(fmt::format("'{}' cannot be sliced", object_name(object)));
  for (const Value* part : {&start_value, &stop_value, &step_value})
    if (!part->is_none() && !part->is_int() && !part->is_bool())
      return type_error("slice indices must be integers or None");
  const int64_t step = step_value.is_none() ? 1 : step_value.as_int();
  if (step == 0) return Error{ErrorCode::kInvalidArgument, "ValueError: slice step cannot be zero"};
  std::vector<uint32_t> points;
  if (object.is_string()) points = code_points(object.as_string());
  const auto size =
      static_cast<int64_t>(object.is_string() ? points.size() : object.items().size());
  // Python's PySlice_AdjustIndices.
  const auto adjust = [&](const Value& part, int64_t fallback) {
    if (part.is_none()) return fallback;
    int64_t i = part.as_int();
    if (i < 0) {
      i += size;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= size) {
      i = step < 0 ? size - 1 : size;
    }
    return i;
  };
  const int64_t start = adjust(start_value, step < 0 ? size - 1 : 0);
  const int64_t stop = adjust(stop_value, step < 0 ? -1 : size);
  std::vector<size_t> picked;
  // Walk by count, not by adding step (a huge step would overflow past the end).
  const int64_t span = step > 0 ? stop - start : start - stop;
  const int64_t magnitude = step > 0 ? step : (step == INT64_MIN ? INT64_MAX : -step);
  const int64_t count = span <= 0 ? 0 : (span - 1) / magnitude + 1;
  for (int64_t k = 0; k < count; ++k) picked.push_back(static_cast<size_t>(start + k * step));
  if (object.is_string()) {
    std::string out;
    for (size_t i : picked) append_utf8(points[i], &out);
    return Value::string(std::move(out), object.is_safe());
  }
  List out;
  for (size_t i : picked) out.push_back(object.items()[i]);
  return object.kind() == Kind::kTuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

std::optional<Value> ArgReader::next(std::string_view name) {
  const size_t index = index_++;
  if (index < args_.positional.size()) return args_.positional[index];
  for (const auto& [key, value] : args_.keyword) {
    if (key == name) {
      used_keywords_.push_back(key);
      return value;
    }
  }
  return std::nullopt;
}

Status ArgReader::finish() const {
  if (args_.positional.size() > index_)
    return type_error(fmt::format("{}() takes at most {} argument(s) ({} given)", function_, index_,
                                  args_.positional.size()));
  for (const auto& [key, value] : args_.keyword) {
    if (std::find(used_keywords_.begin(), used_keywords_.end(), key) == used_keywords_.end())
      return type_error(
          fmt::format("{}() got an unexpected keyword argument '{}'", function_, key));
  }
  return ok_status();
}

}  // namespace locara::jinja
