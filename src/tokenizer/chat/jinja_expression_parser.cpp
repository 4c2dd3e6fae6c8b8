// The expression half of the parser: Jinja2's precedence climbing from conditional
// expressions down to literals, with postfix access, calls, filters and tests.
#include "tokenizer/chat/jinja_parser_impl.h"

namespace locara::jinja {

// a, b, c as a tuple; a single expression stays itself. explicit_parens allows "()".
Expected<ExprPtr> Parser::parse_tuple(bool with_condexpr, bool explicit_parens) {
  const SourcePos pos = cur().pos;
  std::vector<ExprPtr> items;
  bool is_tuple = false;
  while (true) {
    if (!items.empty()) LOCARA_RETURN_IF_ERROR(expect_op(","));
    const Token& t = cur();
    if (t.type == TokenType::kVariableEnd || t.type == TokenType::kBlockEnd || is_op(t, ")") ||
        is_name(t, "if") || is_name(t, "recursive"))
      break;
    LOCARA_ASSIGN_OR_RETURN(ExprPtr item, parse_expression(with_condexpr));
    items.push_back(std::move(item));
    if (!is_op(cur(), ",")) break;
    is_tuple = true;
  }
  if (!is_tuple) {
    if (!items.empty()) return std::move(items[0]);
    if (!explicit_parens) return unexpected("an expression");
  }
  auto tuple = std::make_unique<SequenceExpr>(ExprKind::kTuple, pos);
  tuple->items = std::move(items);
  return ExprPtr(std::move(tuple));
}

Expected<ExprPtr> Parser::parse_expression(bool with_condexpr) {
  if (!with_condexpr) return parse_or();
  LOCARA_ASSIGN_OR_RETURN(ExprPtr expr, parse_or());
  ChainGuard chain(&depth_);
  while (is_name(cur(), "if")) {
    chain.link();
    LOCARA_RETURN_IF_ERROR(check_depth());
    auto cond = std::make_unique<ConditionalExpr>(cur().pos);
    advance();
    LOCARA_ASSIGN_OR_RETURN(cond->test, parse_or());
    if (skip_name("else")) {
      LOCARA_ASSIGN_OR_RETURN(cond->if_false, parse_expression(true));
    }
    cond->if_true = std::move(expr);
    expr = std::move(cond);
  }
  return expr;
}

Expected<ExprPtr> Parser::parse_or() {
  LOCARA_ASSIGN_OR_RETURN(ExprPtr left, parse_and());
  ChainGuard chain(&depth_);
  while (is_name(cur(), "or")) {
    chain.link();
    LOCARA_RETURN_IF_ERROR(check_depth());
    const SourcePos pos = cur().pos;
    advance();
    LOCARA_ASSIGN_OR_RETURN(ExprPtr right, parse_and());
    left = std::make_unique<BinaryExpr>(pos, BinaryOp::kOr, std::move(left), std::move(right));
  }
  return left;
}

Expected<ExprPtr> Parser::parse_and() {
  LOCARA_ASSIGN_OR_RETURN(ExprPtr left, parse_not());
  ChainGuard chain(&depth_);
  while (is_name(cur(), "and")) {
    chain.link();
    LOCARA_RETURN_IF_ERROR(check_depth());
    const SourcePos pos = cur().pos;
    advance();
    LOCARA_ASSIGN_OR_RETURN(ExprPtr right, parse_not());
    left = std::make_unique<BinaryExpr>(pos, BinaryOp::kAnd, std::move(left), std::move(right));
  }
  return left;
}

Expected<ExprPtr> Parser::parse_not() {
  if (!is_name(cur(), "not")) return parse_compare();
  DepthGuard guard(&depth_);
  LOCARA_RETURN_IF_ERROR(check_depth());
  const SourcePos pos = cur().pos;
  advance();
  LOCARA_ASSIGN_OR_RETURN(ExprPtr operand, parse_not());
  return ExprPtr(std::make_unique<UnaryExpr>(pos, UnaryOp::kNot, std::move(operand)));
}

Expected<ExprPtr> Parser::parse_compare() {
  const SourcePos pos = cur().pos;
  LOCARA_ASSIGN_OR_RETURN(ExprPtr first, parse_binary(0));
  std::unique_ptr<CompareExpr> compare;
  while (true) {
    CompareOp op;
    const Token& t = cur();
    if (is_op(t, "==")) {
      op = CompareOp::kEq;
    } else if (is_op(t, "!=")) {
      op = CompareOp::kNe;
    } else if (is_op(t, "<")) {
      op = CompareOp::kLt;
    } else if (is_op(t, "<=")) {
      op = CompareOp::kLe;
    } else if (is_op(t, ">")) {
      op = CompareOp::kGt;
    } else if (is_op(t, ">=")) {
      op = CompareOp::kGe;
    } else if (is_name(t, "in")) {
      op = CompareOp::kIn;
    } else if (is_name(t, "not") && is_name(peek(), "in")) {
      op = CompareOp::kNotIn;
      advance();
    } else {
      break;
    }
    advance();
    LOCARA_ASSIGN_OR_RETURN(ExprPtr operand, parse_binary(0));
    if (!compare) compare = std::make_unique<CompareExpr>(pos, std::move(first));
    compare->rest.emplace_back(op, std::move(operand));
  }
  if (compare) return ExprPtr(std::move(compare));
  return first;
}

// The arithmetic levels, loosest first: + -, then ~, then * / // %, then **.
Expected<ExprPtr> Parser::parse_binary(int level) {
  static constexpr std::pair<std::string_view, BinaryOp> kLevels[4][4] = {
      {{"+", BinaryOp::kAdd}, {"-", BinaryOp::kSub}, {"", {}}, {"", {}}},
      {{"~", BinaryOp::kConcat}, {"", {}}, {"", {}}, {"", {}}},
      {{"*", BinaryOp::kMul},
       {"/", BinaryOp::kDiv},
       {"//", BinaryOp::kFloorDiv},
       {"%", BinaryOp::kMod}},
      {{"**", BinaryOp::kPow}, {"", {}}, {"", {}}, {"", {}}},
  };
  if (level == 4) return parse_unary(true);
  LOCARA_ASSIGN_OR_RETURN(ExprPtr left, parse_binary(level + 1));
  ChainGuard chain(&depth_);
  while (true) {
    const BinaryOp* op = nullptr;
    for (const auto& [text, binary] : kLevels[level])
      if (!text.empty() && is_op(cur(), text)) op = &binary;
    if (!op) return left;
    chain.link();
    LOCARA_RETURN_IF_ERROR(check_depth());
    const SourcePos pos = cur().pos;
    advance();
    LOCARA_ASSIGN_OR_RETURN(ExprPtr right, parse_binary(level + 1));
    left = std::make_unique<BinaryExpr>(pos, *op, std::move(left), std::move(right));
  }
}

Expected<ExprPtr> Parser::parse_unary(bool with_filter) {
  DepthGuard guard(&depth_);
  LOCARA_RETURN_IF_ERROR(check_depth());
  const SourcePos pos = cur().pos;
  ExprPtr node;
  if (is_op(cur(), "-") || is_op(cur(), "+")) {
    const UnaryOp op = is_op(cur(), "-") ? UnaryOp::kNegate : UnaryOp::kPlus;
    advance();
    LOCARA_ASSIGN_OR_RETURN(ExprPtr operand, parse_unary(false));
    node = std::make_unique<UnaryExpr>(pos, op, std::move(operand));
  } else {
    LOCARA_ASSIGN_OR_RETURN(node, parse_primary());
  }
  LOCARA_ASSIGN_OR_RETURN(node, parse_postfix(std::move(node)));
  if (with_filter) return parse_filter_expr(std::move(node));
  return node;
}

Expected<ExprPtr> Parser::parse_primary() {
  const Token& t = cur();
  switch (t.type) {
    case TokenType::kName: {
      advance();
      if (t.text == "true" || t.text == "True")
        return ExprPtr(std::make_unique<LiteralExpr>(t.pos, Value::boolean(true)));
      if (t.text == "false" || t.text == "False")
        return ExprPtr(std::make_unique<LiteralExpr>(t.pos, Value::boolean(false)));
      if (t.text == "none" || t.text == "None")
        return ExprPtr(std::make_unique<LiteralExpr>(t.pos, Value::none()));
      if (!macros_.empty()) {
        MacroNode* macro = macros_.back();
        macro->uses_varargs |= t.text == "varargs";
        macro->uses_kwargs |= t.text == "kwargs";
        macro->uses_caller |= t.text == "caller";
      }
      return ExprPtr(std::make_unique<NameExpr>(t.pos, t.text));
    }
    case TokenType::kString: {
      std::string text;
      while (cur().type == TokenType::kString) {  // adjacent literals concatenate
        text += cur().text;
        advance();
      }
      return ExprPtr(std::make_unique<LiteralExpr>(t.pos, Value::string(std::move(text))));
    }
    case TokenType::kInteger:
      advance();
      return ExprPtr(std::make_unique<LiteralExpr>(t.pos, Value::integer(t.integer)));
    case TokenType::kFloat:
      advance();
      return ExprPtr(std::make_unique<LiteralExpr>(t.pos, Value::number(t.real)));
    case TokenType::kOperator:
      if (t.text == "(") {
        advance();
        LOCARA_ASSIGN_OR_RETURN(ExprPtr inner, parse_tuple(true, true));
        LOCARA_RETURN_IF_ERROR(expect_op(")"));
        return inner;
      }
      if (t.text == "[") return parse_list();
      if (t.text == "{") return parse_dict();
      break;
    default:
      break;
  }
  return fail(t, fmt::format("unexpected {}", describe(t)));
}

Expected<ExprPtr> Parser::parse_list() {
  auto list = std::make_unique<SequenceExpr>(ExprKind::kList, cur().pos);
  advance();
  while (!skip_op("]")) {
    if (!list->items.empty()) LOCARA_RETURN_IF_ERROR(expect_op(","));
    if (skip_op("]")) break;
    LOCARA_ASSIGN_OR_RETURN(ExprPtr item, parse_expression(true));
    list->items.push_back(std::move(item));
  }
  return ExprPtr(std::move(list));
}

Expected<ExprPtr> Parser::parse_dict() {
  auto dict = std::make_unique<DictExpr>(cur().pos);
  advance();
  while (!skip_op("}")) {
    if (!dict->entries.empty()) LOCARA_RETURN_IF_ERROR(expect_op(","));
    if (skip_op("}")) break;
    LOCARA_ASSIGN_OR_RETURN(ExprPtr key, parse_expression(true));
    LOCARA_RETURN_IF_ERROR(expect_op(":"));
    LOCARA_ASSIGN_OR_RETURN(ExprPtr value, parse_expression(true));
    dict->entries.emplace_back(std::move(key), std::move(value));
  }
  return ExprPtr(std::move(dict));
}

Expected<ExprPtr> Parser::parse_postfix(ExprPtr node) {
  ChainGuard chain(&depth_);
  while (true) {
    chain.link();
    LOCARA_RETURN_IF_ERROR(check_depth());
    const SourcePos pos = cur().pos;
    if (skip_op(".")) {
      if (cur().type == TokenType::kName) {
        node = std::make_unique<AttributeExpr>(pos, std::move(node), cur().text);
      } else if (cur().type == TokenType::kInteger) {  // x.0 is x[0]
        auto index = std::make_unique<LiteralExpr>(pos, Value::integer(cur().integer));
        node = std::make_unique<ItemExpr>(pos, std::move(node), std::move(index));
      } else {
        return unexpected("an attribute name");
      }
      advance();
    } else if (skip_op("[")) {
      LOCARA_ASSIGN_OR_RETURN(node, parse_subscript(pos, std::move(node)));
    } else if (is_op(cur(), "(")) {
      LOCARA_ASSIGN_OR_RETURN(node, parse_call(std::move(node)));
    } else {
      return node;
    }
  }
}

// After '[': an index, or a slice start:stop:step with any part left out.
Expected<ExprPtr> Parser::parse_subscript(SourcePos pos, ExprPtr object) {
  ExprPtr start;
  if (!is_op(cur(), ":")) {
    LOCARA_ASSIGN_OR_RETURN(start, parse_expression(true));
    if (skip_op("]"))
      return ExprPtr(std::make_unique<ItemExpr>(pos, std::move(object), std::move(start)));
  }
  LOCARA_RETURN_IF_ERROR(expect_op(":"));
  auto slice = std::make_unique<SliceExpr>(pos, std::move(object));
  slice->start = std::move(start);
  if (!is_op(cur(), "]") && !is_op(cur(), ":")) {
    LOCARA_ASSIGN_OR_RETURN(slice->stop, parse_expression(true));
  }
  if (skip_op(":") && !is_op(cur(), "]")) {
    LOCARA_ASSIGN_OR_RETURN(slice->step, parse_expression(true));
  }
  LOCARA_RETURN_IF_ERROR(expect_op("]"));
  return ExprPtr(std::move(slice));
}

Status Parser::parse_arguments(ArgumentList* args) {
  LOCARA_RETURN_IF_ERROR(expect_op("("));
  bool first = true;
  while (!skip_op(")")) {
    if (!first) LOCARA_RETURN_IF_ERROR(expect_op(","));
    first = false;
    if (skip_op(")")) break;
    if (skip_op("**")) {
      LOCARA_ASSIGN_OR_RETURN(args->star_kwargs, parse_expression(true));
    } else if (skip_op("*")) {
      LOCARA_ASSIGN_OR_RETURN(args->star_args, parse_expression(true));
    } else if (cur().type == TokenType::kName && is_op(peek(), "=")) {
      std::string name = cur().text;
      advance();
      advance();
      LOCARA_ASSIGN_OR_RETURN(ExprPtr value, parse_expression(true));
      args->keyword.emplace_back(std::move(name), std::move(value));
    } else {
      LOCARA_ASSIGN_OR_RETURN(ExprPtr value, parse_expression(true));
      args->positional.push_back(std::move(value));
    }
  }
  return ok_status();
}

Expected<ExprPtr> Parser::parse_call(ExprPtr callee) {
  const SourcePos pos = callee->pos;  // errors point at what was called
  auto call = std::make_unique<CallExpr>(pos, std::move(callee));
  LOCARA_RETURN_IF_ERROR(parse_arguments(&call->args));
  return ExprPtr(std::move(call));
}

Expected<std::string> Parser::parse_dotted_name() {
  LOCARA_ASSIGN_OR_RETURN(std::string name, expect_identifier());
  while (skip_op(".")) {
    LOCARA_ASSIGN_OR_RETURN(std::string part, expect_identifier());
    name += "." + part;
  }
  return name;
}

Expected<std::unique_ptr<FilterExpr>> Parser::parse_filter(ExprPtr value) {
  const Token& at = cur();
  LOCARA_ASSIGN_OR_RETURN(std::string name, parse_dotted_name());
  const FilterFn filter = find_filter(name);
  if (!filter)
    return error_at(at.pos, fmt::format("TemplateAssertionError: No filter named '{}'.", name));
  auto node = std::make_unique<FilterExpr>(at.pos, std::move(value), std::move(name), filter);
  if (is_op(cur(), "(")) LOCARA_RETURN_IF_ERROR(parse_arguments(&node->args));
  return node;
}

// name(args) | name | ... with no input: for {% filter %} and {% set x | f %}.
Status Parser::parse_filter_chain(std::vector<std::unique_ptr<FilterExpr>>* filters) {
  do {
    LOCARA_ASSIGN_OR_RETURN(auto filter, parse_filter(nullptr));
    filters->push_back(std::move(filter));
  } while (skip_op("|"));
  return ok_status();
}

Expected<ExprPtr> Parser::parse_filter_expr(ExprPtr node) {
  ChainGuard chain(&depth_);
  while (true) {
    chain.link();
    LOCARA_RETURN_IF_ERROR(check_depth());
    if (skip_op("|")) {
      LOCARA_ASSIGN_OR_RETURN(node, parse_filter(std::move(node)));
    } else if (is_name(cur(), "is")) {
      advance();
      LOCARA_ASSIGN_OR_RETURN(node, parse_test(std::move(node)));
    } else if (is_op(cur(), "(")) {
      LOCARA_ASSIGN_OR_RETURN(node, parse_call(std::move(node)));
    } else {
      return node;
    }
  }
}

// After 'is': [not] name, then (args) or one bare argument (`is divisibleby 3`).
Expected<ExprPtr> Parser::parse_test(ExprPtr value) {
  const bool negated = skip_name("not");
  const Token& at = cur();
  LOCARA_ASSIGN_OR_RETURN(std::string name, parse_dotted_name());
  const TestFn test = find_test(name);
  if (!test)
    return error_at(at.pos, fmt::format("TemplateAssertionError: No test named '{}'.", name));
  auto node = std::make_unique<TestExpr>(at.pos, std::move(value), std::move(name), test);
  node->negated = negated;
  const Token& t = cur();
  if (is_op(t, "(")) {
    LOCARA_RETURN_IF_ERROR(parse_arguments(&node->args));
  } else if ((t.type == TokenType::kName && t.text != "else" && t.text != "or" &&
              t.text != "and") ||
             t.type == TokenType::kString || t.type == TokenType::kInteger ||
             t.type == TokenType::kFloat || is_op(t, "[") || is_op(t, "{")) {
    if (is_name(t, "is")) return fail(t, "tests cannot be chained with 'is'");
    LOCARA_ASSIGN_OR_RETURN(ExprPtr arg, parse_primary());
    LOCARA_ASSIGN_OR_RETURN(arg, parse_postfix(std::move(arg)));
    node->args.positional.push_back(std::move(arg));
  }
  return ExprPtr(std::move(node));
}

}  // namespace locara::jinja
