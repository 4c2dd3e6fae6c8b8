// The built-in vocabulary of the template language: Jinja2's filters and tests, attribute and
// item access with the Python methods of str, list and dict that a sandboxed Jinja2 allows,
// and the argument binding they share.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "tokenizer/chat/jinja_value.h"

namespace locara::jinja {

using FilterFn = Expected<Value> (*)(Value input, CallArgs& args);
using TestFn = Expected<bool> (*)(const Value& input, CallArgs& args);

// nullptr for a name Jinja2 (with Hugging Face's tojson) does not define.
FilterFn find_filter(std::string_view name);
TestFn find_test(std::string_view name);

// `object.name` as Jinja2's sandbox resolves it: a method of str/list/dict first, then the
// item `name`; Undefined (naming what was missing) when neither exists. Methods that would
// modify a list or dict resolve to an Undefined that refuses to be called, as in Hugging
// Face's immutable sandbox. Errors only for an Undefined `object`.
Expected<Value> get_attribute(const Value& object, std::string_view name);
// `object[key]`: the item first, then (for a str key) the attribute; out-of-range indexes
// and missing keys give Undefined.
Expected<Value> get_item(const Value& object, const Value& key);
// `object[start:stop:step]` for str, list and tuple, with Python's clamping and negatives.
Expected<Value> get_slice(const Value& object, const Value& start, const Value& stop,
                          const Value& step);
// Calls a bound method (the callable get_attribute returns) on `self`.
Expected<Value> call_method(const Value& self, std::string_view name, CallArgs& args);
// Whether `name` is a method of `object`'s type that templates may call.
bool has_method(const Value& object, std::string_view name);

// Python's `%` string formatting ("%s: %d" % (a, b)), as the `format` filter uses it.
Expected<std::string> percent_format(const std::string& format, const Value& args);
// Python's str.format ("{} {name!r:>8}".format(...)) and format(value, spec).
Expected<std::string> python_format(const std::string& format, const CallArgs& args);
Expected<std::string> format_value(const Value& value, std::string_view spec);

// Binds call arguments to parameters in order, as Python binds def f(a, b=1, c=2).
class ArgReader {
 public:
  ArgReader(std::string_view function, CallArgs& args) : function_(function), args_(args) {}
  // The next positional argument, else the keyword argument `name`, else nullopt.
  std::optional<Value> next(std::string_view name);
  Value next_or(std::string_view name, Value fallback) {
    std::optional<Value> value = next(name);
    return value ? std::move(*value) : std::move(fallback);
  }
  // Arguments left over: "f() takes at most 2 arguments" / "unexpected keyword argument".
  Status finish() const;

 private:
  std::string_view function_;
  CallArgs& args_;
  size_t index_ = 0;
  std::vector<std::string_view> used_keywords_;
};

}  // namespace locara::jinja
