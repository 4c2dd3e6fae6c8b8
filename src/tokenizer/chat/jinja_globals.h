// The functions every chat template can call: Jinja2's range, dict, namespace, joiner and
// cycler, and Hugging Face's raise_exception and strftime_now.
#pragma once

#include <ctime>
#include <optional>

#include "tokenizer/chat/jinja_interpreter.h"

namespace locara::jinja {

// Adds the functions to `frame`. strftime_now formats `now`, or the local time at the call
// when `now` is empty.
void add_builtin_globals(Frame* frame, std::optional<std::tm> now);

}  // namespace locara::jinja
