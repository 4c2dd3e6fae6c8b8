// /health (ready, loading or degraded, with the pressure level) and /metrics (Prometheus).
// Neither touches a model's idle timer: they read snapshots only.
#include "server/api_error.h"
#include "server/routes.h"

namespace locara::server {

void add_health_routes(httplib::Server& http, ServerContext& context) {
  http.Get("/health", [&context](const httplib::Request&, httplib::Response& res) {
    const PressureLevel pressure = context.runtime.pressure_level();
    bool loading = false;
    int loaded = 0;
    for (const ModelStatus& model : context.runtime.ps()) {
      loading = loading || model.state == ModelState::kLoading;
      loaded += model.state == ModelState::kLoaded ? 1 : 0;
    }
    const SchedulerStats scheduler = context.scheduler.stats();
    const char* status = "ready";
    if (loading) status = "loading";
    if (pressure != PressureLevel::kNormal || context.stopping) status = "degraded";
    send_json(res, {{"status", status},
                    {"pressure", pressure_level_name(pressure)},
                    {"models_loaded", loaded},
                    {"running", scheduler.running},
                    {"queued", scheduler.queued}});
  });
  http.Get("/metrics", [&context](const httplib::Request&, httplib::Response& res) {
    res.set_content(context.metrics.render(context.runtime, context.scheduler.stats()),
                    "text/plain; version=0.0.4");
  });
}

}  // namespace locara::server
