// POST /apply-template: the prompt a chat request makes, rendered with the model's chat
// template exactly as `locara chat-template render --model` prints it (llama.cpp's server
// has the same endpoint); nothing is generated and the model is not loaded.
#include "server/api_error.h"
#include "server/chat_prompt.h"
#include "server/request_fields.h"
#include "server/routes.h"

namespace locara::server {
namespace {

void apply_template(ServerContext& context, const httplib::Request& req, httplib::Response& res) {
  auto app = context.app_for(req);
  if (!app) return send_openai_error(res, ApiError{401, "", app.error().message, "", 0});
  auto body = parse_json_object(req.body);  // names malformed JSON and non-object bodies
  if (!body) return send_openai_error(res, api_error(body.error()));
  RequestFields f(*body);
  const std::optional<std::string> model = f.string("model");
  const bool add_generation_prompt = f.boolean("add_generation_prompt").value_or(true);
  if (!f.ok()) return send_openai_error(res, bad_request(f.problem(), f.problem_field()));
  if (!model) return send_openai_error(res, bad_request("'model' is required", "model"));
  auto resolved = context.resolve_model(*app, *model);
  if (!resolved) return send_openai_error(res, api_error(resolved.error(), "model"));
  // Tool schemas and messages reach the template with their keys in the client's order.
  const auto ordered = nlohmann::ordered_json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  auto prompt = render_template_request(resolved->stored, ordered, add_generation_prompt);
  if (!prompt) return send_openai_error(res, api_error(prompt.error()));
  send_json(res, {{"prompt", std::move(*prompt)}});
}

}  // namespace

void add_template_routes(httplib::Server& http, ServerContext& context) {
  http.Post("/apply-template", [&context](const httplib::Request& req, httplib::Response& res) {
    apply_template(context, req, res);
  });
}

}  // namespace locara::server
