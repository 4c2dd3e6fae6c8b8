// Jinja2's tests (`x is defined`, `x is divisibleby 3`, `x is equalto y` ...).
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "tokenizer/chat/jinja_builtins.h"
#include "tokenizer/chat/jinja_operators.h"
#include "tokenizer/chat/jinja_text.h"

namespace locara::jinja {
namespace {

Expected<Value> required(ArgReader& reader, std::string_view test, std::string_view name) {
  std::optional<Value> value = reader.next(name);
  if (!value) return type_error(fmt::format("test '{}' needs the argument '{}'", test, name));
  return *value;
}

// A test with no arguments.
template <bool (*predicate)(const Value&)>
Expected<bool> simple(const Value& value, CallArgs& args) {
  LOCARA_RETURN_IF_ERROR(ArgReader("test", args).finish());
  return predicate(value);
}

bool is_defined(const Value& v) {
  return !v.is_undefined();
}
bool is_undefined(const Value& v) {
  return v.is_undefined();
}
bool is_none(const Value& v) {
  return v.is_none();
}
bool is_boolean(const Value& v) {
  return v.is_bool();
}
bool is_false(const Value& v) {
  return v.is_bool() && !v.as_bool();
}
bool is_true(const Value& v) {
  return v.is_bool() && v.as_bool();
}
bool is_integer(const Value& v) {
  return v.is_int();
}
bool is_float(const Value& v) {
  return v.is_float();
}
bool is_number(const Value& v) {
  return v.is_number();
}
bool is_string(const Value& v) {
  return v.is_string();
}
bool is_mapping(const Value& v) {
  return v.is_dict();
}
bool is_escaped(const Value& v) {
  return v.is_string() && v.is_safe();
}
// Undefined counts as iterable, a sequence and callable, as Jinja2's Undefined defines
// __iter__, __len__, __getitem__ and __call__.
bool is_iterable(const Value& v) {
  return v.is_string() || v.is_list_like() || v.is_dict() || v.is_undefined();
}
bool is_sequence(const Value& v) {
  return v.is_string() || v.is_sequence() || v.is_dict() || v.is_undefined();
}
bool is_callable(const Value& v) {
  return v.is_callable() || v.is_undefined();
}

bool case_test(const Value& v, bool upper_wanted) {
  const std::string text = to_str(v);
  bool any_cased = false;
  for (uint32_t c : code_points(text)) {
    if (!is_upper(c) && !is_lower(c)) continue;
    any_cased = true;
    if (upper_wanted ? is_lower(c) : is_upper(c)) return false;
  }
  return any_cased;
}
bool is_lower_text(const Value& v) {
  return case_test(v, false);
}
bool is_upper_text(const Value& v) {
  return case_test(v, true);
}

Expected<bool> parity(const Value& value, CallArgs& args, bool want_odd) {
  LOCARA_RETURN_IF_ERROR(ArgReader(want_odd ? "odd" : "even", args).finish());
  LOCARA_ASSIGN_OR_RETURN(Value rest, binary_operation(BinaryOp::kMod, value, Value::integer(2)));
  return equals(rest, Value::integer(1)) == want_odd;
}
Expected<bool> odd(const Value& value, CallArgs& args) {
  return parity(value, args, true);
}
Expected<bool> even(const Value& value, CallArgs& args) {
  return parity(value, args, false);
}

Expected<bool> divisible_by(const Value& value, CallArgs& args) {
  ArgReader reader("divisibleby", args);
  LOCARA_ASSIGN_OR_RETURN(Value divisor, required(reader, "divisibleby", "num"));
  LOCARA_RETURN_IF_ERROR(reader.finish());
  LOCARA_ASSIGN_OR_RETURN(Value rest, binary_operation(BinaryOp::kMod, value, divisor));
  return equals(rest, Value::integer(0));
}

template <CompareOp op>
Expected<bool> compare(const Value& value, CallArgs& args) {
  ArgReader reader("compare", args);
  LOCARA_ASSIGN_OR_RETURN(Value other, required(reader, "compare", "other"));
  LOCARA_RETURN_IF_ERROR(reader.finish());
  return compare_values(op, value, other);
}

Expected<bool> in_test(const Value& value, CallArgs& args) {
  ArgReader reader("in", args);
  LOCARA_ASSIGN_OR_RETURN(Value container, required(reader, "in", "seq"));
  LOCARA_RETURN_IF_ERROR(reader.finish());
  return contains(container, value);
}

// `is sameas`: Python's identity; None and booleans are singletons, containers are shared.
Expected<bool> same_as(const Value& value, CallArgs& args) {
  ArgReader reader("sameas", args);
  LOCARA_ASSIGN_OR_RETURN(Value other, required(reader, "sameas", "other"));
  LOCARA_RETURN_IF_ERROR(reader.finish());
  if (value.kind() != other.kind()) return false;
  switch (value.kind()) {
    case Kind::kNone:
    case Kind::kUndefined:
      return true;
    case Kind::kBool:
    case Kind::kInt:
    case Kind::kFloat:
    case Kind::kString:
      return equals(value, other);
    case Kind::kDict:
    case Kind::kNamespace:
      return &value.as_dict() == &other.as_dict();
    case Kind::kCallable:
      return &value.as_callable() == &other.as_callable();
    default:
      return &value.items() == &other.items();
  }
}

template <bool filter>
Expected<bool> names_builtin(const Value& value, CallArgs& args) {
  LOCARA_RETURN_IF_ERROR(ArgReader(filter ? "filter" : "test", args).finish());
  if (!value.is_string()) return false;
  return filter ? find_filter(value.as_string()) != nullptr
                : find_test(value.as_string()) != nullptr;
}

struct NamedTest {
  std::string_view name;
  TestFn test;
};

constexpr std::array kTests = {
    NamedTest{"defined", simple<is_defined>},
    NamedTest{"undefined", simple<is_undefined>},
    NamedTest{"none", simple<is_none>},
    NamedTest{"boolean", simple<is_boolean>},
    NamedTest{"false", simple<is_false>},
    NamedTest{"true", simple<is_true>},
    NamedTest{"integer", simple<is_integer>},
    NamedTest{"float", simple<is_float>},
    NamedTest{"number", simple<is_number>},
    NamedTest{"string", simple<is_string>},
    NamedTest{"mapping", simple<is_mapping>},
    NamedTest{"iterable", simple<is_iterable>},
    NamedTest{"sequence", simple<is_sequence>},
    NamedTest{"callable", simple<is_callable>},
    NamedTest{"escaped", simple<is_escaped>},
    NamedTest{"lower", simple<is_lower_text>},
    NamedTest{"upper", simple<is_upper_text>},
    NamedTest{"odd", odd},
    NamedTest{"even", even},
    NamedTest{"divisibleby", divisible_by},
    NamedTest{"sameas", same_as},
    NamedTest{"in", in_test},
    NamedTest{"filter", names_builtin<true>},
    NamedTest{"test", names_builtin<false>},
    NamedTest{"==", compare<CompareOp::kEq>},
    NamedTest{"eq", compare<CompareOp::kEq>},
    NamedTest{"equalto", compare<CompareOp::kEq>},
    NamedTest{"!=", compare<CompareOp::kNe>},
    NamedTest{"ne", compare<CompareOp::kNe>},
    NamedTest{">", compare<CompareOp::kGt>},
    NamedTest{"gt", compare<CompareOp::kGt>},
    NamedTest{"greaterthan", compare<CompareOp::kGt>},
    NamedTest{">=", compare<CompareOp::kGe>},
    NamedTest{"ge", compare<CompareOp::kGe>},
    NamedTest{"<", compare<CompareOp::kLt>},
    NamedTest{"lt", compare<CompareOp::kLt>},
    NamedTest{"lessthan", compare<CompareOp::kLt>},
    NamedTest{"<=", compare<CompareOp::kLe>},
    NamedTest{"le", compare<CompareOp::kLe>},
};

}  // namespace

TestFn find_test(std::string_view name) {
  const auto it = std::find_if(kTests.begin(), kTests.end(),
                               [&](const NamedTest& t) { return t.name == name; });
  return it == kTests.end() ? nullptr : it->test;
}

}  // namespace locara::jinja
