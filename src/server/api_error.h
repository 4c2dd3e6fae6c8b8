// The one mapping from a Locara error to an HTTP status, and the error bodies the API
// families expect: OpenAI's {"error": {message, type, param, code}} and Ollama's {"error"}.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

namespace locara::server {

struct ApiError {
  int status = 500;
  std::string type;  // OpenAI's error type: invalid_request_error, not_found_error, ...
  std::string message;
  std::string param;      // the request field at fault, if one is
  int retry_after_s = 0;  // > 0: sent as Retry-After
};

// kInvalidArgument/kOutOfRange/kUnsupported 400, kNotFound 404, kResourceExhausted 503
// (with Retry-After: a full queue, a budget, the server stopping), others 500.
ApiError api_error(const Error& error, std::string param = "");
ApiError bad_request(std::string message, std::string param = "");

nlohmann::json openai_error_body(const ApiError& error);
nlohmann::json ollama_error_body(const ApiError& error);

void send_openai_error(httplib::Response& res, const ApiError& error);
void send_ollama_error(httplib::Response& res, const ApiError& error);
void send_json(httplib::Response& res, const nlohmann::json& body, int status = 200);

}  // namespace locara::server
