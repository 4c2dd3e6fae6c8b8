#include "tokenizer/chat/jinja_operators.h"

#include <fmt/format.h>

#include <cmath>

#include "tokenizer/chat/jinja_builtins.h"
#include "tokenizer/chat/jinja_text.h"

namespace locara::jinja {
namespace {

std::string_view symbol(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kFloorDiv:
      return "//";
    case BinaryOp::kMod:
      return "%";
    case BinaryOp::kPow:
      return "**";
    default:
      return "?";
  }
}

Error unsupported(BinaryOp op, const Value& a, const Value& b) {
  return type_error(fmt::format("unsupported operand type(s) for {}: '{}' and '{}'", symbol(op),
                                a.type_name(), b.type_name()));
}

Error too_large_text(size_t a, size_t b) {
  return too_large(fmt::format("a text of {} bytes", a + b));
}

Error overflow() {
  return Error{ErrorCode::kOutOfRange, "OverflowError: integer result out of range"};
}

Error zero_division(std::string_view what) {
  return Error{ErrorCode::kInvalidArgument, fmt::format("ZeroDivisionError: {}", what)};
}

Expected<Value> integer_operation(BinaryOp op, int64_t a, int64_t b) {
  int64_t result = 0;
  switch (op) {
    case BinaryOp::kAdd:
      if (__builtin_add_overflow(a, b, &result)) return overflow();
      return Value::integer(result);
    case BinaryOp::kSub:
      if (__builtin_sub_overflow(a, b, &result)) return overflow();
      return Value::integer(result);
    case BinaryOp::kMul:
      if (__builtin_mul_overflow(a, b, &result)) return overflow();
      return Value::integer(result);
    case BinaryOp::kDiv:
      if (b == 0) return zero_division("division by zero");
      return Value::number(static_cast<double>(a) / static_cast<double>(b));
    case BinaryOp::kFloorDiv:
    case BinaryOp::kMod: {
      if (b == 0) return zero_division("integer division or modulo by zero");
      if (a == INT64_MIN && b == -1) return overflow();
      int64_t quotient = a / b, remainder = a % b;
      if (remainder != 0 && ((remainder < 0) != (b < 0))) {  // floor, as Python does
        --quotient;
        remainder += b;
      }
      return Value::integer(op == BinaryOp::kFloorDiv ? quotient : remainder);
    }
    case BinaryOp::kPow: {
      if (b < 0) return Value::number(std::pow(static_cast<double>(a), static_cast<double>(b)));
      int64_t power = 1, base = a;
      for (int64_t exponent = b; exponent > 0; exponent >>= 1) {  // square and multiply
        if ((exponent & 1) && __builtin_mul_overflow(power, base, &power)) return overflow();
        if (exponent > 1 && __builtin_mul_overflow(base, base, &base)) return overflow();
      }
      return Value::integer(power);
    }
    default:
      return Value::undefined();
  }
}

Expected<Value> float_operation(BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::kAdd:
      return Value::number(a + b);
    case BinaryOp::kSub:
      return Value::number(a - b);
    case BinaryOp::kMul:
      return Value::number(a * b);
    case BinaryOp::kDiv:
      if (b == 0) return zero_division("float division by zero");
      return Value::number(a / b);
    case BinaryOp::kFloorDiv:
      if (b == 0) return zero_division("float floor division by zero");
      return Value::number(std::floor(a / b));
    case BinaryOp::kMod: {
      if (b == 0) return zero_division("float modulo");
      double remainder = std::fmod(a, b);
      if (remainder != 0 && ((remainder < 0) != (b < 0))) remainder += b;
      return Value::number(remainder);
    }
    case BinaryOp::kPow:
      return Value::number(std::pow(a, b));
    default:
      return Value::undefined();
  }
}

Expected<Value> repeat(const Value& sequence, int64_t times) {
  if (times < 0) times = 0;
  // Nothing repeated is nothing, however often ('' * 10**18 must not loop).
  if ((sequence.is_string() && sequence.as_string().empty()) ||
      (!sequence.is_string() && sequence.items().empty()))
    times = 0;
  if (sequence.is_string()) {
    const std::string& text = sequence.as_string();
    if (!text.empty() && static_cast<uint64_t>(times) > kMaxBuiltSize / text.size())
      return Error{ErrorCode::kResourceExhausted, "MemoryError: repeated string too long"};
    std::string out;
    out.reserve(text.size() * static_cast<size_t>(times));
    for (int64_t i = 0; i < times; ++i) out += text;
    return Value::string(std::move(out), sequence.is_safe());
  }
  const List& items = sequence.items();
  if (!items.empty() && static_cast<uint64_t>(times) > kMaxBuiltItems / items.size())
    return Error{ErrorCode::kResourceExhausted, "MemoryError: repeated list too long"};
  List out;
  for (int64_t i = 0; i < times; ++i) out.insert(out.end(), items.begin(), items.end());
  return sequence.kind() == Kind::kTuple ? Value::tuple(std::move(out))
                                         : Value::list(std::move(out));
}

// markupsafe: Markup + str escapes the str, and the result stays Markup.
Expected<Value> add_strings(const Value& a, const Value& b) {
  if (a.as_string().size() + b.as_string().size() > kMaxBuiltSize)
    return too_large_text(a.as_string().size(), b.as_string().size());
  if (a.is_safe() == b.is_safe()) return Value::string(a.as_string() + b.as_string(), a.is_safe());
  const std::string left = a.is_safe() ? a.as_string() : escape_html(a.as_string());
  const std::string right = b.is_safe() ? b.as_string() : escape_html(b.as_string());
  return Value::string(left + right, /*safe=*/true);
}

}  // namespace

Error too_large(std::string_view what) {
  return Error{ErrorCode::kResourceExhausted,
               fmt::format("MemoryError: {} is more than a template may build", what)};
}

Expected<Value> binary_operation(BinaryOp op, const Value& a, const Value& b) {
  if (op == BinaryOp::kConcat) {
    std::string left = to_str(a), right = to_str(b);
    if (left.size() + right.size() > kMaxBuiltSize)
      return too_large_text(left.size(), right.size());
    return Value::string(left + right);
  }
  if (a.is_undefined()) return undefined_error(a);
  if (b.is_undefined()) return undefined_error(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return float_operation(op, a.as_float(), b.as_float());
    return integer_operation(op, a.as_int(), b.as_int());
  }
  switch (op) {
    case BinaryOp::kAdd:
      if (a.is_string() && b.is_string()) return add_strings(a, b);
      if (a.is_sequence() && a.kind() == b.kind()) {
        if (a.items().size() + b.items().size() > kMaxBuiltItems)
          return too_large(fmt::format("a list of {} items", a.items().size() + b.items().size()));
        List items = a.items();
        items.insert(items.end(), b.items().begin(), b.items().end());
        return a.kind() == Kind::kTuple ? Value::tuple(std::move(items))
                                        : Value::list(std::move(items));
      }
      if (a.is_string() && !a.is_safe())
        return type_error(
            fmt::format("can only concatenate str (not \"{}\") to str", b.type_name()));
      if (a.is_sequence())
        return type_error(fmt::format("can only concatenate {} (not \"{}\") to {}", a.type_name(),
                                      b.type_name(), a.type_name()));
      return unsupported(op, a, b);
    case BinaryOp::kMul:
      if ((a.is_string() || a.is_sequence()) && (b.is_int() || b.is_bool()))
        return repeat(a, b.as_int());
      if ((b.is_string() || b.is_sequence()) && (a.is_int() || a.is_bool()))
        return repeat(b, a.as_int());
      return unsupported(op, a, b);
    case BinaryOp::kMod:
      if (a.is_string()) {
        LOCARA_ASSIGN_OR_RETURN(std::string text, percent_format(a.as_string(), b));
        return Value::string(std::move(text), a.is_safe());
      }
      return unsupported(op, a, b);
    default:
      return unsupported(op, a, b);
  }
}

Expected<Value> unary_operation(UnaryOp op, const Value& operand) {
  if (operand.is_undefined()) return undefined_error(operand);
  if (!operand.is_number())
    return type_error(fmt::format("bad operand type for unary {}: '{}'",
                                  op == UnaryOp::kNegate ? "-" : "+", operand.type_name()));
  if (op == UnaryOp::kPlus) return operand.is_bool() ? Value::integer(operand.as_int()) : operand;
  if (operand.is_float()) return Value::number(-operand.as_float());
  if (operand.as_int() == INT64_MIN) return overflow();
  return Value::integer(-operand.as_int());
}

Expected<bool> contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Kind::kUndefined:
      return false;  // Undefined iterates as empty
    case Kind::kString:
      if (!item.is_string())
        return type_error(
            fmt::format("'in <string>' requires string as left operand, not {}", item.type_name()));
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Kind::kDict:
      return container.as_dict().find(item) != nullptr;
    case Kind::kList:
    case Kind::kTuple:
    case Kind::kIterator:
      for (const Value& element : container.items())
        if (equals(element, item)) return true;
      return false;
    default:
      return type_error(
          fmt::format("argument of type '{}' is not iterable", container.type_name()));
  }
}

Expected<bool> compare_values(CompareOp op, const Value& a, const Value& b) {
  switch (op) {
    case CompareOp::kEq:
      return equals(a, b);
    case CompareOp::kNe:
      return !equals(a, b);
    case CompareOp::kLt:
      return less_than(a, b);
    case CompareOp::kGt:
      return less_than(b, a);
    case CompareOp::kLe: {
      LOCARA_ASSIGN_OR_RETURN(bool greater, less_than(b, a));
      return !greater;
    }
    case CompareOp::kGe: {
      LOCARA_ASSIGN_OR_RETURN(bool less, less_than(a, b));
      return !less;
    }
    case CompareOp::kIn:
      return contains(b, a);
    case CompareOp::kNotIn: {
      LOCARA_ASSIGN_OR_RETURN(bool found, contains(b, a));
      return !found;
    }
  }
  return false;
}

}  // namespace locara::jinja
