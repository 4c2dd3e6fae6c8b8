// Ollama-compatible routes: /api/generate, /api/chat (NDJSON streams), /api/tags,
// /api/ps, /api/show, /api/version.
#include "locara/version.h"
#include "server/api_error.h"
#include "server/chat_prompt.h"
#include "server/ollama_json.h"
#include "server/request_fields.h"
#include "server/routes.h"
#include "server/streaming.h"

namespace locara::server {
namespace {

using nlohmann::json;

std::string ndjson(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

// After the request: keep the model for the asked window (0 unloads it).
void apply_keep_alive(ServerContext& context, const OllamaRequest& request) {
  if (request.keep_alive) {
    context.keep_alive.apply(request.job.app, request.model.name, *request.keep_alive);
  }
}

void handle_load_only(ServerContext& context, const OllamaRequest& request,
                      httplib::Response& res) {
  const bool unload = request.keep_alive && request.keep_alive->count() == 0;
  if (!unload) {
    if (Status loaded = context.runtime.preload(request.job.app, request.model.name); !loaded) {
      return send_ollama_error(res, api_error(loaded.error()));
    }
  }
  apply_keep_alive(context, request);
  send_json(res, ollama_load_reply(request, unload));
}

void handle_generation(ServerContext& context, const httplib::Request& req, httplib::Response& res,
                       OllamaKind kind) {
  auto app = context.app_for(req);
  if (!app) return send_ollama_error(res, ApiError{401, "", app.error().message, "", 0});
  auto body = parse_json_object(req.body);
  if (!body) return send_ollama_error(res, api_error(body.error()));
  // Only chat templates take tools.
  auto tools = kind == OllamaKind::kChat
                   ? request_tools(req.body, *body)
                   : Expected<nlohmann::ordered_json>(nlohmann::ordered_json());
  if (!tools) return send_ollama_error(res, api_error(tools.error(), "tools"));
  auto parsed = parse_ollama_request(context, *app, *body, *tools, kind);
  if (!parsed) return send_ollama_error(res, api_error(parsed.error()));
  auto request = std::make_shared<OllamaRequest>(std::move(*parsed));
  if (request->load_only) return handle_load_only(context, *request, res);

  auto completion =
      Completion::start(context.scheduler, context.metrics, request->job, request->stop);
  if (!completion) return send_ollama_error(res, api_error(completion.error()));
  if (!request->stream) {
    const CompletionDelta all = (*completion)->collect();
    const CompletionSummary& summary = (*completion)->summary();
    apply_keep_alive(context, *request);
    if (summary.error) return send_ollama_error(res, api_error(*summary.error));
    return send_json(res, ollama_final(*request, all.text, summary));
  }
  StreamFormat format;
  format.content_type = "application/x-ndjson";
  format.piece = [request](const CompletionDelta& delta) {
    return delta.text.empty() ? std::string() : ndjson(ollama_piece(*request, delta.text));
  };
  format.end = [request](const CompletionSummary& summary) {
    if (summary.error) return ndjson(ollama_error_body(api_error(*summary.error)));
    return ndjson(ollama_final(*request, "", summary));
  };
  format.after = [&context, request] { apply_keep_alive(context, *request); };
  stream_completion(res, std::shared_ptr<Completion>(std::move(*completion)), std::move(format),
                    context.runtime);
}

json running_models(ServerContext& context) {
  json models = json::array();
  for (const ModelStatus& status : context.runtime.ps()) {
    if (status.state != ModelState::kLoaded) continue;
    StoredModel stored;
    if (auto found = context.store.find(status.name)) stored = *found;
    json entry = ollama_tag(stored);
    entry["name"] = status.name;
    entry["model"] = status.name;
    entry["size"] = status.planned_bytes;
    entry["size_vram"] = 0;
    entry["context_length"] = status.n_ctx;
    // Without a keep-alive window the runtime's idle timeout decides.
    const double idle_left =
        std::max(0.0, std::chrono::duration<double>(context.options.runtime.idle_timeout).count() -
                          status.idle_seconds);
    auto expires = context.keep_alive.expires_at(status.name);
    entry["expires_at"] =
        rfc3339(expires.value_or(std::chrono::system_clock::now() +
                                 std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                     std::chrono::duration<double>(idle_left))));
    entry.erase("modified_at");
    // Locara's own columns for `locara ps` (Ollama's clients ignore unknown fields).
    entry["kv_type"] = status.kv_type;
    entry["pinned_by"] = status.pinned_by;
    entry["owner_apps"] = status.owner_apps;
    entry["in_use"] = status.leases > 0;
    entry["idle_seconds"] = status.idle_seconds;
    models.push_back(std::move(entry));
  }
  return models;
}

}  // namespace

void add_ollama_routes(httplib::Server& http, ServerContext& context) {
  http.Post("/api/generate", [&context](const httplib::Request& req, httplib::Response& res) {
    handle_generation(context, req, res, OllamaKind::kGenerate);
  });
  http.Post("/api/chat", [&context](const httplib::Request& req, httplib::Response& res) {
    handle_generation(context, req, res, OllamaKind::kChat);
  });
  http.Get("/api/tags", [&context](const httplib::Request&, httplib::Response& res) {
    json models = json::array();
    for (const StoredModel& model : context.store.list()) models.push_back(ollama_tag(model));
    send_json(res, {{"models", std::move(models)}});
  });
  http.Get("/api/ps", [&context](const httplib::Request&, httplib::Response& res) {
    send_json(res, {{"models", running_models(context)}});
  });
  http.Post("/api/show", [&context](const httplib::Request& req, httplib::Response& res) {
    auto body = parse_json_object(req.body);
    if (!body) return send_ollama_error(res, api_error(body.error()));
    RequestFields f(*body);
    std::optional<std::string> name = f.string("model");
    if (!name) name = f.string("name");  // the older spelling
    if (!f.ok()) return send_ollama_error(res, bad_request(f.problem(), f.problem_field()));
    if (!name) return send_ollama_error(res, bad_request("'model' is required", "model"));
    auto model = context.store.find(*name);
    if (!model) return send_ollama_error(res, api_error(model.error()));
    send_json(res, ollama_show(*model));
  });
  http.Get("/api/version", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, {{"version", LOCARA_VERSION_STRING}});
  });
}

}  // namespace locara::server
