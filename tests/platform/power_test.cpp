// Low-power mode from fake power-supply, platform-profile and power-profiles-daemon files.
#include "platform/power.h"

#include <gtest/gtest.h>

#include <string>

#include "platform/fake_os.h"

namespace locara {
namespace {

using testing::fake_roots;
using testing::ScratchDir;

void add_battery(const ScratchDir& dir, const std::string& name, const std::string& status,
                 const std::string& capacity, const char* scope = nullptr) {
  const std::string supply = "sys/class/power_supply/" + name + "/";
  dir.write_text(supply + "type", "Battery\n");
  dir.write_text(supply + "status", status + "\n");
  if (!capacity.empty()) dir.write_text(supply + "capacity", capacity + "\n");
  if (scope != nullptr) dir.write_text(supply + "scope", std::string(scope) + "\n");
}

void add_mains(const ScratchDir& dir, bool online) {
  dir.write_text("sys/class/power_supply/AC/type", "Mains\n");
  dir.write_text("sys/class/power_supply/AC/online", online ? "1\n" : "0\n");
}

TEST(Power, NothingToReadIsNotLowPower) {
  ScratchDir dir;
  const PowerState s = read_power_state({}, fake_roots(dir));
  EXPECT_FALSE(s.low_power);
  EXPECT_FALSE(s.on_battery);
  EXPECT_FALSE(s.battery_percent);
  EXPECT_EQ(s.platform_profile, "");
  EXPECT_EQ(s.daemon_profile, "");
  EXPECT_TRUE(s.notes.empty());
}

TEST(Power, OnAcIsNotLowPower) {
  ScratchDir dir;
  add_mains(dir, true);
  add_battery(dir, "BAT0", "Charging", "12");
  const PowerState s = read_power_state({}, fake_roots(dir));
  EXPECT_FALSE(s.on_battery);
  EXPECT_EQ(s.battery_percent, 12);
  EXPECT_FALSE(s.low_power);
}

TEST(Power, DischargingBelowThresholdIsLowPower) {
  ScratchDir dir;
  add_mains(dir, false);
  add_battery(dir, "BAT0", "Discharging", "15");
  const PowerState s = read_power_state({}, fake_roots(dir));
  EXPECT_TRUE(s.on_battery);
  EXPECT_EQ(s.battery_percent, 15);
  EXPECT_TRUE(s.low_power);
  EXPECT_NE(s.reason.find("on battery at 15%"), std::string::npos) << s.reason;
}

TEST(Power, DischargingAboveThresholdIsNot) {
  ScratchDir dir;
  add_battery(dir, "BAT0", "Discharging", "80");
  EXPECT_FALSE(read_power_state({}, fake_roots(dir)).low_power);
  EXPECT_FALSE(read_power_state(PowerSettings{80}, fake_roots(dir)).low_power);  // 80 < 80: no
  EXPECT_TRUE(read_power_state(PowerSettings{90}, fake_roots(dir)).low_power);
}

TEST(Power, PeripheralBatteriesDoNotCount) {
  ScratchDir dir;
  add_battery(dir, "hidpp_battery_0", "Discharging", "5", "Device");
  const PowerState s = read_power_state({}, fake_roots(dir));
  EXPECT_FALSE(s.on_battery);
  EXPECT_FALSE(s.battery_percent);
  EXPECT_FALSE(s.low_power);
}

TEST(Power, TwoBatteriesAverageAndEnergyFallback) {
  ScratchDir dir;
  add_battery(dir, "BAT0", "Discharging", "30", "System");
  add_battery(dir, "BAT1", "Discharging", "");
  dir.write_text("sys/class/power_supply/BAT1/energy_now", "5000000\n");
  dir.write_text("sys/class/power_supply/BAT1/energy_full", "50000000\n");
  const PowerState s = read_power_state({}, fake_roots(dir));
  EXPECT_EQ(s.battery_percent, 20);  // (30 + 10) / 2
  EXPECT_FALSE(s.low_power);         // 20 is not below 20
  EXPECT_TRUE(read_power_state(PowerSettings{21}, fake_roots(dir)).low_power);
}

TEST(Power, GarbledCapacityIsIgnoredWithANote) {
  ScratchDir dir;
  add_battery(dir, "BAT0", "Discharging", "many");
  const PowerState s = read_power_state({}, fake_roots(dir));
  EXPECT_TRUE(s.on_battery);
  EXPECT_FALSE(s.battery_percent);
  EXPECT_FALSE(s.low_power);
  ASSERT_EQ(s.notes.size(), 1u);
  EXPECT_NE(s.notes[0].find("BAT0/capacity: ignored"), std::string::npos) << s.notes[0];
}

TEST(Power, PlatformProfile) {
  for (const auto& [profile, low] : std::vector<std::pair<std::string, bool>>{
           {"low-power", true}, {"quiet", true}, {"balanced", false}, {"performance", false}}) {
    ScratchDir dir;
    add_mains(dir, true);
    dir.write_text("sys/firmware/acpi/platform_profile", profile + "\n");
    const PowerState s = read_power_state({}, fake_roots(dir));
    EXPECT_EQ(s.platform_profile, profile);
    EXPECT_EQ(s.low_power, low) << profile;
    if (low) {
      EXPECT_NE(s.reason.find(profile), std::string::npos) << s.reason;
    }
  }
}

TEST(Power, PowerProfilesDaemonStateFile) {
  ScratchDir dir;
  dir.write_text("var/lib/power-profiles-daemon/state.ini",
                 "[State]\nCpuDriver=intel_pstate\nPlatformDriver=placeholder\n"
                 "Profile=power-saver\n");
  PowerState s = read_power_state({}, fake_roots(dir));
  EXPECT_EQ(s.daemon_profile, "power-saver");
  EXPECT_TRUE(s.low_power);
  EXPECT_NE(s.reason.find("power-saver"), std::string::npos);

  dir.write_text("var/lib/power-profiles-daemon/state.ini", "[State]\nProfile=balanced\n");
  s = read_power_state({}, fake_roots(dir));
  EXPECT_EQ(s.daemon_profile, "balanced");
  EXPECT_FALSE(s.low_power);

  dir.write_text("var/lib/power-profiles-daemon/state.ini", "[Other]\nProfile=power-saver\n");
  s = read_power_state({}, fake_roots(dir));
  EXPECT_EQ(s.daemon_profile, "");
  EXPECT_FALSE(s.low_power);
  EXPECT_EQ(s.notes.size(), 1u);
}

TEST(Power, ClassifyIsPure) {
  PowerState s;
  s.on_battery = true;
  s.battery_percent = 5;
  classify_power(PowerSettings{}, &s);
  EXPECT_TRUE(s.low_power);
  s.on_battery = false;
  classify_power(PowerSettings{}, &s);
  EXPECT_FALSE(s.low_power);
  EXPECT_EQ(s.reason, "");
}

TEST(Power, ThisMachineDoesNotFail) {
  const PowerState s = read_power_state();
  if (s.battery_percent) {
    EXPECT_GE(*s.battery_percent, 0);
    EXPECT_LE(*s.battery_percent, 100);
  }
}

}  // namespace
}  // namespace locara
