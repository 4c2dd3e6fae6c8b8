// The two halves of the filter table (text and number filters in jinja_filters.cpp, filters
// over sequences in jinja_sequence_filters.cpp) and helpers they share. Internal to chat/.
#pragma once

#include <span>
#include <string_view>

#include "tokenizer/chat/jinja_builtins.h"

namespace locara::jinja {

struct NamedFilter {
  std::string_view name;
  FilterFn filter;
};

std::span<const NamedFilter> text_filters();
std::span<const NamedFilter> sequence_filters();

// Python's str() for filters, keeping a markup-safe string safe (Jinja2's soft_str).
inline Value soft_str(const Value& value) {
  return value.is_string() ? value : Value::string(to_str(value));
}

}  // namespace locara::jinja
