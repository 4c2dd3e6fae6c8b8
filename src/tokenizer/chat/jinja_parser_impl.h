// The template parser's state and methods, shared by jinja_parser.cpp (statements) and
// jinja_expression_parser.cpp (expressions). Internal to chat/; use parse_template().
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/chat/jinja_ast.h"

namespace locara::jinja {

// Syntax trees deeper than this are refused rather than risking the stack (evaluating and
// freeing a tree recurse on its depth). Brackets, unary operators and blocks nest; each
// operator or postfix in a chain (a + b + c, x.y.z, v|f|g) adds a level too. Real templates
// stay far below.
inline constexpr int kMaxNesting = 128;

// Recursive descent over the lexer's tokens, with Jinja2's grammar. One use per template.
class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Expected<Body> parse() {
    Body body;
    std::string ended_by;
    LOCARA_RETURN_IF_ERROR(parse_body(&body, {}, &ended_by));
    return body;
  }

 private:
  // ---- token helpers ----
  const Token& cur() const { return tokens_[index_]; }
  const Token& peek(size_t n = 1) const {
    return tokens_[std::min(index_ + n, tokens_.size() - 1)];
  }
  void advance() {
    if (index_ + 1 < tokens_.size()) ++index_;
  }
  static bool is_op(const Token& t, std::string_view op) {
    return t.type == TokenType::kOperator && t.text == op;
  }
  static bool is_name(const Token& t, std::string_view name) {
    return t.type == TokenType::kName && t.text == name;
  }
  bool skip_op(std::string_view op) {
    if (!is_op(cur(), op)) return false;
    advance();
    return true;
  }
  bool skip_name(std::string_view name) {
    if (!is_name(cur(), name)) return false;
    advance();
    return true;
  }

  static std::string describe(const Token& t) {
    switch (t.type) {
      case TokenType::kEnd:
        return "end of template";
      case TokenType::kBlockEnd:
        return "end of statement block";
      case TokenType::kVariableEnd:
        return "end of print statement";
      case TokenType::kText:
        return "template text";
      case TokenType::kString:
        return "string";
      case TokenType::kInteger:
      case TokenType::kFloat:
        return "number";
      default:
        return "'" + t.text + "'";
    }
  }
  Error fail(const Token& t, std::string_view message) const {
    return error_at(t.pos, fmt::format("TemplateSyntaxError: {}", message));
  }
  Error unexpected(std::string_view expected) const {
    return fail(cur(), fmt::format("expected {}, got {}", expected, describe(cur())));
  }
  Status expect_op(std::string_view op) {
    if (!skip_op(op)) return unexpected(fmt::format("'{}'", op));
    return ok_status();
  }
  Status expect_block_end() {
    if (cur().type != TokenType::kBlockEnd) return unexpected("end of statement block");
    advance();
    return ok_status();
  }
  Expected<std::string> expect_identifier() {
    if (cur().type != TokenType::kName) return unexpected("a name");
    std::string name = cur().text;
    advance();
    return name;
  }

  // Counts nesting; fails past kMaxNesting.
  struct DepthGuard {
    explicit DepthGuard(int* depth) : depth_(depth) { ++*depth_; }
    ~DepthGuard() { --*depth_; }
    int* depth_;
  };
  Status check_depth() const {
    if (depth_ > kMaxNesting) return fail(cur(), "template nested too deeply");
    return ok_status();
  }
  // Counts the levels a chain (a + b + c) adds, for the rest of the parse function.
  struct ChainGuard {
    explicit ChainGuard(int* depth) : depth_(depth) {}
    ~ChainGuard() { *depth_ -= links_; }
    void link() { ++links_, ++*depth_; }
    int* depth_;
    int links_ = 0;
  };

  // ---- statements (jinja_parser.cpp) ----
  // Parses nodes until EOF (end_tags empty) or `{% tag` with tag in end_tags, leaving the
  // cursor on that tag's name.
  Status parse_body(Body* body, std::initializer_list<std::string_view> end_tags,
                    std::string* ended_by);
  Status parse_statement(Body* body);
  // Parses `{% end_tag %}` after parse_body stopped on it.
  Status finish_block();
  Status parse_if(SourcePos pos, Body* body);
  // Names for `for` and `set`: a, or a, b, or (a, b); with_namespace allows ns.attr.
  Expected<AssignTarget> parse_assign_target(bool with_namespace);
  Status parse_for(SourcePos pos, Body* body);
  Status parse_set(SourcePos pos, Body* body);
  Status parse_params(std::vector<MacroParam>* params);
  // Parses a macro's body with its own loop and name-usage tracking.
  Status parse_macro_body(MacroNode* macro, std::string_view end_tag);
  Status parse_macro(SourcePos pos, Body* body);
  Status parse_call_block(SourcePos pos, Body* body);
  Status parse_filter_block(SourcePos pos, Body* body);
  // {% with a = 1 %} and Hugging Face's {% generation %}: a body in its own scope.
  Status parse_with(SourcePos pos, const std::string& tag, Body* body);

  // ---- expressions, loosest to tightest (jinja_expression_parser.cpp) ----
  // a, b, c as a tuple; a single expression stays itself. explicit_parens allows "()".
  Expected<ExprPtr> parse_tuple(bool with_condexpr, bool explicit_parens);
  Expected<ExprPtr> parse_expression(bool with_condexpr);
  Expected<ExprPtr> parse_or();
  Expected<ExprPtr> parse_and();
  Expected<ExprPtr> parse_not();
  Expected<ExprPtr> parse_compare();
  // The arithmetic levels, loosest first: + -, then ~, then * / // %, then **.
  Expected<ExprPtr> parse_binary(int level);
  Expected<ExprPtr> parse_unary(bool with_filter);
  Expected<ExprPtr> parse_primary();
  Expected<ExprPtr> parse_list();
  Expected<ExprPtr> parse_dict();
  Expected<ExprPtr> parse_postfix(ExprPtr node);
  // After '[': an index, or a slice start:stop:step with any part left out.
  Expected<ExprPtr> parse_subscript(SourcePos pos, ExprPtr object);
  Status parse_arguments(ArgumentList* args);
  Expected<ExprPtr> parse_call(ExprPtr callee);
  Expected<std::string> parse_dotted_name();
  Expected<std::unique_ptr<FilterExpr>> parse_filter(ExprPtr value);
  // name(args) | name | ... with no input: for {% filter %} and {% set x | f %}.
  Status parse_filter_chain(std::vector<std::unique_ptr<FilterExpr>>* filters);
  Expected<ExprPtr> parse_filter_expr(ExprPtr node);
  // After 'is': [not] name, then (args) or one bare argument (`is divisibleby 3`).
  Expected<ExprPtr> parse_test(ExprPtr value);

  std::vector<Token> tokens_;
  size_t index_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  std::vector<MacroNode*> macros_;  // macros being parsed, innermost last
};

}  // namespace locara::jinja
