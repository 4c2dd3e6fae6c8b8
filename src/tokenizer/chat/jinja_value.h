// Values of the template language: the Python objects a Jinja2 template sees (None, bool, int,
// float, str and markup-safe str, list, tuple, dict, generators, namespaces, callables and
// Jinja2's Undefined), with Python's str(), repr(), ==, < and truth rules.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"

namespace locara::jinja {

class Value;
class Dict;
class Callable;
class Interpreter;

using List = std::vector<Value>;

enum class Kind : uint8_t {
  kUndefined,
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kList,
  kTuple,
  kDict,
  kIterator,   // a generator (map, select, unique ...): iterable once, no len(), no JSON
  kNamespace,  // namespace(): the one mutable object templates may change
  kCallable,
};

// Frees lists and dicts without recursing into nested ones, so that a deeply nested value
// (built by a hostile template) cannot exhaust the stack when it is released.
struct ContainerDeleter {
  void operator()(List* list) const;
  void operator()(Dict* dict) const;
};

// A value is cheap to copy: strings and containers are shared, as Python shares objects.
class Value {
 public:
  Value() = default;  // Undefined
  static Value undefined(std::string hint = {}) {
    return Value(Kind::kUndefined, hint.empty() ? empty_text() : make_text(std::move(hint)));
  }
  static Value none() { return Value(Kind::kNone, std::monostate{}); }
  static Value boolean(bool b) { return Value(Kind::kBool, b); }
  static Value integer(int64_t i) { return Value(Kind::kInt, i); }
  static Value number(double d) { return Value(Kind::kFloat, d); }
  // `safe`: a markupsafe.Markup, as the `safe` filter makes (adding plain text escapes it).
  static Value string(std::string s, bool safe = false) {
    Value v(Kind::kString, make_text(std::move(s)));
    v.safe_ = safe;
    return v;
  }
  static Value list(List items) { return sequence(Kind::kList, std::move(items)); }
  static Value tuple(List items) { return sequence(Kind::kTuple, std::move(items)); }
  static Value iterator(List items) { return sequence(Kind::kIterator, std::move(items)); }
  static Value dict(Dict d);              // defined below Dict
  static Value namespace_object(Dict d);  // defined below Dict
  static Value callable(std::shared_ptr<Callable> c) { return Value(Kind::kCallable, c); }

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  // bool counts as a number, as in Python (True + 1 == 2).
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_safe() const { return safe_; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_namespace() const { return kind_ == Kind::kNamespace; }
  // list or tuple: indexable, sliceable, has len().
  bool is_sequence() const { return kind_ == Kind::kList || kind_ == Kind::kTuple; }
  bool is_list_like() const { return is_sequence() || kind_ == Kind::kIterator; }
  bool is_callable() const { return kind_ == Kind::kCallable; }

  // The accessors never fail: asked for the wrong kind they give 0, "", an empty list or
  // dict (callers check the kind first; a slip must not take the process down).
  bool as_bool() const {
    const bool* b = std::get_if<bool>(&storage_);
    return b && *b;
  }
  // An int or bool; 0 for anything else (a float is not truncated here).
  int64_t as_int() const {
    if (const int64_t* i = std::get_if<int64_t>(&storage_)) return *i;
    return as_bool() ? 1 : 0;
  }
  double as_float() const {
    if (const double* d = std::get_if<double>(&storage_)) return *d;
    return static_cast<double>(as_int());
  }
  // The text of a string, or the hint of an Undefined ("'x' is undefined").
  const std::string& as_string() const {
    const Text* text = std::get_if<Text>(&storage_);
    return text ? **text : *empty_text();
  }
  const List& items() const;
  List& mutable_items() const;
  const Dict& as_dict() const;
  Dict& mutable_dict() const;
  Callable& as_callable() const;
  // The shared dict of a dict or namespace, for the interpreter's end-of-render cleanup.
  std::weak_ptr<Dict> dict_handle() const {
    const auto* dict = std::get_if<std::shared_ptr<Dict>>(&storage_);
    return dict ? std::weak_ptr<Dict>(*dict) : std::weak_ptr<Dict>();
  }

  // Python's bool(): Undefined, None, False, 0, "", [] and {} are false.
  bool truthy() const;
  // Python's type name, for error messages: 'NoneType', 'str', 'dict' ...
  std::string type_name() const;

 private:
  using Text = std::shared_ptr<const std::string>;
  using Storage = std::variant<std::monostate, bool, int64_t, double, Text, std::shared_ptr<List>,
                               std::shared_ptr<Dict>, std::shared_ptr<Callable>>;
  template <typename T>
  Value(Kind kind, T&& payload) : storage_(std::forward<T>(payload)), kind_(kind) {}
  static Value sequence(Kind kind, List items) {
    return Value(kind, std::shared_ptr<List>(new List(std::move(items)), ContainerDeleter()));
  }
  static Text make_text(std::string s) { return std::make_shared<const std::string>(std::move(s)); }
  static const Text& empty_text();

  Storage storage_ = empty_text();
  Kind kind_ = Kind::kUndefined;
  bool safe_ = false;
};

// An insertion-ordered dict (Python 3.7+ order). Lookups are linear: template dicts are small.
class Dict {
 public:
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  // Replaces the value of an existing key in place (keeping its position) or appends.
  void set(Value key, Value value);
  // Appends a key known not to be present (JSON objects have unique keys): no lookup.
  void append_new(Value key, Value value) {
    entries_.emplace_back(std::move(key), std::move(value));
  }

 private:
  std::vector<std::pair<Value, Value>> entries_;
};

inline Value Value::dict(Dict d) {
  return Value(Kind::kDict, std::shared_ptr<Dict>(new Dict(std::move(d)), ContainerDeleter()));
}
inline Value Value::namespace_object(Dict d) {
  return Value(Kind::kNamespace, std::shared_ptr<Dict>(new Dict(std::move(d)), ContainerDeleter()));
}

// Positional and keyword arguments of a call, a filter or a test.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// A function a template can call: a macro, a global such as range(), a bound method such
// as 'text'.split. Used only during one render (not thread-safe).
class Callable {
 public:
  virtual ~Callable() = default;
  virtual std::string name() const = 0;
  virtual Expected<Value> call(CallArgs args, Interpreter& interpreter) = 0;
};

// Python's str() (with Undefined as ""), and repr().
std::string to_str(const Value& value);
std::string to_repr(const Value& value);
// Python's ==: numbers by value (1 == 1.0 == True), containers element-wise, dicts ignoring
// order, Undefined equal to Undefined.
bool equals(const Value& a, const Value& b);
// Python's <, for numbers, strings (by code point) and sequences; a TypeError otherwise.
Expected<bool> less_than(const Value& a, const Value& b);
// What `for x in value` walks: items of a list, tuple or generator (consuming it), keys of a
// dict, characters of a str, nothing for Undefined; a TypeError for anything else.
Expected<List> iterate(const Value& value);
// Python's len(); Undefined has length 0.
Expected<int64_t> length(const Value& value);

// A TypeError-style error, as Python would raise it.
Error type_error(std::string message);
// The error raised when an Undefined is used for more than printing or testing.
Error undefined_error(const Value& undefined);

}  // namespace locara::jinja
