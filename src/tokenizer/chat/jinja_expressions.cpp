// Expression evaluation and macro calls of the Interpreter (statements are in
// jinja_interpreter.cpp).
#include <fmt/format.h>

#include "tokenizer/chat/jinja_builtins.h"
#include "tokenizer/chat/jinja_interpreter.h"
#include "tokenizer/chat/jinja_operators.h"

namespace locara::jinja {
namespace {

// Python's recursion limit allows Jinja2 a few hundred nested macro calls; templates recurse
// a handful of levels (JSON schemas), and each level may hold an expression kMaxNesting deep,
// so this bounds the stack a render needs to a few megabytes at worst.
constexpr int kMaxCallDepth = 40;

bool is_hashable(const Value& key) {
  return !(key.kind() == Kind::kList || key.kind() == Kind::kDict ||
           key.kind() == Kind::kNamespace);
}

}  // namespace

Expected<Value> Interpreter::eval(const Expr& expr) {
  switch (expr.kind) {
    case ExprKind::kLiteral:
      return static_cast<const LiteralExpr&>(expr).value;
    case ExprKind::kName: {
      const std::string& name = static_cast<const NameExpr&>(expr).name;
      if (const Value* value = frame_->find(name)) return *value;
      return Value::undefined(fmt::format("'{}' is undefined", name));
    }
    case ExprKind::kList:
    case ExprKind::kTuple: {
      List items;
      for (const ExprPtr& item : static_cast<const SequenceExpr&>(expr).items) {
        LOCARA_ASSIGN_OR_RETURN(Value value, eval(*item));
        items.push_back(std::move(value));
      }
      return expr.kind == ExprKind::kList ? Value::list(std::move(items))
                                          : Value::tuple(std::move(items));
    }
    case ExprKind::kDict: {
      Dict dict;
      for (const auto& [key_expr, value_expr] : static_cast<const DictExpr&>(expr).entries) {
        LOCARA_ASSIGN_OR_RETURN(Value key, eval(*key_expr));
        if (!is_hashable(key))
          return with_position(key_expr->pos,
                               type_error(fmt::format("unhashable type: '{}'", key.type_name())));
        LOCARA_ASSIGN_OR_RETURN(Value value, eval(*value_expr));
        dict.set(std::move(key), std::move(value));
      }
      return Value::dict(std::move(dict));
    }
    case ExprKind::kAttribute: {
      const auto& attribute = static_cast<const AttributeExpr&>(expr);
      LOCARA_ASSIGN_OR_RETURN(Value object, eval(*attribute.object));
      auto result = get_attribute(object, attribute.name);
      if (!result) return with_position(expr.pos, result.error());
      return result;
    }
    case ExprKind::kItem: {
      const auto& item = static_cast<const ItemExpr&>(expr);
      LOCARA_ASSIGN_OR_RETURN(Value object, eval(*item.object));
      LOCARA_ASSIGN_OR_RETURN(Value key, eval(*item.index));
      auto result = get_item(object, key);
      if (!result) return with_position(expr.pos, result.error());
      return result;
    }
    case ExprKind::kSlice: {
      const auto& slice = static_cast<const SliceExpr&>(expr);
      LOCARA_ASSIGN_OR_RETURN(Value object, eval(*slice.object));
      Value parts[3] = {Value::none(), Value::none(), Value::none()};
      const ExprPtr* part_exprs[3] = {&slice.start, &slice.stop, &slice.step};
      for (int i = 0; i < 3; ++i) {
        if (*part_exprs[i]) {
          LOCARA_ASSIGN_OR_RETURN(parts[i], eval(**part_exprs[i]));
        }
      }
      auto result = get_slice(object, parts[0], parts[1], parts[2]);
      if (!result) return with_position(expr.pos, result.error());
      return result;
    }
    case ExprKind::kCall:
      return eval_call(static_cast<const CallExpr&>(expr), nullptr);
    case ExprKind::kFilter: {
      const auto& filter = static_cast<const FilterExpr&>(expr);
      LOCARA_ASSIGN_OR_RETURN(Value input, eval(*filter.value));
      return eval_filter(filter, std::move(input));
    }
    case ExprKind::kTest:
      return eval_test(static_cast<const TestExpr&>(expr));
    case ExprKind::kUnary: {
      const auto& unary = static_cast<const UnaryExpr&>(expr);
      LOCARA_ASSIGN_OR_RETURN(Value operand, eval(*unary.operand));
      if (unary.op == UnaryOp::kNot) return Value::boolean(!operand.truthy());
      auto result = unary_operation(unary.op, operand);
      if (!result) return with_position(expr.pos, result.error());
      return result;
    }
    case ExprKind::kBinary: {
      const auto& binary = static_cast<const BinaryExpr&>(expr);
      LOCARA_ASSIGN_OR_RETURN(Value left, eval(*binary.left));
      if (binary.op == BinaryOp::kAnd) return left.truthy() ? eval(*binary.right) : left;
      if (binary.op == BinaryOp::kOr) return left.truthy() ? left : eval(*binary.right);
      LOCARA_ASSIGN_OR_RETURN(Value right, eval(*binary.right));
      auto result = binary_operation(binary.op, left, right);
      if (!result) return with_position(expr.pos, result.error());
      return result;
    }
    case ExprKind::kCompare:
      return eval_compare(static_cast<const CompareExpr&>(expr));
    case ExprKind::kConditional: {
      const auto& conditional = static_cast<const ConditionalExpr&>(expr);
      LOCARA_ASSIGN_OR_RETURN(Value test, eval(*conditional.test));
      if (test.truthy()) return eval(*conditional.if_true);
      if (conditional.if_false) return eval(*conditional.if_false);
      return Value::undefined(
          fmt::format("the inline if-expression on line {} evaluated to false and no else "
                      "section was defined.",
                      expr.pos.line));
    }
  }
  return Value::undefined();
}

Expected<CallArgs> Interpreter::eval_args(const ArgumentList& list) {
  CallArgs args;
  for (const ExprPtr& arg : list.positional) {
    LOCARA_ASSIGN_OR_RETURN(Value value, eval(*arg));
    args.positional.push_back(std::move(value));
  }
  if (list.star_args) {
    LOCARA_ASSIGN_OR_RETURN(Value extra, eval(*list.star_args));
    auto items = iterate(extra);
    if (!items) return with_position(list.star_args->pos, items.error());
    for (Value& item : *items) args.positional.push_back(std::move(item));
  }
  for (const auto& [name, arg] : list.keyword) {
    LOCARA_ASSIGN_OR_RETURN(Value value, eval(*arg));
    args.keyword.emplace_back(name, std::move(value));
  }
  if (list.star_kwargs) {
    LOCARA_ASSIGN_OR_RETURN(Value extra, eval(*list.star_kwargs));
    if (!extra.is_dict())
      return with_position(list.star_kwargs->pos,
                           type_error(fmt::format("argument after ** must be a mapping, not {}",
                                                  extra.type_name())));
    for (const auto& [key, value] : extra.as_dict().entries()) {
      if (!key.is_string())
        return with_position(list.star_kwargs->pos, type_error("keywords must be strings"));
      args.keyword.emplace_back(key.as_string(), value);
    }
  }
  return args;
}

Expected<Value> Interpreter::eval_call(const CallExpr& call, const Value* caller) {
  LOCARA_ASSIGN_OR_RETURN(Value callee, eval(*call.callee));
  LOCARA_ASSIGN_OR_RETURN(CallArgs args, eval_args(call.args));
  if (caller) args.keyword.emplace_back("caller", *caller);
  if (callee.is_undefined()) return with_position(call.pos, undefined_error(callee));
  if (!callee.is_callable())
    return with_position(
        call.pos, type_error(fmt::format("'{}' object is not callable", callee.type_name())));
  auto result = callee.as_callable().call(std::move(args), *this);
  if (!result) return with_position(call.pos, result.error());
  return result;
}

Expected<Value> Interpreter::eval_filter(const FilterExpr& filter, Value input) {
  LOCARA_ASSIGN_OR_RETURN(CallArgs args, eval_args(filter.args));
  auto result = filter.filter(std::move(input), args);
  if (!result) return with_position(filter.pos, result.error());
  return result;
}

Expected<Value> Interpreter::eval_test(const TestExpr& test) {
  LOCARA_ASSIGN_OR_RETURN(Value value, eval(*test.value));
  LOCARA_ASSIGN_OR_RETURN(CallArgs args, eval_args(test.args));
  auto result = test.test(value, args);
  if (!result) return with_position(test.pos, result.error());
  return Value::boolean(*result != test.negated);
}

Expected<Value> Interpreter::eval_compare(const CompareExpr& compare) {
  LOCARA_ASSIGN_OR_RETURN(Value left, eval(*compare.first));
  for (const auto& [op, operand] : compare.rest) {
    LOCARA_ASSIGN_OR_RETURN(Value right, eval(*operand));
    auto holds = compare_values(op, left, right);
    if (!holds) return with_position(operand->pos, holds.error());
    if (!*holds) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

Expected<Value> Interpreter::call_macro(const MacroNode& macro,
                                        const std::shared_ptr<Frame>& closure, CallArgs args) {
  if (call_depth_ >= kMaxCallDepth)
    return error_at(macro.pos, fmt::format("RecursionError: macro '{}' nested more than {} "
                                           "calls deep",
                                           macro.name, kMaxCallDepth));
  if (Status step = count_step(); !step) return with_position(macro.pos, step.error());
  const auto fail = [&](std::string message) {
    return with_position(macro.pos, type_error(fmt::format("macro '{}' {}", macro.name, message)));
  };
  auto frame = std::make_shared<Frame>(closure);
  const size_t n_params = macro.params.size();
  if (args.positional.size() > n_params && !macro.uses_varargs)
    return fail(fmt::format("takes not more than {} argument(s)", n_params));
  // Keyword arguments: parameters by name, then caller / kwargs.
  std::vector<const Value*> by_name(n_params, nullptr);
  Dict extra_keywords;
  for (const auto& [name, value] : args.keyword) {
    size_t i = 0;
    while (i < n_params && macro.params[i].name != name) ++i;
    if (i < n_params) {
      if (i < args.positional.size())
        return fail(fmt::format("got multiple values for argument '{}'", name));
      by_name[i] = &value;
    } else if (name == "caller" && macro.uses_caller) {
      frame->set("caller", value);
    } else if (macro.uses_kwargs) {
      extra_keywords.set(Value::string(name), value);
    } else {
      return fail(fmt::format("takes no keyword argument '{}'", name));
    }
  }
  // Parameters in order; a default may refer to the parameters before it.
  for (size_t i = 0; i < n_params; ++i) {
    const MacroParam& param = macro.params[i];
    if (i < args.positional.size()) {
      frame->set(param.name, args.positional[i]);
    } else if (by_name[i]) {
      frame->set(param.name, *by_name[i]);
    } else if (param.default_value) {
      std::swap(frame_, frame);
      auto value = eval(*param.default_value);
      std::swap(frame_, frame);
      if (!value) return value.error();
      frame->set(param.name, std::move(*value));
    } else {
      frame->set(param.name,
                 Value::undefined(fmt::format("parameter '{}' was not provided", param.name)));
    }
  }
  if (macro.uses_varargs) {
    List rest;
    for (size_t i = n_params; i < args.positional.size(); ++i) rest.push_back(args.positional[i]);
    frame->set("varargs", Value::tuple(std::move(rest)));
  }
  if (macro.uses_kwargs) frame->set("kwargs", Value::dict(std::move(extra_keywords)));
  std::string out;
  std::swap(frame_, frame);
  ++call_depth_;
  auto flow = exec_body(macro.body, &out);
  --call_depth_;
  std::swap(frame_, frame);
  if (!flow) return flow.error();
  return Value::string(std::move(out));
}

}  // namespace locara::jinja
