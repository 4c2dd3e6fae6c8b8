#include "cli/ps_command.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <httplib.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "locara/runtime.h"

// `locara ps` asks the daemon's GET /api/ps: the Ollama-shaped list of loaded models (name,
// planned size, context, keep-alive expiry), to which Locara's daemon adds the runtime's
// "kv_type", "pinned_by", "idle_seconds", "in_use" and "owner_apps" (Ollama clients ignore
// them). Locara's own API (/locara/v1/) has no per-model listing. An answer without those
// fields (an older daemon, or Ollama itself) shows "-" in their columns, said on stderr.

namespace locara::cli {
namespace {

using nlohmann::json;

// One /api/ps entry as the table needs it; absent fields stay empty.
struct PsRow {
  std::string name;
  std::optional<uint64_t> size_bytes;
  std::optional<int64_t> context;
  std::optional<std::string> kv_type;
  std::optional<std::vector<std::string>> pinned_by;
  std::optional<double> idle_seconds;
  bool in_use = false;
  std::optional<std::time_t> expires_at;  // seconds since the epoch, UTC
  std::optional<std::vector<std::string>> owner_apps;
};

// "2024-05-01T12:00:00.123456Z" (what the daemon writes; fractions and offsets beyond UTC
// are not needed here, so another form reads as absent).
std::optional<std::time_t> parse_rfc3339_utc(const std::string& text) {
  std::tm utc{};
  int fraction_chars = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &utc.tm_year, &utc.tm_mon,
                  &utc.tm_mday, &utc.tm_hour, &utc.tm_min, &utc.tm_sec, &fraction_chars) != 6) {
    return std::nullopt;
  }
  if (text.find('Z', static_cast<size_t>(fraction_chars)) == std::string::npos) {
    return std::nullopt;
  }
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  return timegm(&utc);
}

std::optional<std::vector<std::string>> string_list(const json& entry, const char* key) {
  const auto it = entry.find(key);
  if (it == entry.end() || !it->is_array()) return std::nullopt;
  std::vector<std::string> items;
  for (const json& item : *it) {
    if (item.is_string()) items.push_back(item.get<std::string>());
  }
  return items;
}

template <typename T>
std::optional<T> number(const json& entry, const char* key) {
  const auto it = entry.find(key);
  if (it == entry.end() || !it->is_number()) return std::nullopt;
  return it->get<T>();
}

PsRow parse_row(const json& entry) {
  PsRow row;
  row.name = entry.value("name", entry.value("model", std::string("?")));
  row.size_bytes = number<uint64_t>(entry, "size");
  row.context = number<int64_t>(entry, "context_length");
  if (auto it = entry.find("kv_type"); it != entry.end() && it->is_string()) {
    row.kv_type = it->get<std::string>();
  }
  row.pinned_by = string_list(entry, "pinned_by");
  row.idle_seconds = number<double>(entry, "idle_seconds");
  row.in_use = entry.value("in_use", false);
  if (auto it = entry.find("expires_at"); it != entry.end() && it->is_string()) {
    row.expires_at = parse_rfc3339_utc(it->get<std::string>());
  }
  row.owner_apps = string_list(entry, "owner_apps");
  return row;
}

std::string format_duration(double seconds) {
  const auto whole = static_cast<int64_t>(seconds);
  if (whole < 60) return fmt::format("{}s", whole);
  if (whole < 3600) return fmt::format("{}m{:02}s", whole / 60, whole % 60);
  return fmt::format("{}h{:02}m", whole / 3600, whole % 3600 / 60);
}

std::string format_list(const std::optional<std::vector<std::string>>& items,
                        const char* when_empty) {
  if (!items) return "-";
  return items->empty() ? when_empty : fmt::format("{}", fmt::join(*items, ","));
}

void print_table(const std::vector<PsRow>& rows) {
  constexpr const char* kRow = "{:<24} {:>11} {:>8} {:<5} {:<10} {:<8} {:<8} {}\n";
  fmt::print(kRow, "MODEL", "SIZE", "CONTEXT", "KV", "PINNED", "IDLE", "UNTIL", "APPS");
  const std::time_t now = std::time(nullptr);
  for (const PsRow& r : rows) {
    std::string idle = "-";
    if (r.in_use) {
      idle = "in use";
    } else if (r.idle_seconds) {
      idle = format_duration(*r.idle_seconds);
    }
    std::string until = "-";
    if (r.expires_at) {
      until = format_duration(static_cast<double>(std::max<std::time_t>(0, *r.expires_at - now)));
    }
    fmt::print(kRow, r.name, r.size_bytes ? format_bytes(*r.size_bytes) : "-",
               r.context ? std::to_string(*r.context) : "-", r.kv_type.value_or("-"),
               format_list(r.pinned_by, "no"), idle, until, format_list(r.owner_apps, "-"));
  }
}

// The columns no entry filled, named for the note under the table.
std::vector<std::string> missing_columns(const std::vector<PsRow>& rows) {
  bool kv = false, pins = false, idle = false, apps = false;
  for (const PsRow& r : rows) {
    kv |= r.kv_type.has_value();
    pins |= r.pinned_by.has_value();
    idle |= r.idle_seconds.has_value() || r.in_use;
    apps |= r.owner_apps.has_value();
  }
  std::vector<std::string> missing;
  if (!kv) missing.emplace_back("KV type");
  if (!pins) missing.emplace_back("pins");
  if (!idle) missing.emplace_back("idle time");
  if (!apps) missing.emplace_back("owner apps");
  return missing;
}

std::string describe(httplib::Error error, int timeout_seconds) {
  switch (error) {
    case httplib::Error::Connection:
      return "nothing accepted the connection";
    case httplib::Error::ConnectionTimeout:
    case httplib::Error::Read:
      return fmt::format("no answer within {} s", timeout_seconds);
    default:
      return httplib::to_string(error);
  }
}

}  // namespace

Command add_ps_command(CLI::App& app) {
  auto options = std::make_shared<PsOptions>();
  CLI::App* ps = app.add_subcommand(
      "ps",
      "List the models a running daemon (`locara serve`) holds: size, context, KV type, pins, "
      "idle time, how long they stay loaded, owner apps");
  ps->add_option("--host", options->host, "Address the daemon listens on")->capture_default_str();
  ps->add_option("--port", options->port, "Its port")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  ps->add_option("--timeout", options->timeout_seconds, "Seconds to wait for it")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  return {ps, [options] { return ps_command(*options); }};
}

int ps_command(const PsOptions& options) {
  const std::string address = fmt::format("http://{}:{}", options.host, options.port);
  httplib::Client client(options.host, options.port);
  client.set_connection_timeout(options.timeout_seconds, 0);
  client.set_read_timeout(options.timeout_seconds, 0);
  const httplib::Result result = client.Get("/api/ps");
  if (!result) {
    fmt::print(stderr,
               "error: no Locara daemon answers at {} ({}); start one with `locara serve`, or "
               "name its address with --host and --port\n",
               address, describe(result.error(), options.timeout_seconds));
    return 1;
  }
  if (result->status != 200) {
    fmt::print(stderr, "error: the daemon at {} answered GET /api/ps with HTTP {}: {}\n", address,
               result->status, result->body.substr(0, 200));
    return 1;
  }
  const json body = json::parse(result->body, nullptr, false);
  if (!body.is_object() || !body.contains("models") || !body["models"].is_array()) {
    fmt::print(stderr,
               "error: {} answered GET /api/ps with something other than {{\"models\": [...]}}; "
               "is it a Locara (or Ollama-compatible) daemon?\n",
               address);
    return 1;
  }
  std::vector<PsRow> rows;
  for (const json& entry : body["models"]) {
    if (entry.is_object()) rows.push_back(parse_row(entry));
  }
  print_table(rows);
  if (const auto missing = missing_columns(rows); !rows.empty() && !missing.empty()) {
    fmt::print(stderr, "note: the daemon at {} does not report {} (shown as -)\n", address,
               fmt::join(missing, ", "));
  }
  return 0;
}

}  // namespace locara::cli
