// Locara's own API: apps and their budgets (/locara/v1/apps), the runtime's event stream
// (/locara/v1/events, SSE) and pins (/locara/v1/models/{name}/pin).
#include "server/api_error.h"
#include "server/request_fields.h"
#include "server/routes.h"
#include "server/streaming.h"

namespace locara::server {
namespace {

using nlohmann::json;

// How long an idle event stream waits before a comment line (keeps proxies from closing it).
constexpr int kHeartbeatSeconds = 15;

// A manifest as TOML text, or JSON {"manifest": "<toml>"}.
Expected<AppManifest> read_manifest(const httplib::Request& req) {
  std::string text = req.body;
  if (req.get_header_value("Content-Type").starts_with("application/json")) {
    LOCARA_ASSIGN_OR_RETURN(json body, parse_json_object(req.body));
    RequestFields f(body);
    std::optional<std::string> manifest = f.string("manifest");
    if (!f.ok()) return Error{ErrorCode::kInvalidArgument, f.problem()};
    if (!manifest) {
      return make_error(ErrorCode::kInvalidArgument,
                        "'manifest' is required: the app's locara.toml as a string");
    }
    text = *manifest;
  }
  return parse_app_manifest(text, "<request>");
}

json footprint_json(const AppFootprint& footprint) {
  return {{"total_bytes", footprint.total_bytes()},
          {"weights_share_bytes", footprint.weights_share_bytes},
          {"kv_bytes", footprint.kv_bytes},
          {"scratch_bytes", footprint.scratch_bytes}};
}

json event_json(const Event& event) {
  json out = {{"sequence", event.sequence},
              {"kind", event_kind_name(event.kind())},
              {"description", describe_event(event)}};
  if (const auto* e = event.get<MemoryBudgetTighteningEvent>()) {
    out["level"] = pressure_level_name(e->level);
    out["previous"] = pressure_level_name(e->previous);
    out["bytes_to_free"] = e->bytes_to_free;
    out["bytes_freed"] = e->bytes_freed;
    out["actions"] = e->actions;
  } else if (const auto* e = event.get<ModelLoadedEvent>()) {
    out["model"] = e->model;
    out["app"] = e->app;
    out["planned_bytes"] = e->planned_bytes;
  } else if (const auto* e = event.get<ModelUnloadedEvent>()) {
    out["model"] = e->model;
    out["reason"] = unload_reason_name(e->reason);
    out["planned_bytes"] = e->planned_bytes;
  } else if (const auto* e = event.get<AppOverBudgetEvent>()) {
    out["app"] = e->app;
    out["footprint_bytes"] = e->footprint_bytes;
    out["declared_bytes"] = e->declared_bytes;
  } else if (const auto* e = event.get<PowerStateChangedEvent>()) {
    out["low_power"] = e->low_power;
    out["downshifted"] = e->downshifted;
    out["summary"] = e->summary;
  }
  return out;
}

void register_app(ServerContext& context, const httplib::Request& req, httplib::Response& res) {
  auto manifest = read_manifest(req);
  if (!manifest) return send_openai_error(res, api_error(manifest.error()));
  auto app = context.apps.add(context.runtime, context.store, std::move(*manifest));
  if (!app) return send_openai_error(res, api_error(app.error()));
  send_json(res,
            {{"app", app->id}, {"name", app->name}, {"token", app->token}, {"models", app->models}},
            201);
}

void list_apps(ServerContext& context, httplib::Response& res) {
  std::map<std::string, AppFootprint> footprints;
  for (AppFootprint& footprint : context.runtime.app_footprints()) {
    footprints[footprint.app_id] = footprint;
  }
  json apps = json::array();
  for (const RegisteredApp& app : context.apps.list()) {
    const AppFootprint& footprint = footprints[app.id];
    apps.push_back({{"id", app.id},
                    {"name", app.name},
                    {"models", app.models},
                    {"budget_bytes", footprint.declared_bytes},
                    {"footprint", footprint_json(footprint)},
                    {"over_budget", footprint.over_budget()}});
  }
  send_json(res, {{"apps", std::move(apps)}});
}

void stream_events(ServerContext& context, const httplib::Request& req, httplib::Response& res) {
  auto app = context.app_for(req);
  if (!app) return send_openai_error(res, ApiError{401, "", app.error().message, "", 0});
  auto subscription =
      std::make_shared<Subscription>(context.runtime.subscribe(SubscriptionOptions{*app}));
  auto quiet_seconds = std::make_shared<int>(0);
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [&context, subscription, quiet_seconds](
                                                            size_t, httplib::DataSink& sink) {
    if (context.stopping) {
      const std::string bye = sse_event("shutdown", R"({"message":"the server is stopping"})");
      sink.write(bye.data(), bye.size());
      sink.done();
      return true;
    }
    std::string bytes;
    if (auto event = subscription->wait_next(std::chrono::seconds(1))) {
      *quiet_seconds = 0;
      bytes = sse_event(event_kind_name(event->kind()), event_json(*event).dump());
    } else if (++*quiet_seconds >= kHeartbeatSeconds) {
      *quiet_seconds = 0;
      bytes = ": heartbeat\n\n";
    }
    if (subscription->dropped()) {  // it fell behind: a fresh subscription resynchronises
      *subscription = context.runtime.subscribe(SubscriptionOptions{"events"});
    }
    return bytes.empty() || sink.write(bytes.data(), bytes.size());
  });
}

void pin_model(ServerContext& context, const httplib::Request& req, httplib::Response& res) {
  auto app = context.app_for(req);
  if (!app) return send_openai_error(res, ApiError{401, "", app.error().message, "", 0});
  bool pin = true;
  if (!req.body.empty()) {
    auto body = parse_json_object(req.body);
    if (!body) return send_openai_error(res, api_error(body.error()));
    RequestFields f(*body);
    pin = f.boolean("pin").value_or(true);
    if (!f.ok()) return send_openai_error(res, bad_request(f.problem(), f.problem_field()));
  }
  auto model = context.resolve_model(*app, req.matches[1].str());
  if (!model) return send_openai_error(res, api_error(model.error(), "model"));
  Status status =
      pin ? context.runtime.pin(*app, model->name) : context.runtime.unpin(*app, model->name);
  if (!status) return send_openai_error(res, api_error(status.error()));
  json pinned_by = json::array();
  for (const ModelStatus& s : context.runtime.ps()) {
    if (s.name == model->name) pinned_by = s.pinned_by;
  }
  send_json(res, {{"model", model->name},
                  {"app", *app},
                  {"pinned", pin},
                  {"pinned_by", std::move(pinned_by)}});
}

}  // namespace

void add_locara_routes(httplib::Server& http, ServerContext& context) {
  http.Post("/locara/v1/apps", [&context](const httplib::Request& req, httplib::Response& res) {
    register_app(context, req, res);
  });
  http.Get("/locara/v1/apps", [&context](const httplib::Request&, httplib::Response& res) {
    list_apps(context, res);
  });
  http.Get("/locara/v1/events", [&context](const httplib::Request& req, httplib::Response& res) {
    stream_events(context, req, res);
  });
  http.Post(R"(/locara/v1/models/([^/]+)/pin)",
            [&context](const httplib::Request& req, httplib::Response& res) {
              pin_model(context, req, res);
            });
}

}  // namespace locara::server
