// Thermal state from fake /sys/class/thermal trees: each state, trip kinds, missing zones.
#include "platform/thermal.h"

#include <gtest/gtest.h>

#include <string>

#include "platform/fake_os.h"

namespace locara {
namespace {

using testing::fake_roots;
using testing::ScratchDir;

constexpr ThermalState kNominal = ThermalState::kNominal;
constexpr ThermalState kFair = ThermalState::kFair;
constexpr ThermalState kSerious = ThermalState::kSerious;
constexpr ThermalState kCritical = ThermalState::kCritical;

// Writes thermal_zone<n> with a temperature and (type, temp) trip points.
void add_zone(const ScratchDir& dir, int n, const std::string& type, const std::string& temp,
              const std::vector<std::pair<std::string, std::string>>& trips = {}) {
  const std::string zone = "sys/class/thermal/thermal_zone" + std::to_string(n) + "/";
  dir.write_text(zone + "type", type + "\n");
  dir.write_text(zone + "temp", temp + "\n");
  for (size_t i = 0; i < trips.size(); ++i) {
    const std::string trip = zone + "trip_point_" + std::to_string(i) + "_";
    dir.write_text(trip + "type", trips[i].first + "\n");
    dir.write_text(trip + "temp", trips[i].second + "\n");
  }
}

bool has_note_containing(const ThermalReading& r, const std::string& needle) {
  for (const std::string& note : r.notes) {
    if (note.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(ThermalState, Names) {
  EXPECT_STREQ(thermal_state_name(kNominal), "nominal");
  EXPECT_STREQ(thermal_state_name(kFair), "fair");
  EXPECT_STREQ(thermal_state_name(kSerious), "serious");
  EXPECT_STREQ(thermal_state_name(kCritical), "critical");
}

TEST(ThermalClassify, PassiveTripSetsSeriousAndFair) {
  const ThermalTrips trips{90000, std::nullopt, 105000};
  EXPECT_EQ(classify_thermal_zone(40000, trips), kNominal);
  EXPECT_EQ(classify_thermal_zone(71999, trips), kNominal);  // fair from 80% of 90 C = 72 C
  EXPECT_EQ(classify_thermal_zone(72000, trips), kFair);
  EXPECT_EQ(classify_thermal_zone(89999, trips), kFair);
  EXPECT_EQ(classify_thermal_zone(90000, trips), kSerious);
  EXPECT_EQ(classify_thermal_zone(104999, trips), kSerious);
  EXPECT_EQ(classify_thermal_zone(105000, trips), kCritical);
  EXPECT_EQ(classify_thermal_zone(-5000, trips), kNominal);
  EXPECT_EQ(classify_thermal_zone(85000, trips, 0.95), kNominal);  // fair from 85.5 C
}

TEST(ThermalClassify, HotTripIsCritical) {
  const ThermalTrips trips{80000, 95000, 105000};
  EXPECT_EQ(classify_thermal_zone(94000, trips), kSerious);
  EXPECT_EQ(classify_thermal_zone(95000, trips), kCritical);
}

TEST(ThermalClassify, WithoutPassiveTripNinetyPercentOfCriticalStandsIn) {
  const ThermalTrips trips{std::nullopt, std::nullopt, 100000};
  EXPECT_EQ(classify_thermal_zone(71000, trips), kNominal);
  EXPECT_EQ(classify_thermal_zone(72000, trips), kFair);  // 80% of 90 C
  EXPECT_EQ(classify_thermal_zone(90000, trips), kSerious);
  EXPECT_EQ(classify_thermal_zone(100000, trips), kCritical);
}

TEST(ThermalClassify, NoTripsIsNominal) {
  EXPECT_EQ(classify_thermal_zone(150000, ThermalTrips{}), kNominal);
}

TEST(ThermalRead, EachStateFromAZone) {
  const std::vector<std::pair<std::string, ThermalState>> cases = {
      {"45000", kNominal}, {"75000", kFair}, {"91000", kSerious}, {"106000", kCritical}};
  for (const auto& [temp, expected] : cases) {
    ScratchDir dir;
    add_zone(dir, 0, "x86_pkg_temp", temp,
             {{"active", "50000"}, {"passive", "90000"}, {"critical", "105000"}});
    const ThermalReading r = read_thermal_state(fake_roots(dir));
    ASSERT_EQ(r.zones.size(), 1u);
    EXPECT_EQ(r.state, expected) << temp;
    EXPECT_EQ(r.zones[0].type, "x86_pkg_temp");
    EXPECT_EQ(r.zones[0].trips.passive, 90000);
    EXPECT_EQ(r.zones[0].trips.critical, 105000);
    EXPECT_FALSE(r.zones[0].trips.hot);
    EXPECT_TRUE(r.notes.empty());
  }
}

TEST(ThermalRead, HottestZoneWinsAndZonesSortNumerically) {
  ScratchDir dir;
  add_zone(dir, 2, "acpitz", "95000", {{"critical", "105000"}});  // serious (>= 94.5 C)
  add_zone(dir, 10, "cpu", "30000", {{"passive", "85000"}});
  add_zone(dir, 1, "pch", "60000", {{"passive", "0"}, {"hot", "-273200"}});  // unused trips
  const ThermalReading r = read_thermal_state(fake_roots(dir));
  ASSERT_EQ(r.zones.size(), 3u);
  EXPECT_EQ(r.zones[0].name, "thermal_zone1");
  EXPECT_EQ(r.zones[1].name, "thermal_zone2");
  EXPECT_EQ(r.zones[2].name, "thermal_zone10");
  EXPECT_EQ(r.zones[0].state, kNominal);
  EXPECT_FALSE(r.zones[0].trips.passive);
  EXPECT_TRUE(has_note_containing(r, "thermal_zone1 (pch): no trip point"));
  EXPECT_EQ(r.zones[1].state, kSerious);
  EXPECT_EQ(r.zones[2].state, kNominal);
  EXPECT_EQ(r.state, kSerious);
}

TEST(ThermalRead, MissingZonesAreNominal) {
  ScratchDir dir;
  const ThermalReading nothing = read_thermal_state(fake_roots(dir));
  EXPECT_EQ(nothing.state, kNominal);
  EXPECT_TRUE(nothing.zones.empty());
  dir.write_text("sys/class/thermal/cooling_device0/type", "Processor\n");  // not a zone
  EXPECT_TRUE(read_thermal_state(fake_roots(dir)).zones.empty());
}

TEST(ThermalRead, BadZonesAreSkippedWithNotes) {
  ScratchDir dir;
  add_zone(dir, 0, "off", "120000", {{"critical", "100000"}});
  dir.write_text("sys/class/thermal/thermal_zone0/mode", "disabled\n");
  add_zone(dir, 1, "garbled", "hot", {{"critical", "100000"}});
  dir.write_text("sys/class/thermal/thermal_zone2/type", "no temp file\n");
  add_zone(dir, 3, "bad trip", "50000", {{"passive", "warm"}, {"critical", "100000"}});
  const ThermalReading r = read_thermal_state(fake_roots(dir));
  EXPECT_EQ(r.state, kNominal);
  ASSERT_EQ(r.zones.size(), 1u);
  EXPECT_EQ(r.zones[0].name, "thermal_zone3");
  EXPECT_FALSE(r.zones[0].trips.passive);
  EXPECT_EQ(r.zones[0].trips.critical, 100000);
  EXPECT_TRUE(has_note_containing(r, "thermal_zone0: skipped, disabled"));
  EXPECT_TRUE(has_note_containing(r, "thermal_zone1: skipped, temp is not"));
  EXPECT_TRUE(has_note_containing(r, "thermal_zone2: skipped"));
  EXPECT_TRUE(has_note_containing(r, "trip_point_0_temp: ignored"));
}

TEST(ThermalRead, ThisMachineDoesNotFail) {
  const ThermalReading r = read_thermal_state();
  for (const ThermalZone& zone : r.zones) EXPECT_LE(zone.state, r.state);
}

}  // namespace
}  // namespace locara
