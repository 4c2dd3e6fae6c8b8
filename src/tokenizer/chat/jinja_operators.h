// The operators of the template language with Python's semantics: arithmetic (int stays int,
// / is true division, // and % floor), + on str/list, markup escaping when plain text meets
// a safe string, comparisons and `in`.
#pragma once

#include "base/status.h"
#include "tokenizer/chat/jinja_ast.h"
#include "tokenizer/chat/jinja_value.h"

namespace locara::jinja {

// Largest string or list an operator (or a filter) may build: a template cannot exhaust
// memory with 'x' * 10**12.
inline constexpr size_t kMaxBuiltSize = size_t{64} << 20;
// Largest list (in items) an operator or filter may build.
inline constexpr size_t kMaxBuiltItems = size_t{1} << 22;
// The error for a result past those limits.
Error too_large(std::string_view what);

// All binary operators except `and` / `or`, which short-circuit in the interpreter.
Expected<Value> binary_operation(BinaryOp op, const Value& left, const Value& right);
// Unary minus and plus (`not` is the interpreter's).
Expected<Value> unary_operation(UnaryOp op, const Value& operand);
Expected<bool> compare_values(CompareOp op, const Value& left, const Value& right);
// Python's `item in container`: substring for str, key for dict, element otherwise.
Expected<bool> contains(const Value& container, const Value& item);

}  // namespace locara::jinja
