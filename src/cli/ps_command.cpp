#include "cli/ps_command.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <memory>

#include "locara/runtime.h"

// Until `locara serve` exists there is no daemon to ask, so `ps` shows the runtime of its
// own process: the models named with --load, loaded (mmap) through the model manager as
// the app "cli". Once the daemon runs, `ps` becomes a query to it (/api/ps) and prints
// the same table for every app's models.

namespace locara::cli {
namespace {

constexpr const char* kCliApp = "cli";

std::string format_idle(const ModelStatus& status) {
  if (status.state != ModelState::kLoaded) return "-";
  if (status.leases > 0) return "in use";
  const auto seconds = static_cast<int64_t>(status.idle_seconds);
  if (seconds < 60) return fmt::format("{}s", seconds);
  return fmt::format("{}m{:02}s", seconds / 60, seconds % 60);
}

std::string join_or_dash(const std::vector<std::string>& items) {
  return items.empty() ? "-" : fmt::format("{}", fmt::join(items, ","));
}

void print_table(const std::vector<ModelStatus>& models) {
  constexpr const char* kRow = "{:<24} {:>11} {:>8} {:<5} {:<10} {:<8} {}\n";
  fmt::print(kRow, "MODEL", "SIZE", "CONTEXT", "KV", "PINNED", "IDLE", "APPS");
  for (const ModelStatus& m : models) {
    if (m.state == ModelState::kUnloaded) continue;
    fmt::print(kRow, m.name, format_bytes(m.planned_bytes), m.n_ctx, m.kv_type,
               m.pinned_by.empty() ? "no" : join_or_dash(m.pinned_by), format_idle(m),
               join_or_dash(m.owner_apps));
  }
}

}  // namespace

Command add_ps_command(CLI::App& app) {
  auto options = std::make_shared<PsOptions>();
  CLI::App* ps = app.add_subcommand(
      "ps",
      "List the models the runtime holds. No daemon yet: shows this process's runtime, "
      "with the models given to --load loaded in it");
  ps->add_option("--load", options->load, "GGUF files to load first (mmap), as app 'cli'");
  ps->add_flag("--pin", options->pin, "Keep the loaded models pinned (\"keep loaded\")");
  ps->add_option("-c,--ctx-size", options->ctx_size,
                 "Context to plan them with (0: the model's own, at most 4096)")
      ->capture_default_str();
  ps->add_flag("-v,--verbose", options->verbose, "Also print the budget and the decision log");
  return {ps, [options] { return ps_command(*options); }};
}

int ps_command(const PsOptions& options) {
  RuntimeOptions runtime_options;
  runtime_options.plan.n_ctx = options.ctx_size;
  runtime_options.watch_os = false;  // one listing: no pressure or power sampling
  auto runtime = Runtime::create(std::move(runtime_options));
  if (!runtime) {
    fmt::print(stderr, "error: {}\n", runtime.error().message);
    return 1;
  }
  for (const std::string& path : options.load) {
    const std::string name = std::filesystem::path(path).stem().string();
    auto plan = (*runtime)->add_model(name, path, ModelRole::kChat);
    Status status = plan ? ok_status() : Status(plan.error());
    if (status && options.pin) status = (*runtime)->pin(kCliApp, name);
    if (status) status = (*runtime)->preload(kCliApp, name);
    if (!status) {
      fmt::print(stderr, "error: {}\n", status.error().message);
      return 1;
    }
  }
  if (options.verbose) fmt::print(stderr, "runtime: {}\n", (*runtime)->describe_configuration());
  print_table((*runtime)->ps());
  if (options.load.empty()) {
    fmt::print(stderr,
               "note: no daemon yet; `locara ps` lists this process's own runtime. Name models "
               "with --load to see them loaded.\n");
  }
  if (options.verbose) {
    for (const Decision& d : (*runtime)->decisions()) {
      fmt::print(stderr, "decision: {} {}{}: {}\n", decision_action_name(d.action), d.model,
                 d.app.empty() ? "" : fmt::format(" (app {})", d.app), d.reason);
    }
  }
  return 0;
}

}  // namespace locara::cli
