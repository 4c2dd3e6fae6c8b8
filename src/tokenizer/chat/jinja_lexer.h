// Splits a template into text and tag tokens the way Jinja2's lexer does with Hugging Face's
// settings (trim_blocks, lstrip_blocks, no trailing newline kept), applying whitespace control
// ({%- -%} {{- -}} {%+ +%}) and dropping comments so the parser sees only what renders.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace locara::jinja {

// A place in the template source: 1-based line, and column in code points.
struct SourcePos {
  int line = 1;
  int column = 1;
};

// An error at `pos`: "line 3, column 7: TemplateSyntaxError: unexpected '}'".
Error error_at(SourcePos pos, std::string_view message);
// Places `error` (code kept) at `pos`, unless a nested expression already placed it.
Error with_position(SourcePos pos, const Error& error);

enum class TokenType {
  kText,           // literal template text between tags
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kName,           // identifiers and keywords (if, in, not, true ...)
  kString,         // a string literal, unescaped
  kInteger,
  kFloat,
  kOperator,  // + - * / // % ** ~ == != < <= > >= = . , : | ( ) [ ] { }
  kEnd,
};

struct Token {
  TokenType type = TokenType::kEnd;
  std::string text;  // kText, kName, kString (unescaped) and kOperator
  int64_t integer = 0;
  double real = 0.0;
  SourcePos pos;
};

// Tokenizes `source`; errors name the line and column (unterminated tags, comments, strings,
// unbalanced brackets, characters that are not part of the language).
Expected<std::vector<Token>> tokenize(std::string_view source);

}  // namespace locara::jinja
