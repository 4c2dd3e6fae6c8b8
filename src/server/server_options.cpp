#include "server/server_options.h"

#include <toml++/toml.h>

#include <map>
#include <set>

namespace locara::server {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

Error key_error(const std::string& path, const toml::node& node, const std::string& key,
                const char* wanted) {
  return make_error(ErrorCode::kInvalidArgument, "{}:{}: key '{}' must be {}", path,
                    node.source().begin.line, key, wanted);
}

// Reads one number (integer or float) key that must be >= min.
Status read_number(const std::string& path, const toml::table& table, const std::string& section,
                   const char* key, double min, double& out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return ok_status();
  const std::string name = section + "." + key;
  std::optional<double> value = node->value<double>();
  if (!value || *value < min) {
    return key_error(path, *node, name, min > 0 ? "a positive number" : "a number >= 0");
  }
  out = *value;
  return ok_status();
}

// [pressure]: the memory-pressure thresholds and hysteresis (PressureThresholds), checked
// together: a warning line below the critical one is refused.
Status read_pressure_thresholds(const std::string& path, const toml::table& table,
                                RuntimeOptions& runtime) {
  PressureThresholds t = runtime.pressure_thresholds;
  const std::pair<const char*, double*> keys[] = {
      {"warning_available_fraction", &t.warning_available_fraction},
      {"critical_available_fraction", &t.critical_available_fraction},
      {"warning_some_avg10", &t.warning_some_avg10},
      {"warning_full_avg10", &t.warning_full_avg10},
      {"critical_some_avg10", &t.critical_some_avg10},
      {"critical_full_avg10", &t.critical_full_avg10},
      {"available_recovery_margin", &t.available_recovery_margin},
      {"psi_recovery_fraction", &t.psi_recovery_fraction}};
  for (const auto& [key, value] : keys) {
    LOCARA_RETURN_IF_ERROR(read_number(path, table, "pressure", key, 0, *value));
  }
  double samples = t.recovery_samples;
  LOCARA_RETURN_IF_ERROR(read_number(path, table, "pressure", "recovery_samples", 1, samples));
  t.recovery_samples = static_cast<int>(samples);
  if (Status valid = t.validate(); !valid) {
    return make_error(ErrorCode::kInvalidArgument, "{}: [pressure]: {}", path,
                      valid.error().message);
  }
  runtime.pressure_thresholds = t;
  return ok_status();
}

}  // namespace

Status load_server_config(const std::string& path, ServerOptions& options) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& error) {
    return make_error(ErrorCode::kInvalidArgument, "{}:{}: {}", path, error.source().begin.line,
                      std::string(error.description()));
  }
  const std::map<std::string, std::set<std::string>> known = {
      {"server",
       {"host", "port", "models_dir", "parallelism", "max_queue", "threads_per_sequence",
        "max_body_mb", "http_threads", "write_timeout_s", "stream_capacity", "socket_buffer_kb"}},
      {"apps", {"default_memory_gb"}},
      {"runtime", {"budget_gb", "idle_timeout_s", "context"}},
      {"pressure",
       {"warning_available_fraction", "critical_available_fraction", "warning_some_avg10",
        "warning_full_avg10", "critical_some_avg10", "critical_full_avg10",
        "available_recovery_margin", "psi_recovery_fraction", "recovery_samples"}},
      {"power", {"low_battery_percent"}}};
  for (const auto& [section, node] : root) {
    auto keys = known.find(std::string(section.str()));
    if (keys == known.end() || !node.is_table()) {
      return make_error(ErrorCode::kInvalidArgument, "{}:{}: unknown section '{}'", path,
                        node.source().begin.line, section.str());
    }
    for (const auto& [key, value] : *node.as_table()) {
      if (keys->second.count(std::string(key.str())) == 0) {
        return make_error(ErrorCode::kInvalidArgument, "{}:{}: unknown key '{}.{}'", path,
                          value.source().begin.line, section.str(), key.str());
      }
    }
  }
  if (const toml::table* server = root["server"].as_table()) {
    if (const toml::node* host = server->get("host")) {
      if (!host->is_string()) return key_error(path, *host, "server.host", "a string");
      options.host = *host->value<std::string>();
    }
    if (const toml::node* dir = server->get("models_dir")) {
      if (!dir->is_string()) return key_error(path, *dir, "server.models_dir", "a string");
      options.models_dir = *dir->value<std::string>();
    }
    double port = options.port, parallelism = options.parallelism, queue = options.max_queue;
    double threads = options.threads_per_sequence, http = options.http_threads;
    double body_mb = static_cast<double>(options.max_body_bytes) / (1024.0 * 1024.0);
    double write_timeout = static_cast<double>(options.write_timeout.count());
    double capacity = static_cast<double>(options.stream_capacity);
    double socket_kb = options.socket_buffer_bytes / 1024.0;
    LOCARA_RETURN_IF_ERROR(read_number(path, *server, "server", "port", 0, port));
    LOCARA_RETURN_IF_ERROR(read_number(path, *server, "server", "parallelism", 1, parallelism));
    LOCARA_RETURN_IF_ERROR(read_number(path, *server, "server", "max_queue", 0, queue));
    LOCARA_RETURN_IF_ERROR(
        read_number(path, *server, "server", "threads_per_sequence", 0, threads));
    LOCARA_RETURN_IF_ERROR(read_number(path, *server, "server", "max_body_mb", 0.001, body_mb));
    LOCARA_RETURN_IF_ERROR(read_number(path, *server, "server", "http_threads", 1, http));
    LOCARA_RETURN_IF_ERROR(
        read_number(path, *server, "server", "write_timeout_s", 1, write_timeout));
    LOCARA_RETURN_IF_ERROR(read_number(path, *server, "server", "stream_capacity", 1, capacity));
    LOCARA_RETURN_IF_ERROR(read_number(path, *server, "server", "socket_buffer_kb", 0, socket_kb));
    options.port = static_cast<int>(port);
    options.parallelism = static_cast<int>(parallelism);
    options.max_queue = static_cast<int>(queue);
    options.threads_per_sequence = static_cast<int>(threads);
    options.max_body_bytes = static_cast<size_t>(body_mb * 1024.0 * 1024.0);
    options.http_threads = static_cast<int>(http);
    options.write_timeout = std::chrono::seconds(static_cast<int64_t>(write_timeout));
    options.stream_capacity = static_cast<size_t>(capacity);
    options.socket_buffer_bytes = static_cast<int>(socket_kb * 1024.0);
  }
  if (const toml::table* apps = root["apps"].as_table()) {
    double gb = static_cast<double>(options.default_app_budget_bytes) / kGiB;
    LOCARA_RETURN_IF_ERROR(read_number(path, *apps, "apps", "default_memory_gb", 0.001, gb));
    options.default_app_budget_bytes = static_cast<uint64_t>(gb * kGiB);
  }
  if (const toml::table* runtime = root["runtime"].as_table()) {
    double budget = static_cast<double>(options.runtime.budget_bytes) / kGiB;
    double idle = std::chrono::duration<double>(options.runtime.idle_timeout).count();
    double context = static_cast<double>(options.runtime.plan.n_ctx);
    LOCARA_RETURN_IF_ERROR(read_number(path, *runtime, "runtime", "budget_gb", 0, budget));
    LOCARA_RETURN_IF_ERROR(read_number(path, *runtime, "runtime", "idle_timeout_s", 0, idle));
    LOCARA_RETURN_IF_ERROR(read_number(path, *runtime, "runtime", "context", 0, context));
    options.runtime.budget_bytes = static_cast<uint64_t>(budget * kGiB);
    options.runtime.idle_timeout =
        std::chrono::duration_cast<Duration>(std::chrono::duration<double>(idle));
    options.runtime.plan.n_ctx = static_cast<int64_t>(context);
  }
  if (const toml::table* pressure = root["pressure"].as_table()) {
    LOCARA_RETURN_IF_ERROR(read_pressure_thresholds(path, *pressure, options.runtime));
  }
  if (const toml::table* power = root["power"].as_table()) {
    double percent = options.runtime.power_settings.low_battery_percent;
    LOCARA_RETURN_IF_ERROR(read_number(path, *power, "power", "low_battery_percent", 0, percent));
    if (percent > 100) {
      return key_error(path, *power->get("low_battery_percent"), "power.low_battery_percent",
                       "a percentage, 0 to 100");
    }
    options.runtime.power_settings.low_battery_percent = static_cast<int>(percent);
  }
  return ok_status();
}

}  // namespace locara::server
