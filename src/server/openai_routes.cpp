// OpenAI-compatible routes: /v1/chat/completions, /v1/completions, /v1/models.
#include <memory>

#include "server/api_error.h"
#include "server/chat_prompt.h"
#include "server/openai_json.h"
#include "server/request_fields.h"
#include "server/routes.h"
#include "server/streaming.h"

namespace locara::server {
namespace {

using nlohmann::json;

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json model_object(const StoredModel& model) {
  return {{"id", model.name},
          {"object", "model"},
          {"created", model.modified_unix},
          {"owned_by", "locara"}};
}

StreamFormat openai_stream_format(std::shared_ptr<OpenAiRequest> request) {
  auto first = std::make_shared<bool>(true);
  StreamFormat format;
  format.content_type = "text/event-stream";
  format.piece = [request, first](const CompletionDelta& delta) {
    if (delta.text.empty() && !request->logprobs && !*first) return std::string();
    std::string bytes = sse_data(dump(openai_chunk(*request, &delta, std::nullopt, *first)));
    *first = false;
    return bytes;
  };
  format.end = [request, first](const CompletionSummary& summary) {
    if (summary.error) return sse_data(dump(openai_error_body(api_error(*summary.error))));
    std::string bytes;
    if (*first && request->kind == OpenAiKind::kChat) {  // no piece came: still open the turn
      CompletionDelta empty;
      bytes += sse_data(dump(openai_chunk(*request, &empty, std::nullopt, true)));
    }
    bytes += sse_data(dump(openai_chunk(*request, nullptr, summary.finish_reason, false)));
    if (request->include_usage) {
      json usage = openai_chunk(*request, nullptr, std::nullopt, false);
      usage["choices"] = json::array();
      usage["usage"] = openai_usage(summary);
      bytes += sse_data(dump(usage));
    }
    return bytes + "data: [DONE]\n\n";
  };
  return format;
}

void handle_generation(ServerContext& context, const httplib::Request& req, httplib::Response& res,
                       OpenAiKind kind) {
  auto app = context.app_for(req);
  if (!app) return send_openai_error(res, ApiError{401, "", app.error().message, "", 0});
  auto body = parse_json_object(req.body);
  if (!body) return send_openai_error(res, api_error(body.error()));
  // Only chat templates take tools.
  auto tools = kind == OpenAiKind::kChat
                   ? request_tools(req.body, *body)
                   : Expected<nlohmann::ordered_json>(nlohmann::ordered_json());
  if (!tools) return send_openai_error(res, api_error(tools.error(), "tools"));
  auto request = parse_openai_request(context, *app, *body, *tools, kind);
  if (!request) return send_openai_error(res, api_error(request.error()));
  auto shared = std::make_shared<OpenAiRequest>(std::move(*request));
  auto completion =
      Completion::start(context.scheduler, context.metrics, shared->job, shared->stop);
  if (!completion) return send_openai_error(res, api_error(completion.error()));
  if (shared->stream) {
    return stream_completion(res, std::shared_ptr<Completion>(std::move(*completion)),
                             openai_stream_format(shared), context.runtime);
  }
  const CompletionDelta all = (*completion)->collect();
  const CompletionSummary& summary = (*completion)->summary();
  if (summary.error) return send_openai_error(res, api_error(*summary.error));
  send_json(res, openai_response(*shared, all, summary));
}

}  // namespace

void add_openai_routes(httplib::Server& http, ServerContext& context) {
  http.Post("/v1/chat/completions",
            [&context](const httplib::Request& req, httplib::Response& res) {
              handle_generation(context, req, res, OpenAiKind::kChat);
            });
  http.Post("/v1/completions", [&context](const httplib::Request& req, httplib::Response& res) {
    handle_generation(context, req, res, OpenAiKind::kCompletion);
  });
  http.Get("/v1/models", [&context](const httplib::Request&, httplib::Response& res) {
    json data = json::array();
    for (const StoredModel& model : context.store.list()) data.push_back(model_object(model));
    send_json(res, {{"object", "list"}, {"data", std::move(data)}});
  });
  http.Get(R"(/v1/models/([^/]+))",
           [&context](const httplib::Request& req, httplib::Response& res) {
             auto model = context.store.find(req.matches[1].str());
             if (!model) return send_openai_error(res, api_error(model.error(), "model"));
             send_json(res, model_object(*model));
           });
}

}  // namespace locara::server
