#include "server/api_error.h"

namespace locara::server {
namespace {

// How long a refused client should wait before retrying: a queue drains in seconds.
constexpr int kRetryAfterSeconds = 1;

const char* openai_type_for_status(int status) {
  switch (status) {
    case 400:
    case 413:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 404:
      return "not_found_error";
    case 503:
      return "server_busy";
    default:
      return "server_error";
  }
}

void apply_headers(httplib::Response& res, const ApiError& error) {
  res.status = error.status;
  if (error.retry_after_s > 0) res.set_header("Retry-After", std::to_string(error.retry_after_s));
}

}  // namespace

ApiError api_error(const Error& error, std::string param) {
  ApiError api;
  api.message = error.message;
  api.param = std::move(param);
  switch (error.code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kOutOfRange:
    case ErrorCode::kUnsupported:
      api.status = 400;
      break;
    case ErrorCode::kNotFound:
      api.status = 404;
      break;
    case ErrorCode::kResourceExhausted:
      api.status = 503;
      api.retry_after_s = kRetryAfterSeconds;
      break;
    default:
      api.status = 500;
  }
  api.type = openai_type_for_status(api.status);
  return api;
}

ApiError bad_request(std::string message, std::string param) {
  return ApiError{400, "invalid_request_error", std::move(message), std::move(param), 0};
}

nlohmann::json openai_error_body(const ApiError& error) {
  const std::string type = error.type.empty() ? openai_type_for_status(error.status) : error.type;
  return {{"error",
           {{"message", error.message},
            {"type", type},
            {"param", error.param.empty() ? nlohmann::json() : nlohmann::json(error.param)},
            {"code", error.status}}}};
}

nlohmann::json ollama_error_body(const ApiError& error) {
  return {{"error", error.message}};
}

void send_json(httplib::Response& res, const nlohmann::json& body, int status) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void send_openai_error(httplib::Response& res, const ApiError& error) {
  send_json(res, openai_error_body(error), error.status);
  apply_headers(res, error);
}

void send_ollama_error(httplib::Response& res, const ApiError& error) {
  send_json(res, ollama_error_body(error), error.status);
  apply_headers(res, error);
}

}  // namespace locara::server
