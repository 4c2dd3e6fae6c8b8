// Typed reading of a JSON request body: each getter checks the field's type and range and
// keeps the first problem, named by its field ("'temperature' must be a number, got a string").
#pragma once

#include <httplib.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace locara::server {

// The body as a JSON object; errors name the byte where parsing failed.
Expected<nlohmann::json> parse_json_object(const std::string& body);

// Reads fields of one JSON object. Absent and null fields read as nullopt. After the
// first problem every getter still returns nullopt-or-value, and error() names it.
// Not thread-safe; the object must outlive the reader.
class RequestFields {
 public:
  // `prefix` names the object in messages ("options." for Ollama's options).
  explicit RequestFields(const nlohmann::json& object, std::string prefix = "")
      : object_(object), prefix_(std::move(prefix)) {}

  std::optional<double> number(std::string_view key, double min, double max);
  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max);
  std::optional<std::string> string(std::string_view key);
  std::optional<bool> boolean(std::string_view key);
  const nlohmann::json* object(std::string_view key);
  const nlohmann::json* array(std::string_view key);
  const nlohmann::json* any(std::string_view key);  // present and not null
  // A string or a list of strings (OpenAI's and Ollama's "stop"), at most `max_items`.
  std::vector<std::string> strings(std::string_view key, size_t max_items);

  // Records a problem found by the caller (the first one wins).
  void fail(std::string_view key, std::string message);

  bool ok() const { return problem_.empty(); }
  const std::string& problem() const { return problem_; }
  const std::string& problem_field() const { return problem_field_; }

 private:
  const nlohmann::json* lookup(std::string_view key) const;
  void type_error(std::string_view key, const char* wanted, const nlohmann::json& value);

  const nlohmann::json& object_;
  std::string prefix_;
  std::string problem_;
  std::string problem_field_;
};

// "a string", "a number", ... for messages.
const char* json_type_words(const nlohmann::json& value);

}  // namespace locara::server
