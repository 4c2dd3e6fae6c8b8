// Thermal state: how hot the machine runs relative to where its firmware starts
// throttling, normalised to nominal | fair | serious | critical.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "platform/os_roots.h"

namespace locara {

enum class ThermalState { kNominal, kFair, kSerious, kCritical };

const char* thermal_state_name(ThermalState state);  // "nominal", "fair", ...

// A zone's lowest trip point of each kind, in millidegrees Celsius; nullopt when the zone
// has none. "active" trips (fan speeds) are not kept: a fan spinning up costs no speed.
struct ThermalTrips {
  std::optional<int64_t> passive;   // the firmware starts throttling the CPU
  std::optional<int64_t> hot;       // the platform is told to act (throttle hard, warn)
  std::optional<int64_t> critical;  // the kernel shuts the machine down
};

// The mapping, per zone (`fair_fraction` defaults to 0.8):
//   critical  temp >= the lowest hot or critical trip
//   serious   temp >= the lowest passive trip; with no passive trip, 90% of the lowest
//             hot/critical trip stands in for it (acpitz zones often have only a
//             critical trip, and throttling starts well below it)
//   fair      temp >= fair_fraction x that serious point
//   nominal   below, or the zone has no usable trip point
// Fractions are of degrees Celsius: crude physics, but the firmware's own trip points are
// the only scale the kernel gives, and they put "fair" some 15-20 degrees below throttling.
ThermalState classify_thermal_zone(int64_t temp_millicelsius, const ThermalTrips& trips,
                                   double fair_fraction = 0.8);

struct ThermalZone {
  std::string name;  // "thermal_zone0"
  std::string type;  // what it measures, e.g. "x86_pkg_temp", "acpitz", "cpu-thermal"
  int64_t temp_millicelsius = 0;
  ThermalTrips trips;
  ThermalState state = ThermalState::kNominal;
};

// The machine's state: its hottest zone's. Plain data.
struct ThermalReading {
  ThermalState state = ThermalState::kNominal;
  std::vector<ThermalZone> zones;  // every zone read, in name order
  std::vector<std::string> notes;  // zones skipped, and why
};

// Reads <sys>/class/thermal/thermal_zone*/{temp,type,mode,trip_point_N_type,
// trip_point_N_temp}. Disabled zones (mode "disabled"), unreadable temperatures (some
// sensors answer EIO while powered down) and trip points at or below 0 (how firmware marks
// unused ones) are skipped with a note. No zones at all (VMs, containers): nominal.
// Never fails. Thread-safe.
ThermalReading read_thermal_state(const OsRoots& roots = {}, double fair_fraction = 0.8);

}  // namespace locara
