// Low-power mode: whether the battery or the user's power profile asks the machine to
// save energy. The runtime downshifts (no speculation, shorter outputs) while it holds.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "platform/os_roots.h"

namespace locara {

struct PowerSettings {
  int low_battery_percent = 20;  // on battery and below this charge: low power
};

// Plain data. Low power holds when ANY of:
//   on battery (a system battery discharging) with battery_percent < low_battery_percent
//   platform_profile is "low-power" or "quiet" (what power-profiles-daemon writes for its
//     power-saver profile, "quiet" where the firmware offers no "low-power")
//   daemon_profile is "power-saver"
struct PowerState {
  bool low_power = false;
  std::string reason;  // which signal made it low power; "" when none
  bool on_battery = false;
  std::optional<int> battery_percent;  // mean charge of the system batteries, 0-100
  std::string platform_profile;        // "" when the firmware has none
  std::string daemon_profile;          // power-profiles-daemon's saved choice; "" if none
  std::vector<std::string> notes;      // signals missing or ignored, and why
};

// Sets low_power and reason from the other fields, as documented on PowerState.
void classify_power(const PowerSettings& settings, PowerState* state);

// Reads, then classifies:
//   <sys>/class/power_supply/*/{type,scope,status,capacity} - batteries: type "Battery",
//     scope not "Device" (a mouse or headset battery says nothing about this machine);
//     without capacity, energy_now/energy_full or charge_now/charge_full
//   <sys>/firmware/acpi/platform_profile
//   <var_lib>/power-profiles-daemon/state.ini, [State] Profile=: the profile the user
//     last chose (the daemon's D-Bus property is the live value; this file is the only
//     file-based trace of it, and is not updated for temporary "holds")
// Missing files mean "no such signal" (desktops have no battery); never fails.
// Thread-safe.
PowerState read_power_state(const PowerSettings& settings = {}, const OsRoots& roots = {});

}  // namespace locara
