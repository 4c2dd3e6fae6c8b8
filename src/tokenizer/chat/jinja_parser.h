// Parses a template into its syntax tree (jinja_ast.h) with Jinja2's grammar and operator
// precedence. Filters and tests are resolved here, so an unknown one fails at parse time, as
// Jinja2 fails at compile time.
#pragma once

#include <string_view>

#include "base/status.h"
#include "tokenizer/chat/jinja_ast.h"

namespace locara::jinja {

// Errors name the line and column: "line 4, column 12: TemplateSyntaxError: ...".
Expected<Body> parse_template(std::string_view source);

}  // namespace locara::jinja
