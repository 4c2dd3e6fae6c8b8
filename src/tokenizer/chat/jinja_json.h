// JSON in and out of the template language: request JSON (messages, tools) becomes template
// values, and the `tojson` filter writes values back as Python's json.dumps does.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/status.h"
#include "tokenizer/chat/jinja_value.h"

namespace locara::jinja {

// Objects keep their key order (templates print tool schemas in the order they were given).
// Fails on JSON nested deeper than kMaxJsonDepth (the renderer recurses on nesting).
inline constexpr int kMaxJsonDepth = 256;
Expected<Value> from_json(const nlohmann::ordered_json& json, int depth = 0);

// json.dumps options, as Hugging Face's tojson(x, ensure_ascii=False, indent=None,
// separators=None, sort_keys=False) passes them.
struct JsonStyle {
  std::optional<std::string> indent;  // nullopt: one line
  std::string item_separator = ", ";  // json.dumps uses "," once indent is set
  std::string key_separator = ": ";
  bool ensure_ascii = false;
  bool sort_keys = false;
};

// Fails as json.dumps does on values JSON cannot hold (Undefined, generators, callables,
// namespaces): "TypeError: Object of type generator is not JSON serializable".
Expected<std::string> to_json(const Value& value, const JsonStyle& style);

}  // namespace locara::jinja
