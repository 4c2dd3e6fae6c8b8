#include "tokenizer/chat/jinja_value.h"

#include <fmt/format.h>

#include "tokenizer/chat/jinja_text.h"

namespace locara::jinja {

namespace {

// Containers released while another is being freed wait here instead of being freed
// recursively (one list per thread: renders may run on several threads).
struct PendingRelease {
  bool active = false;
  std::vector<List*> lists;
  std::vector<Dict*> dicts;
};
thread_local PendingRelease t_pending;

template <typename T>
void release(T* container, std::vector<T*>& queue) {
  if (t_pending.active) {
    queue.push_back(container);
    return;
  }
  t_pending.active = true;
  delete container;
  while (!t_pending.lists.empty() || !t_pending.dicts.empty()) {
    if (!t_pending.lists.empty()) {
      List* next = t_pending.lists.back();
      t_pending.lists.pop_back();
      delete next;
    } else {
      Dict* next = t_pending.dicts.back();
      t_pending.dicts.pop_back();
      delete next;
    }
  }
  t_pending.active = false;
}

}  // namespace

void ContainerDeleter::operator()(List* list) const {
  release(list, t_pending.lists);
}
void ContainerDeleter::operator()(Dict* dict) const {
  release(dict, t_pending.dicts);
}

namespace {

// Stand-ins the accessors return for a value of another kind; the mutable ones are per thread
// and emptied on each use, so a slip cannot leak state between calls.
class NoCallable : public Callable {
 public:
  std::string name() const override { return "not a function"; }
  Expected<Value> call(CallArgs, Interpreter&) override {
    return type_error("object is not callable");
  }
};

}  // namespace

const List& Value::items() const {
  static const List kEmpty;
  const auto* list = std::get_if<std::shared_ptr<List>>(&storage_);
  return list ? **list : kEmpty;
}

List& Value::mutable_items() const {
  thread_local List scratch;
  const auto* list = std::get_if<std::shared_ptr<List>>(&storage_);
  if (list) return **list;
  scratch.clear();
  return scratch;
}

const Dict& Value::as_dict() const {
  static const Dict kEmpty;
  const auto* dict = std::get_if<std::shared_ptr<Dict>>(&storage_);
  return dict ? **dict : kEmpty;
}

Dict& Value::mutable_dict() const {
  thread_local Dict scratch;
  const auto* dict = std::get_if<std::shared_ptr<Dict>>(&storage_);
  if (dict) return **dict;
  scratch = Dict();
  return scratch;
}

Callable& Value::as_callable() const {
  static NoCallable none;
  const auto* callable = std::get_if<std::shared_ptr<Callable>>(&storage_);
  return callable ? **callable : none;
}

const Value::Text& Value::empty_text() {
  static const Text empty = std::make_shared<const std::string>();
  return empty;
}

const Value* Dict::find(const Value& key) const {
  for (const auto& [k, v] : entries_)
    if (equals(k, key)) return &v;
  return nullptr;
}

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : entries_)
    if (k.is_string() && k.as_string() == key) return &v;
  return nullptr;
}

void Dict::set(Value key, Value value) {
  for (auto& [k, v] : entries_) {
    if (equals(k, key)) {
      v = std::move(value);
      return;
    }
  }
  entries_.emplace_back(std::move(key), std::move(value));
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return as_bool();
    case Kind::kInt:
      return as_int() != 0;
    case Kind::kFloat:
      return as_float() != 0.0;
    case Kind::kString:
      return !as_string().empty();
    case Kind::kList:
    case Kind::kTuple:
      return !items().empty();
    case Kind::kDict:
      return !as_dict().empty();
    case Kind::kIterator:
    case Kind::kNamespace:
    case Kind::kCallable:
      return true;
  }
  return false;
}

std::string Value::type_name() const {
  switch (kind_) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return safe_ ? "Markup" : "str";
    case Kind::kList:
      return "list";
    case Kind::kTuple:
      return "tuple";
    case Kind::kDict:
      return "dict";
    case Kind::kIterator:
      return "generator";
    case Kind::kNamespace:
      return "Namespace";
    case Kind::kCallable:
      return "function";
  }
  return "object";
}

namespace {

// A namespace can hold itself (set ns.me = ns); Python prints such a cycle as "...", and so do
// we past this depth, so printing never recurses without bound.
constexpr int kMaxReprDepth = 100;

std::string repr_at(const Value& value, int depth);

std::string join_repr(const List& items, std::string_view open, std::string_view close, int depth) {
  std::string out(open);
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += repr_at(items[i], depth + 1);
  }
  out += close;
  return out;
}

std::string dict_repr(const Dict& dict, int depth) {
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : dict.entries()) {
    if (!first) out += ", ";
    first = false;
    out += repr_at(key, depth + 1);
    out += ": ";
    out += repr_at(value, depth + 1);
  }
  return out + "}";
}

std::string str_at(const Value& value, int depth) {
  if (depth > kMaxReprDepth) return "...";
  switch (value.kind()) {
    case Kind::kUndefined:
      return "";
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return value.as_bool() ? "True" : "False";
    case Kind::kInt:
      return std::to_string(value.as_int());
    case Kind::kFloat:
      return python_float_repr(value.as_float());
    case Kind::kString:
      return value.as_string();
    case Kind::kList:
      return join_repr(value.items(), "[", "]", depth);
    case Kind::kTuple:
      if (value.items().size() == 1)
        return fmt::format("({},)", repr_at(value.items()[0], depth + 1));
      return join_repr(value.items(), "(", ")", depth);
    case Kind::kDict:
      return dict_repr(value.as_dict(), depth);
    case Kind::kIterator:
      return "<generator object>";
    case Kind::kNamespace:
      return fmt::format("<Namespace {}>", dict_repr(value.as_dict(), depth));
    case Kind::kCallable:
      return fmt::format("<{}>", value.as_callable().name());
  }
  return "";
}

std::string repr_at(const Value& value, int depth) {
  if (value.is_undefined()) return "Undefined";
  if (value.is_string()) {
    const std::string text = python_string_repr(value.as_string());
    return value.is_safe() ? fmt::format("Markup({})", text) : text;
  }
  return str_at(value, depth);
}

}  // namespace

std::string to_str(const Value& value) {
  return str_at(value, 0);
}

std::string to_repr(const Value& value) {
  return repr_at(value, 0);
}

namespace {

// Comparisons recurse into nested sequences; Python stops such recursion too (RecursionError).
constexpr int kMaxCompareDepth = 1000;

bool equals_at(const Value& a, const Value& b, int depth) {
  if (depth > kMaxCompareDepth) return false;
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() == b.as_float();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kUndefined:
    case Kind::kNone:
      return true;
    case Kind::kString:
      return a.as_string() == b.as_string();
    case Kind::kList:
    case Kind::kTuple: {
      const List& x = a.items();
      const List& y = b.items();
      if (&x == &y) return true;
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!equals_at(x[i], y[i], depth + 1)) return false;
      return true;
    }
    case Kind::kDict: {
      const Dict& x = a.as_dict();
      const Dict& y = b.as_dict();
      if (&x == &y) return true;
      if (x.size() != y.size()) return false;
      for (const auto& [key, value] : x.entries()) {
        const Value* other = y.find(key);
        if (!other || !equals_at(value, *other, depth + 1)) return false;
      }
      return true;
    }
    case Kind::kIterator:
      return &a.items() == &b.items();
    case Kind::kNamespace:
      return &a.as_dict() == &b.as_dict();
    case Kind::kCallable:
      return &a.as_callable() == &b.as_callable();
    default:
      return false;
  }
}

Expected<bool> less_than_at(const Value& a, const Value& b, int depth) {
  if (depth > kMaxCompareDepth)
    return Error{ErrorCode::kInvalidArgument, "RecursionError: comparison nested too deeply"};
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() < b.as_float();
    return a.as_int() < b.as_int();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.kind() == b.kind() && a.is_sequence()) {
    const List& x = a.items();
    const List& y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (equals_at(x[i], y[i], depth + 1)) continue;
      return less_than_at(x[i], y[i], depth + 1);
    }
    return x.size() < y.size();
  }
  if (a.is_undefined()) return undefined_error(a);
  if (b.is_undefined()) return undefined_error(b);
  return type_error(fmt::format("'<' not supported between instances of '{}' and '{}'",
                                a.type_name(), b.type_name()));
}

}  // namespace

bool equals(const Value& a, const Value& b) {
  return equals_at(a, b, 0);
}

Expected<bool> less_than(const Value& a, const Value& b) {
  return less_than_at(a, b, 0);
}

Expected<List> iterate(const Value& value) {
  switch (value.kind()) {
    case Kind::kUndefined:
      return List{};
    case Kind::kList:
    case Kind::kTuple:
      return value.items();
    case Kind::kIterator: {
      List items = std::move(value.mutable_items());  // a generator runs once
      value.mutable_items().clear();
      return items;
    }
    case Kind::kDict: {
      List keys;
      for (const auto& entry : value.as_dict().entries()) keys.push_back(entry.first);
      return keys;
    }
    case Kind::kString: {
      List chars;
      const std::string& text = value.as_string();
      for (size_t pos = 0; pos < text.size();) {
        const size_t start = pos;
        next_code_point(text, &pos);
        chars.push_back(Value::string(text.substr(start, pos - start), value.is_safe()));
      }
      return chars;
    }
    default:
      return type_error(fmt::format("'{}' object is not iterable", value.type_name()));
  }
}

Expected<int64_t> length(const Value& value) {
  switch (value.kind()) {
    case Kind::kUndefined:
      return int64_t{0};
    case Kind::kString:
      return static_cast<int64_t>(code_point_count(value.as_string()));
    case Kind::kList:
    case Kind::kTuple:
      return static_cast<int64_t>(value.items().size());
    case Kind::kDict:
      return static_cast<int64_t>(value.as_dict().size());
    default:
      return type_error(fmt::format("object of type '{}' has no len()", value.type_name()));
  }
}

Error type_error(std::string message) {
  return Error{ErrorCode::kInvalidArgument, "TypeError: " + message};
}

Error undefined_error(const Value& undefined) {
  const std::string& hint = undefined.as_string();
  if (hint.rfind("SecurityError: ", 0) == 0) return Error{ErrorCode::kInvalidArgument, hint};
  return Error{ErrorCode::kInvalidArgument,
               "UndefinedError: " + (hint.empty() ? std::string("value is undefined") : hint)};
}

}  // namespace locara::jinja
