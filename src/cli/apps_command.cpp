#include "cli/apps_command.h"

#include <fmt/format.h>

#include <memory>

#include "runtime/app_budget.h"
#include "runtime/app_manifest.h"

namespace locara::cli {

Command add_apps_command(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  CLI::App* apps = app.add_subcommand("apps", "App manifests (locara.toml)");
  apps->require_subcommand(1);
  CLI::App* validate =
      apps->add_subcommand("validate", "Check a manifest: print OK, or each problem and its line");
  validate->add_option("file", *path, "Path of a locara.toml")->required();
  return {apps, [path] { return apps_validate_command(*path); }};
}

int apps_validate_command(const std::string& path) {
  const ManifestParseResult result = parse_app_manifest_file(path);
  if (!result.ok()) {
    for (const ManifestIssue& issue : result.issues) fmt::print(stderr, "{}\n", issue.message);
    fmt::print(stderr, "{}: {} problem{}\n", path, result.issues.size(),
               result.issues.size() == 1 ? "" : "s");
    return 1;
  }
  const AppManifest& m = *result.manifest;
  fmt::print("OK: app '{}' ({}), memory {}, {} model{}, KV {}{}{}\n", m.id, m.name,
             format_bytes(m.memory_bytes()), m.models.size(), m.models.size() == 1 ? "" : "s",
             kv_type_name(m.kv_type()),
             m.speculative
                 ? fmt::format(", speculative {} + {}", m.speculative->target, m.speculative->draft)
                 : "",
             m.keep_loaded ? ", keep loaded" : "");
  return 0;
}

}  // namespace locara::cli
