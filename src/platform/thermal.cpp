#include "platform/thermal.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "platform/small_file.h"
#include "platform/text_parse.h"

namespace locara {
namespace {

namespace fs = std::filesystem;

// More trip points than any zone has; bounds the scan of a garbled directory.
constexpr int kMaxTripPoints = 64;

void keep_lowest(std::optional<int64_t>* slot, int64_t temp) {
  if (!*slot || temp < **slot) *slot = temp;
}

// "thermal_zone12" -> true.
bool is_zone_directory_name(const std::string& name) {
  constexpr std::string_view kPrefix = "thermal_zone";
  return name.size() > kPrefix.size() && name.compare(0, kPrefix.size(), kPrefix) == 0 &&
         std::all_of(name.begin() + kPrefix.size(), name.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

ThermalTrips read_trips(const fs::path& zone, std::vector<std::string>* notes) {
  ThermalTrips trips;
  for (int n = 0; n < kMaxTripPoints; ++n) {
    const std::string prefix = (zone / fmt::format("trip_point_{}_", n)).string();
    auto type = read_small_file(prefix + "type");
    if (!type) break;  // numbered from 0 without gaps
    const std::string_view kind = text::trim(*type);
    std::optional<int64_t>* slot = kind == "passive"    ? &trips.passive
                                   : kind == "hot"      ? &trips.hot
                                   : kind == "critical" ? &trips.critical
                                                        : nullptr;
    if (slot == nullptr) continue;  // "active": a fan step
    auto text = read_small_file(prefix + "temp");
    const auto temp = text ? text::parse_i64(*text) : std::nullopt;
    if (!temp) {
      notes->push_back(fmt::format("{}temp: ignored, unreadable or not a temperature", prefix));
      continue;
    }
    if (*temp <= 0) continue;  // unused trip point
    keep_lowest(slot, *temp);
  }
  return trips;
}

}  // namespace

const char* thermal_state_name(ThermalState state) {
  switch (state) {
    case ThermalState::kNominal:
      return "nominal";
    case ThermalState::kFair:
      return "fair";
    case ThermalState::kSerious:
      return "serious";
    case ThermalState::kCritical:
      return "critical";
  }
  return "unknown";
}

ThermalState classify_thermal_zone(int64_t temp_millicelsius, const ThermalTrips& trips,
                                   double fair_fraction) {
  std::optional<int64_t> limit;
  if (trips.hot) keep_lowest(&limit, *trips.hot);
  if (trips.critical) keep_lowest(&limit, *trips.critical);
  if (limit && temp_millicelsius >= *limit) return ThermalState::kCritical;

  std::optional<double> serious_at;
  if (trips.passive) {
    serious_at = static_cast<double>(*trips.passive);
  } else if (limit) {
    serious_at = 0.9 * static_cast<double>(*limit);
  }
  if (!serious_at) return ThermalState::kNominal;
  const double temp = static_cast<double>(temp_millicelsius);
  if (temp >= *serious_at) return ThermalState::kSerious;
  if (temp >= fair_fraction * *serious_at) return ThermalState::kFair;
  return ThermalState::kNominal;
}

ThermalReading read_thermal_state(const OsRoots& roots, double fair_fraction) {
  ThermalReading reading;
  const fs::path thermal_root = fs::path(roots.sys) / "class/thermal";
  std::error_code error;
  std::vector<fs::path> zone_dirs;
  for (fs::directory_iterator it(thermal_root, error), end; !error && it != end;
       it.increment(error)) {
    if (is_zone_directory_name(it->path().filename().string())) zone_dirs.push_back(it->path());
  }
  // Numeric order, so thermal_zone10 follows thermal_zone9.
  std::sort(zone_dirs.begin(), zone_dirs.end(), [](const fs::path& a, const fs::path& b) {
    const std::string x = a.filename().string(), y = b.filename().string();
    return x.size() != y.size() ? x.size() < y.size() : x < y;
  });

  for (const fs::path& dir : zone_dirs) {
    ThermalZone zone;
    zone.name = dir.filename().string();
    if (auto mode = read_small_file((dir / "mode").string());
        mode && text::trim(*mode) == "disabled") {
      reading.notes.push_back(fmt::format("{}: skipped, disabled", zone.name));
      continue;
    }
    auto temp_text = read_small_file((dir / "temp").string());
    if (!temp_text) {
      reading.notes.push_back(fmt::format("{}: skipped: {}", zone.name, temp_text.error().message));
      continue;
    }
    const auto temp = text::parse_i64(*temp_text);
    if (!temp) {
      reading.notes.push_back(fmt::format("{}: skipped, temp is not a temperature: '{}'", zone.name,
                                          text::trim(*temp_text)));
      continue;
    }
    if (auto type = read_small_file((dir / "type").string())) zone.type = text::trim(*type);
    zone.temp_millicelsius = *temp;
    zone.trips = read_trips(dir, &reading.notes);
    if (!zone.trips.passive && !zone.trips.hot && !zone.trips.critical) {
      reading.notes.push_back(
          fmt::format("{} ({}): no trip point to judge by, counted nominal", zone.name, zone.type));
    }
    zone.state = classify_thermal_zone(zone.temp_millicelsius, zone.trips, fair_fraction);
    reading.state = std::max(reading.state, zone.state);
    reading.zones.push_back(std::move(zone));
  }
  return reading;
}

}  // namespace locara
