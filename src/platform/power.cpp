#include "platform/power.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "platform/small_file.h"
#include "platform/text_parse.h"

namespace locara {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_word(const fs::path& path) {
  auto text = read_small_file(path.string());
  if (!text) return std::nullopt;
  return std::string(text::trim(*text));
}

// A battery's charge in percent: "capacity", else the ratio of now to full.
std::optional<int> battery_percent(const fs::path& supply, std::vector<std::string>* notes) {
  if (auto capacity = read_word(supply / "capacity")) {
    const auto value = text::parse_i64(*capacity);
    if (value && *value >= 0) return static_cast<int>(std::min<int64_t>(*value, 100));
    notes->push_back(
        fmt::format("{}/capacity: ignored, not a percentage: '{}'", supply.string(), *capacity));
    return std::nullopt;
  }
  for (const char* kind : {"energy", "charge"}) {
    const auto now = read_word(supply / fmt::format("{}_now", kind));
    const auto full = read_word(supply / fmt::format("{}_full", kind));
    if (!now || !full) continue;
    const auto now_value = text::parse_u64(*now);
    const auto full_value = text::parse_u64(*full);
    if (now_value && full_value && *full_value > 0) {
      const double ratio = static_cast<double>(*now_value) / static_cast<double>(*full_value);
      return static_cast<int>(std::min(100.0, 100.0 * ratio));
    }
  }
  notes->push_back(fmt::format("{}: battery without a readable charge", supply.string()));
  return std::nullopt;
}

void read_batteries(const OsRoots& roots, PowerState* state) {
  const fs::path supplies = fs::path(roots.sys) / "class/power_supply";
  std::error_code error;
  int percent_sum = 0;
  int percent_count = 0;
  for (fs::directory_iterator it(supplies, error), end; !error && it != end; it.increment(error)) {
    const fs::path& supply = it->path();
    if (read_word(supply / "type") != "Battery") continue;
    if (read_word(supply / "scope") == "Device") continue;  // a peripheral's battery
    if (read_word(supply / "status") == "Discharging") state->on_battery = true;
    if (const auto percent = battery_percent(supply, &state->notes)) {
      percent_sum += *percent;
      ++percent_count;
    }
  }
  if (percent_count > 0) state->battery_percent = percent_sum / percent_count;
}

// The value of `key` in `section` of a simple INI file ("" when absent).
std::string ini_value(std::string_view text, std::string_view section, std::string_view key) {
  std::string_view current;
  for (std::string_view line : text::split_lines(text)) {
    line = text::trim(line);
    if (line.size() >= 2 && line.front() == '[' && line.back() == ']') {
      current = line.substr(1, line.size() - 2);
      continue;
    }
    const size_t equals = line.find('=');
    if (current != section || equals == std::string_view::npos) continue;
    if (text::trim(line.substr(0, equals)) == key) {
      return std::string(text::trim(line.substr(equals + 1)));
    }
  }
  return "";
}

}  // namespace

void classify_power(const PowerSettings& settings, PowerState* state) {
  state->low_power = true;
  if (state->on_battery && state->battery_percent &&
      *state->battery_percent < settings.low_battery_percent) {
    state->reason = fmt::format("on battery at {}% (below {}%)", *state->battery_percent,
                                settings.low_battery_percent);
  } else if (state->platform_profile == "low-power" || state->platform_profile == "quiet") {
    state->reason = fmt::format("platform profile '{}'", state->platform_profile);
  } else if (state->daemon_profile == "power-saver") {
    state->reason = "power-profiles-daemon profile 'power-saver'";
  } else {
    state->low_power = false;
    state->reason.clear();
  }
}

PowerState read_power_state(const PowerSettings& settings, const OsRoots& roots) {
  PowerState state;
  read_batteries(roots, &state);
  if (auto profile = read_word(fs::path(roots.sys) / "firmware/acpi/platform_profile")) {
    state.platform_profile = *profile;
  }
  const std::string state_ini = roots.var_lib + "/power-profiles-daemon/state.ini";
  if (auto text = read_small_file(state_ini, 64 * 1024)) {
    state.daemon_profile = ini_value(*text, "State", "Profile");
    if (state.daemon_profile.empty()) {
      state.notes.push_back(fmt::format("{}: no [State] Profile", state_ini));
    }
  }
  classify_power(settings, &state);
  return state;
}

}  // namespace locara
