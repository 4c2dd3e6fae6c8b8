// The statement half of the parser ({% if %}, {% for %}, {% set %}, macros ...) and the entry
// point.
#include "tokenizer/chat/jinja_parser.h"

#include "tokenizer/chat/jinja_parser_impl.h"

namespace locara::jinja {

// Parses nodes until EOF (end_tags empty) or `{% tag` with tag in end_tags, leaving the
// cursor on that tag's name.
Status Parser::parse_body(Body* body, std::initializer_list<std::string_view> end_tags,
                          std::string* ended_by) {
  DepthGuard guard(&depth_);
  LOCARA_RETURN_IF_ERROR(check_depth());
  while (true) {
    const Token& t = cur();
    switch (t.type) {
      case TokenType::kText:
        body->push_back(std::make_unique<TextNode>(t.pos, t.text));
        advance();
        break;
      case TokenType::kVariableBegin: {
        advance();
        LOCARA_ASSIGN_OR_RETURN(ExprPtr expr, parse_tuple(true, false));
        if (cur().type != TokenType::kVariableEnd) return unexpected("end of print statement");
        advance();
        body->push_back(std::make_unique<OutputNode>(t.pos, std::move(expr)));
        break;
      }
      case TokenType::kBlockBegin: {
        const Token& tag = peek();
        if (tag.type != TokenType::kName) return fail(tag, "expected a tag name");
        for (std::string_view end : end_tags) {
          if (tag.text == end) {
            advance();
            *ended_by = tag.text;
            return ok_status();
          }
        }
        advance();
        LOCARA_RETURN_IF_ERROR(parse_statement(body));
        break;
      }
      case TokenType::kEnd:
        if (end_tags.size() == 0) return ok_status();
        return fail(
            t, fmt::format("unexpected end of template, expected '{}'", *(end_tags.end() - 1)));
      default:
        return fail(t, fmt::format("unexpected {}", describe(t)));
    }
  }
}

Status Parser::parse_statement(Body* body) {
  const Token& tag = cur();
  const SourcePos pos = tag.pos;
  const std::string name = tag.text;
  advance();
  if (name == "if") return parse_if(pos, body);
  if (name == "for") return parse_for(pos, body);
  if (name == "set") return parse_set(pos, body);
  if (name == "macro") return parse_macro(pos, body);
  if (name == "call") return parse_call_block(pos, body);
  if (name == "filter") return parse_filter_block(pos, body);
  if (name == "with" || name == "generation") return parse_with(pos, name, body);
  if (name == "break" || name == "continue") {
    if (loop_depth_ == 0) return fail(tag, fmt::format("'{}' outside of a loop", name));
    LOCARA_RETURN_IF_ERROR(expect_block_end());
    body->push_back(std::make_unique<LoopControlNode>(
        name == "break" ? NodeKind::kBreak : NodeKind::kContinue, pos));
    return ok_status();
  }
  return fail(tag, fmt::format("encountered unknown tag '{}'", name));
}

// Parses `{% end_tag %}` after parse_body stopped on it.
Status Parser::finish_block() {
  advance();  // the end tag's name
  return expect_block_end();
}

Status Parser::parse_if(SourcePos pos, Body* body) {
  auto node = std::make_unique<IfNode>(pos);
  std::string ended_by = "elif";
  while (ended_by == "elif") {
    LOCARA_ASSIGN_OR_RETURN(ExprPtr condition, parse_tuple(false, false));
    LOCARA_RETURN_IF_ERROR(expect_block_end());
    Body branch;
    LOCARA_RETURN_IF_ERROR(parse_body(&branch, {"elif", "else", "endif"}, &ended_by));
    node->branches.emplace_back(std::move(condition), std::move(branch));
    advance();  // elif / else / endif
  }
  if (ended_by == "else") {
    LOCARA_RETURN_IF_ERROR(expect_block_end());
    LOCARA_RETURN_IF_ERROR(parse_body(&node->else_body, {"endif"}, &ended_by));
    advance();
  }
  LOCARA_RETURN_IF_ERROR(expect_block_end());
  body->push_back(std::move(node));
  return ok_status();
}

// Names for `for` and `set`: a, or a, b, or (a, b); with_namespace allows ns.attr.
Expected<AssignTarget> Parser::parse_assign_target(bool with_namespace) {
  AssignTarget target;
  target.pos = cur().pos;
  if (with_namespace && cur().type == TokenType::kName && is_op(peek(), ".")) {
    target.names.push_back(cur().text);
    advance();
    advance();
    LOCARA_ASSIGN_OR_RETURN(target.attribute, expect_identifier());
    return target;
  }
  const bool parenthesized = skip_op("(");
  while (true) {
    LOCARA_ASSIGN_OR_RETURN(std::string name, expect_identifier());
    target.names.push_back(std::move(name));
    if (!skip_op(",")) break;
    target.unpack = true;
    if (cur().type != TokenType::kName) break;  // trailing comma
  }
  if (parenthesized) {
    target.unpack = true;
    LOCARA_RETURN_IF_ERROR(expect_op(")"));
  }
  return target;
}

Status Parser::parse_for(SourcePos pos, Body* body) {
  auto node = std::make_unique<ForNode>(pos);
  LOCARA_ASSIGN_OR_RETURN(node->target, parse_assign_target(false));
  if (!skip_name("in")) return unexpected("'in'");
  LOCARA_ASSIGN_OR_RETURN(node->iterable, parse_tuple(false, false));
  if (skip_name("if")) {
    LOCARA_ASSIGN_OR_RETURN(node->condition, parse_expression(true));
  }
  if (is_name(cur(), "recursive")) return fail(cur(), "recursive loops are not supported");
  LOCARA_RETURN_IF_ERROR(expect_block_end());
  std::string ended_by;
  ++loop_depth_;
  const Status status = parse_body(&node->body, {"else", "endfor"}, &ended_by);
  --loop_depth_;
  LOCARA_RETURN_IF_ERROR(status);
  if (ended_by == "else") {
    advance();
    LOCARA_RETURN_IF_ERROR(expect_block_end());
    LOCARA_RETURN_IF_ERROR(parse_body(&node->else_body, {"endfor"}, &ended_by));
  }
  LOCARA_RETURN_IF_ERROR(finish_block());
  body->push_back(std::move(node));
  return ok_status();
}

Status Parser::parse_set(SourcePos pos, Body* body) {
  LOCARA_ASSIGN_OR_RETURN(AssignTarget target, parse_assign_target(true));
  if (skip_op("=")) {
    auto node = std::make_unique<SetNode>(pos);
    node->target = std::move(target);
    LOCARA_ASSIGN_OR_RETURN(node->value, parse_tuple(true, false));
    LOCARA_RETURN_IF_ERROR(expect_block_end());
    body->push_back(std::move(node));
    return ok_status();
  }
  auto node = std::make_unique<SetBlockNode>(pos);
  node->target = std::move(target);
  if (skip_op("|")) LOCARA_RETURN_IF_ERROR(parse_filter_chain(&node->filters));
  LOCARA_RETURN_IF_ERROR(expect_block_end());
  std::string ended_by;
  LOCARA_RETURN_IF_ERROR(parse_body(&node->body, {"endset"}, &ended_by));
  LOCARA_RETURN_IF_ERROR(finish_block());
  body->push_back(std::move(node));
  return ok_status();
}

Status Parser::parse_params(std::vector<MacroParam>* params) {
  LOCARA_RETURN_IF_ERROR(expect_op("("));
  while (!skip_op(")")) {
    if (!params->empty()) LOCARA_RETURN_IF_ERROR(expect_op(","));
    if (skip_op(")")) break;
    MacroParam param;
    LOCARA_ASSIGN_OR_RETURN(param.name, expect_identifier());
    if (skip_op("=")) {
      LOCARA_ASSIGN_OR_RETURN(param.default_value, parse_expression(true));
    }
    params->push_back(std::move(param));
  }
  return ok_status();
}

// Parses a macro's body with its own loop and name-usage tracking.
Status Parser::parse_macro_body(MacroNode* macro, std::string_view end_tag) {
  const int saved_loop_depth = loop_depth_;
  loop_depth_ = 0;
  macros_.push_back(macro);
  std::string ended_by;
  const Status status = end_tag == "endmacro" ? parse_body(&macro->body, {"endmacro"}, &ended_by)
                                              : parse_body(&macro->body, {"endcall"}, &ended_by);
  macros_.pop_back();
  loop_depth_ = saved_loop_depth;
  LOCARA_RETURN_IF_ERROR(status);
  return finish_block();
}

Status Parser::parse_macro(SourcePos pos, Body* body) {
  auto node = std::make_unique<MacroNode>(pos);
  LOCARA_ASSIGN_OR_RETURN(node->name, expect_identifier());
  LOCARA_RETURN_IF_ERROR(parse_params(&node->params));
  LOCARA_RETURN_IF_ERROR(expect_block_end());
  LOCARA_RETURN_IF_ERROR(parse_macro_body(node.get(), "endmacro"));
  body->push_back(std::move(node));
  return ok_status();
}

Status Parser::parse_call_block(SourcePos pos, Body* body) {
  auto node = std::make_unique<CallBlockNode>(pos);
  node->caller = std::make_unique<MacroNode>(pos);
  node->caller->name = "caller";
  if (is_op(cur(), "(")) LOCARA_RETURN_IF_ERROR(parse_params(&node->caller->params));
  const Token& at = cur();
  LOCARA_ASSIGN_OR_RETURN(ExprPtr call, parse_expression(true));
  if (call->kind != ExprKind::kCall) return fail(at, "expected a call");
  node->call.reset(static_cast<CallExpr*>(call.release()));
  LOCARA_RETURN_IF_ERROR(expect_block_end());
  LOCARA_RETURN_IF_ERROR(parse_macro_body(node->caller.get(), "endcall"));
  body->push_back(std::move(node));
  return ok_status();
}

Status Parser::parse_filter_block(SourcePos pos, Body* body) {
  auto node = std::make_unique<FilterBlockNode>(pos);
  LOCARA_RETURN_IF_ERROR(parse_filter_chain(&node->filters));
  LOCARA_RETURN_IF_ERROR(expect_block_end());
  std::string ended_by;
  LOCARA_RETURN_IF_ERROR(parse_body(&node->body, {"endfilter"}, &ended_by));
  LOCARA_RETURN_IF_ERROR(finish_block());
  body->push_back(std::move(node));
  return ok_status();
}

// {% with a = 1 %} and Hugging Face's {% generation %}: a body in its own scope.
Status Parser::parse_with(SourcePos pos, const std::string& tag, Body* body) {
  auto node = std::make_unique<WithNode>(pos);
  while (tag == "with" && cur().type != TokenType::kBlockEnd) {
    if (!node->assignments.empty()) LOCARA_RETURN_IF_ERROR(expect_op(","));
    LOCARA_ASSIGN_OR_RETURN(AssignTarget target, parse_assign_target(false));
    LOCARA_RETURN_IF_ERROR(expect_op("="));
    LOCARA_ASSIGN_OR_RETURN(ExprPtr value, parse_expression(true));
    node->assignments.emplace_back(std::move(target), std::move(value));
  }
  LOCARA_RETURN_IF_ERROR(expect_block_end());
  std::string ended_by;
  if (tag == "with") {
    LOCARA_RETURN_IF_ERROR(parse_body(&node->body, {"endwith"}, &ended_by));
  } else {
    LOCARA_RETURN_IF_ERROR(parse_body(&node->body, {"endgeneration"}, &ended_by));
  }
  LOCARA_RETURN_IF_ERROR(finish_block());
  body->push_back(std::move(node));
  return ok_status();
}

Expected<Body> parse_template(std::string_view source) {
  LOCARA_ASSIGN_OR_RETURN(std::vector<Token> tokens, tokenize(source));
  return Parser(std::move(tokens)).parse();
}

}  // namespace locara::jinja
