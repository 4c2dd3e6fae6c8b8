#include "tokenizer/chat/jinja_globals.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "tokenizer/chat/jinja_builtins.h"

namespace locara::jinja {
namespace {

// Jinja2's sandbox refuses larger ranges (MAX_RANGE).
constexpr int64_t kMaxRange = 100000;

using Function = std::function<Expected<Value>(CallArgs&)>;

class BuiltinFunction : public Callable {
 public:
  BuiltinFunction(std::string name, Function function)
      : name_(std::move(name)), function_(std::move(function)) {}
  std::string name() const override { return "built-in function " + name_; }
  Expected<Value> call(CallArgs args, Interpreter&) override { return function_(args); }

 private:
  std::string name_;
  Function function_;
};

void define(Frame* frame, const std::string& name, Function function) {
  frame->set(name, Value::callable(std::make_shared<BuiltinFunction>(name, std::move(function))));
}

Expected<Value> range(CallArgs& args) {
  if (!args.keyword.empty()) return type_error("range() takes no keyword arguments");
  const size_t n = args.positional.size();
  if (n < 1 || n > 3) return type_error(fmt::format("range expected 1 to 3 arguments, got {}", n));
  for (const Value& arg : args.positional)
    if (!arg.is_int() && !arg.is_bool())
      return type_error(
          fmt::format("'{}' object cannot be interpreted as an integer", arg.type_name()));
  const int64_t start = n == 1 ? 0 : args.positional[0].as_int();
  const int64_t stop = n == 1 ? args.positional[0].as_int() : args.positional[1].as_int();
  const int64_t step = n == 3 ? args.positional[2].as_int() : 1;
  if (step == 0)
    return Error{ErrorCode::kInvalidArgument, "ValueError: range() arg 3 must not be zero"};
  // Exact in 128 bits: stop - start and the step may each span the whole int64 range.
  const __int128 span =
      step > 0 ? static_cast<__int128>(stop) - start : static_cast<__int128>(start) - stop;
  const __int128 magnitude = step > 0 ? static_cast<__int128>(step) : -static_cast<__int128>(step);
  const __int128 count = span <= 0 ? 0 : (span - 1) / magnitude + 1;
  if (count > kMaxRange)
    return Error{ErrorCode::kOutOfRange,
                 fmt::format("OverflowError: Range too big. The sandbox blocks ranges larger than "
                             "MAX_RANGE ({}).",
                             kMaxRange)};
  List items;
  for (int64_t k = 0; k < static_cast<int64_t>(count); ++k)  // start + k * step stays in range
    items.push_back(Value::integer(start + k * step));
  return Value::list(std::move(items));
}

// dict(mapping_or_pairs, **kwargs), and namespace() which takes the same arguments.
Expected<Dict> dict_from(CallArgs& args, std::string_view function) {
  if (args.positional.size() > 1)
    return type_error(
        fmt::format("{} expected at most 1 argument, got {}", function, args.positional.size()));
  Dict dict;
  if (!args.positional.empty()) {
    const Value& source = args.positional[0];
    if (source.is_dict() || source.is_namespace()) {
      dict = source.as_dict();
    } else {
      LOCARA_ASSIGN_OR_RETURN(List pairs, iterate(source));
      for (const Value& pair : pairs) {
        if (!pair.is_sequence() || pair.items().size() != 2)
          return type_error(
              fmt::format("cannot convert {} sequence element to a pair", pair.type_name()));
        dict.set(pair.items()[0], pair.items()[1]);
      }
    }
  }
  for (auto& [key, value] : args.keyword) dict.set(Value::string(key), value);
  return dict;
}

Expected<Value> raise_exception(CallArgs& args) {
  ArgReader reader("raise_exception", args);
  const Value message = reader.next_or("message", Value::string(""));
  LOCARA_RETURN_IF_ERROR(reader.finish());
  return Error{ErrorCode::kInvalidArgument, "TemplateError: " + to_str(message)};
}

Expected<Value> strftime_now(CallArgs& args, const std::optional<std::tm>& fixed) {
  ArgReader reader("strftime_now", args);
  const Value format = reader.next_or("format", Value::none());
  LOCARA_RETURN_IF_ERROR(reader.finish());
  if (!format.is_string()) return type_error("strftime_now() argument must be str");
  std::tm when{};
  if (fixed) {
    when = *fixed;
  } else {
    const std::time_t now = std::time(nullptr);
    localtime_r(&now, &when);
  }
  if (format.as_string().empty()) return Value::string("");
  // strftime returns 0 both for "too small" and for an empty result: grow, then give up.
  for (size_t size = 256; size <= 65536; size *= 4) {
    std::string buffer(size, '\0');
    const size_t n = std::strftime(buffer.data(), size, format.as_string().c_str(), &when);
    if (n > 0) return Value::string(buffer.substr(0, n));
  }
  return Value::string("");
}

// namespace(...): the one mutable object; the interpreter tracks it to free cycles.
class NamespaceFunction : public Callable {
 public:
  std::string name() const override { return "namespace"; }
  Expected<Value> call(CallArgs args, Interpreter& interpreter) override {
    LOCARA_ASSIGN_OR_RETURN(Dict dict, dict_from(args, "namespace"));
    Value ns = Value::namespace_object(std::move(dict));
    interpreter.track_namespace(ns);
    return ns;
  }
};

// joiner(sep): "" on the first call, sep afterwards.
class Joiner : public Callable {
 public:
  explicit Joiner(std::string separator) : separator_(std::move(separator)) {}
  std::string name() const override { return "joiner"; }
  Expected<Value> call(CallArgs args, Interpreter&) override {
    LOCARA_RETURN_IF_ERROR(ArgReader("joiner", args).finish());
    if (!used_) {
      used_ = true;
      return Value::string("");
    }
    return Value::string(separator_);
  }

 private:
  std::string separator_;
  bool used_ = false;
};

}  // namespace

void add_builtin_globals(Frame* frame, std::optional<std::tm> now) {
  define(frame, "range", range);
  define(frame, "dict", [](CallArgs& args) -> Expected<Value> {
    LOCARA_ASSIGN_OR_RETURN(Dict dict, dict_from(args, "dict"));
    return Value::dict(std::move(dict));
  });
  frame->set("namespace", Value::callable(std::make_shared<NamespaceFunction>()));
  define(frame, "raise_exception", raise_exception);
  define(frame, "strftime_now",
         [now](CallArgs& args) -> Expected<Value> { return strftime_now(args, now); });
  define(frame, "joiner", [](CallArgs& args) -> Expected<Value> {
    ArgReader reader("joiner", args);
    const Value separator = reader.next_or("sep", Value::string(", "));
    LOCARA_RETURN_IF_ERROR(reader.finish());
    return Value::callable(std::make_shared<Joiner>(to_str(separator)));
  });
}

}  // namespace locara::jinja
