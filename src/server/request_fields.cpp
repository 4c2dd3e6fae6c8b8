#include "server/request_fields.h"

#include <fmt/format.h>

#include <cmath>

namespace locara::server {

Expected<nlohmann::json> parse_json_object(const std::string& body) {
  if (body.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "the request body is empty; send a JSON object");
  }
  try {
    nlohmann::json value = nlohmann::json::parse(body);
    if (!value.is_object()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "the request body must be a JSON object, got {}", json_type_words(value));
    }
    return value;
  } catch (const nlohmann::json::parse_error& error) {
    return make_error(ErrorCode::kInvalidArgument, "malformed JSON at byte {}: {}", error.byte,
                      error.what());
  }
}

const char* json_type_words(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "an integer";
    case nlohmann::json::value_t::number_float:
      return "a number";
    default:
      return "a value of another type";
  }
}

const nlohmann::json* RequestFields::lookup(std::string_view key) const {
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

void RequestFields::fail(std::string_view key, std::string message) {
  if (!problem_.empty()) return;
  problem_field_ = prefix_ + std::string(key);
  problem_ = std::move(message);
}

void RequestFields::type_error(std::string_view key, const char* wanted,
                               const nlohmann::json& value) {
  fail(key, fmt::format("'{}{}' must be {}, got {}", prefix_, key, wanted, json_type_words(value)));
}

std::optional<double> RequestFields::number(std::string_view key, double min, double max) {
  const nlohmann::json* value = lookup(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number()) {
    type_error(key, "a number", *value);
    return std::nullopt;
  }
  const double number = value->get<double>();
  if (!std::isfinite(number) || number < min || number > max) {
    fail(key,
         fmt::format("'{}{}' is {} but must be between {} and {}", prefix_, key, number, min, max));
    return std::nullopt;
  }
  return number;
}

std::optional<int64_t> RequestFields::integer(std::string_view key, int64_t min, int64_t max) {
  const nlohmann::json* value = lookup(key);
  if (value == nullptr) return std::nullopt;
  // 1.0 is an integer to JavaScript clients.
  const bool integral =
      value->is_number_integer() ||
      (value->is_number_float() && std::trunc(value->get<double>()) == value->get<double>());
  if (!integral || (value->is_number_unsigned() && value->get<uint64_t>() > uint64_t{INT64_MAX})) {
    type_error(key, "an integer", *value);
    return std::nullopt;
  }
  const auto number =
      value->is_number_float() ? static_cast<int64_t>(value->get<double>()) : value->get<int64_t>();
  if (number < min || number > max) {
    fail(key,
         fmt::format("'{}{}' is {} but must be between {} and {}", prefix_, key, number, min, max));
    return std::nullopt;
  }
  return number;
}

std::optional<std::string> RequestFields::string(std::string_view key) {
  const nlohmann::json* value = lookup(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    type_error(key, "a string", *value);
    return std::nullopt;
  }
  return value->get<std::string>();
}

std::optional<bool> RequestFields::boolean(std::string_view key) {
  const nlohmann::json* value = lookup(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) {
    type_error(key, "a boolean", *value);
    return std::nullopt;
  }
  return value->get<bool>();
}

const nlohmann::json* RequestFields::object(std::string_view key) {
  const nlohmann::json* value = lookup(key);
  if (value != nullptr && !value->is_object()) {
    type_error(key, "an object", *value);
    return nullptr;
  }
  return value;
}

const nlohmann::json* RequestFields::array(std::string_view key) {
  const nlohmann::json* value = lookup(key);
  if (value != nullptr && !value->is_array()) {
    type_error(key, "an array", *value);
    return nullptr;
  }
  return value;
}

const nlohmann::json* RequestFields::any(std::string_view key) {
  return lookup(key);
}

std::vector<std::string> RequestFields::strings(std::string_view key, size_t max_items) {
  std::vector<std::string> result;
  const nlohmann::json* value = lookup(key);
  if (value == nullptr) return result;
  if (value->is_string()) {
    result.push_back(value->get<std::string>());
  } else if (value->is_array()) {
    for (const nlohmann::json& item : *value) {
      if (!item.is_string()) {
        type_error(key, "a string or a list of strings", item);
        return {};
      }
      result.push_back(item.get<std::string>());
    }
  } else {
    type_error(key, "a string or a list of strings", *value);
    return {};
  }
  if (result.size() > max_items) {
    fail(key, fmt::format("'{}{}' has {} entries; at most {} are allowed", prefix_, key,
                          result.size(), max_items));
    return {};
  }
  for (const std::string& item : result) {
    if (item.empty()) {
      fail(key, fmt::format("'{}{}' has an empty string", prefix_, key));
      return {};
    }
  }
  return result;
}

}  // namespace locara::server
