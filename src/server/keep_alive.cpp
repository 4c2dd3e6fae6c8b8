#include "server/keep_alive.h"

#include <cctype>
#include <cmath>

namespace locara::server {
namespace {

// "1h30m", "5m", "300ms", "2.5s", "10" (seconds), "-1"; Go's duration units.
std::optional<double> parse_duration_seconds(std::string_view text) {
  if (text.empty()) return std::nullopt;
  bool negative = false;
  if (text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  double total = 0.0;
  bool any = false;
  while (!text.empty()) {
    size_t digits = 0;
    while (digits < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    double value = 0.0;
    try {
      value = std::stod(std::string(text.substr(0, digits)));
    } catch (...) {
      return std::nullopt;
    }
    text.remove_prefix(digits);
    size_t unit_length = 0;
    while (unit_length < text.size() &&
           std::isalpha(static_cast<unsigned char>(text[unit_length]))) {
      ++unit_length;
    }
    const std::string_view unit = text.substr(0, unit_length);
    text.remove_prefix(unit_length);
    double scale = 0.0;
    if (unit.empty() && text.empty() && !any) {
      scale = 1.0;  // a bare number: seconds
    } else if (unit == "h") {
      scale = 3600.0;
    } else if (unit == "m") {
      scale = 60.0;
    } else if (unit == "s") {
      scale = 1.0;
    } else if (unit == "ms") {
      scale = 1e-3;
    } else if (unit == "us" || unit == "µs") {
      scale = 1e-6;
    } else if (unit == "ns") {
      scale = 1e-9;
    } else {
      return std::nullopt;
    }
    total += value * scale;
    any = true;
  }
  return negative ? -total : total;
}

}  // namespace

Expected<std::optional<std::chrono::milliseconds>> parse_keep_alive(const nlohmann::json* value) {
  using Result = std::optional<std::chrono::milliseconds>;
  if (value == nullptr || value->is_null()) return Result();
  std::optional<double> seconds;
  if (value->is_number()) {
    seconds = value->get<double>();
  } else if (value->is_string()) {
    seconds = parse_duration_seconds(value->get<std::string>());
  }
  if (!seconds || !std::isfinite(*seconds)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "'keep_alive' is {}; use a duration like \"5m\" or \"1h30m\", or seconds",
                      value->dump());
  }
  if (*seconds < 0) return Result(std::chrono::milliseconds(-1));
  return Result(std::chrono::milliseconds(static_cast<int64_t>(std::llround(*seconds * 1000.0))));
}

void KeepAlive::apply(const std::string& app, const std::string& model,
                      std::chrono::milliseconds duration) {
  std::lock_guard lock(mutex_);
  auto previous = windows_.find(model);
  if (previous != windows_.end() && previous->second.app != app) {
    (void)runtime_.unpin(previous->second.app, model);
  }
  if (duration.count() == 0) {
    if (previous != windows_.end()) windows_.erase(previous);
    (void)runtime_.unpin(app, model);
    (void)runtime_.unload(model);  // now, or when in-flight requests end
    return;
  }
  if (!runtime_.pin(app, model)) return;  // pressure: the runtime decides
  Window window{app, std::nullopt, {}};
  if (duration.count() > 0) {
    window.until = std::chrono::steady_clock::now() + duration;
    window.until_wall = std::chrono::system_clock::now() + duration;
  }
  windows_[model] = window;
}

void KeepAlive::end_window_locked(const std::string& model, const Window& window) {
  (void)runtime_.unpin(window.app, model);
  for (const ModelStatus& status : runtime_.ps()) {
    if (status.name == model && status.leases == 0 && status.pinned_by.empty()) {
      (void)runtime_.unload(model);
    }
  }
}

void KeepAlive::tick() {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  for (auto it = windows_.begin(); it != windows_.end();) {
    if (it->second.until && *it->second.until <= now) {
      end_window_locked(it->first, it->second);
      it = windows_.erase(it);
    } else {
      ++it;
    }
  }
}

std::optional<std::chrono::system_clock::time_point> KeepAlive::expires_at(
    const std::string& model) const {
  std::lock_guard lock(mutex_);
  auto it = windows_.find(model);
  if (it == windows_.end() || !it->second.until) return std::nullopt;
  return it->second.until_wall;
}

}  // namespace locara::server
