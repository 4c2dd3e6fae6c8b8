// The pure classification: thresholds, signal precedence and hysteresis sequences.
#include "platform/memory_pressure.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace locara {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kTotal = 16 * kGiB;

// A sample on a 16 GiB machine with `percent` of it available and optional stalls.
MemorySignals sample(double percent, double some = -1, double full = -1) {
  MemorySignals signals;
  signals.total_bytes = kTotal;
  signals.available_bytes = static_cast<uint64_t>(percent / 100.0 * static_cast<double>(kTotal));
  if (some >= 0) signals.psi = PsiAverages{some, full >= 0 ? full : 0.0};
  return signals;
}

constexpr PressureLevel N = PressureLevel::kNormal;
constexpr PressureLevel W = PressureLevel::kWarning;
constexpr PressureLevel C = PressureLevel::kCritical;

// Feeds samples one by one and returns the level after each.
std::vector<PressureLevel> run(PressureClassifier& classifier,
                               const std::vector<MemorySignals>& samples) {
  std::vector<PressureLevel> levels;
  for (const MemorySignals& s : samples) levels.push_back(classifier.update(s));
  return levels;
}

PressureClassifier with_recovery_samples(int n) {
  PressureThresholds thresholds;
  thresholds.recovery_samples = n;
  auto classifier = PressureClassifier::create(thresholds);
  EXPECT_TRUE(classifier) << classifier.error().message;
  return std::move(classifier).value();
}

TEST(PressureLevel, Names) {
  EXPECT_STREQ(pressure_level_name(N), "normal");
  EXPECT_STREQ(pressure_level_name(W), "warning");
  EXPECT_STREQ(pressure_level_name(C), "critical");
}

TEST(PressureThresholds, DefaultsAreValidAndDocumented) {
  const PressureThresholds t;
  EXPECT_TRUE(t.validate());
  EXPECT_DOUBLE_EQ(t.warning_available_fraction, 0.15);
  EXPECT_DOUBLE_EQ(t.critical_available_fraction, 0.05);
  EXPECT_DOUBLE_EQ(t.warning_some_avg10, 10.0);
  EXPECT_DOUBLE_EQ(t.warning_full_avg10, 2.0);
  EXPECT_DOUBLE_EQ(t.critical_some_avg10, 40.0);
  EXPECT_DOUBLE_EQ(t.critical_full_avg10, 5.0);
  EXPECT_EQ(t.recovery_samples, 5);
}

TEST(PressureThresholds, RejectsNonsense) {
  const auto rejects = [](auto edit) {
    PressureThresholds t;
    edit(t);
    const Status status = t.validate();
    EXPECT_FALSE(status);
    if (!status) {
      EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
    }
    EXPECT_FALSE(PressureClassifier::create(t));
  };
  rejects([](PressureThresholds& t) { t.warning_available_fraction = 1.5; });
  rejects([](PressureThresholds& t) { t.critical_available_fraction = -0.1; });
  rejects([](PressureThresholds& t) { t.critical_available_fraction = 0.2; });  // > warning
  rejects([](PressureThresholds& t) { t.warning_some_avg10 = -1; });
  rejects([](PressureThresholds& t) { t.critical_full_avg10 = std::nan(""); });
  rejects([](PressureThresholds& t) { t.available_recovery_margin = -0.01; });
  rejects([](PressureThresholds& t) { t.psi_recovery_fraction = 2; });
  rejects([](PressureThresholds& t) { t.recovery_samples = 0; });
}

TEST(PressureClassifier, AvailableMemoryThresholds) {
  const PressureClassifier c;
  EXPECT_EQ(c.instantaneous_level(sample(50)), N);
  EXPECT_EQ(c.instantaneous_level(sample(15.01)), N);
  EXPECT_EQ(c.instantaneous_level(sample(14.9)), W);
  EXPECT_EQ(c.instantaneous_level(sample(5.01)), W);
  EXPECT_EQ(c.instantaneous_level(sample(4.9)), C);
  EXPECT_EQ(c.instantaneous_level(sample(0)), C);
}

TEST(PressureClassifier, StallThresholds) {
  const PressureClassifier c;
  EXPECT_EQ(c.instantaneous_level(sample(50, 9.9, 1.9)), N);
  EXPECT_EQ(c.instantaneous_level(sample(50, 10.5, 0)), W);
  EXPECT_EQ(c.instantaneous_level(sample(50, 3, 2.5)), W);
  EXPECT_EQ(c.instantaneous_level(sample(50, 3, 5.5)), C);
  EXPECT_EQ(c.instantaneous_level(sample(50, 41, 0)), C);
  // The worst signal wins: plenty of memory does not excuse stalls, and vice versa.
  EXPECT_EQ(c.instantaneous_level(sample(4, 0, 0)), C);
}

TEST(PressureClassifier, ReasonNamesTheSignal) {
  PressureClassifier c;
  c.update(sample(4));
  EXPECT_NE(c.reason().find("available"), std::string::npos) << c.reason();
  c.update(sample(50, 0, 6));
  EXPECT_NE(c.reason().find("full avg10 6.00%"), std::string::npos) << c.reason();
}

TEST(PressureClassifier, StallSignalAbove100IsSwitchedOff) {
  PressureThresholds t;
  t.warning_some_avg10 = t.critical_some_avg10 = 101;
  t.warning_full_avg10 = t.critical_full_avg10 = std::numeric_limits<double>::infinity();
  auto c = PressureClassifier::create(t);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->instantaneous_level(sample(50, 100, 100)), N);
  EXPECT_EQ(c->instantaneous_level(sample(10, 100, 100)), W);
}

TEST(PressureClassifier, CgroupLimitAndStallsCount) {
  const PressureClassifier c;
  MemorySignals s = sample(90);
  CgroupMemory cgroup;
  cgroup.limit_bytes = 4 * kGiB;
  cgroup.usage_bytes = 4 * kGiB - kGiB / 10;  // 0.1 GiB of 4 GiB left: 2.5%
  s.cgroup = cgroup;
  EXPECT_EQ(s.effective_limit_bytes(), 4 * kGiB);
  EXPECT_EQ(s.effective_available_bytes(), kGiB / 10);
  EXPECT_EQ(c.instantaneous_level(s), C);

  s.cgroup->reclaimable_bytes = kGiB;  // 1 GiB of it is inactive page cache: 27% left
  EXPECT_EQ(s.effective_available_bytes(), kGiB / 10 + kGiB);
  EXPECT_EQ(c.instantaneous_level(s), N);

  s.cgroup->psi = PsiAverages{12, 0};  // the container stalls though the host does not
  s.psi = PsiAverages{0, 0};
  EXPECT_EQ(c.instantaneous_level(s), W);

  s.cgroup->limit_bytes = 64 * kGiB;  // a limit above physical memory binds nothing
  s.cgroup->psi.reset();
  EXPECT_EQ(s.effective_limit_bytes(), kTotal);
  EXPECT_EQ(c.instantaneous_level(s), N);
}

TEST(PressureClassifier, NoSignalsIsNormal) {
  PressureClassifier c;
  EXPECT_EQ(c.update(MemorySignals{}), N);
  EXPECT_EQ(c.reason(), "");
}

TEST(PressureClassifier, RisesImmediately) {
  PressureClassifier c = with_recovery_samples(3);
  EXPECT_EQ(run(c, {sample(50), sample(4)}), (std::vector<PressureLevel>{N, C}));
  EXPECT_FALSE(c.reason().empty());
}

TEST(PressureClassifier, DropsOnlyAfterNCalmSamplesPastTheMargin) {
  PressureClassifier c = with_recovery_samples(3);
  // 16% clears the 15% threshold but not the 17% recovery bound: never counts as calm.
  EXPECT_EQ(run(c, {sample(10), sample(16), sample(16), sample(16), sample(16)}),
            (std::vector<PressureLevel>{W, W, W, W, W}));
  // Two calm samples, then a relapse below 15% restarts the count.
  EXPECT_EQ(run(c, {sample(18), sample(18), sample(14)}), (std::vector<PressureLevel>{W, W, W}));
  EXPECT_EQ(run(c, {sample(18), sample(18), sample(18)}), (std::vector<PressureLevel>{W, W, N}));
  EXPECT_EQ(c.reason(), "");
}

TEST(PressureClassifier, MarginBandSampleRestartsTheCount) {
  PressureClassifier c = with_recovery_samples(3);
  // From critical, 6% is no longer critical (>= 5%) but inside its margin (< 7%).
  EXPECT_EQ(
      run(c, {sample(4), sample(30), sample(30), sample(6), sample(30), sample(30), sample(30)}),
      (std::vector<PressureLevel>{C, C, C, C, C, C, N}));
}

TEST(PressureClassifier, CriticalDropsStraightToNormalWhenAllIsCalm) {
  PressureClassifier c = with_recovery_samples(3);
  EXPECT_EQ(run(c, {sample(4), sample(30), sample(30), sample(30)}),
            (std::vector<PressureLevel>{C, C, C, N}));
}

TEST(PressureClassifier, CriticalDropsToWarningWhileWarningPersists) {
  PressureClassifier c = with_recovery_samples(3);
  EXPECT_EQ(run(c, {sample(4), sample(10), sample(10), sample(10)}),
            (std::vector<PressureLevel>{C, C, C, W}));
  EXPECT_NE(c.reason().find("available"), std::string::npos) << c.reason();
  // 6% is below critical's recovery bound (7%): from critical it would not count as calm.
  PressureClassifier d = with_recovery_samples(2);
  EXPECT_EQ(run(d, {sample(4), sample(6), sample(6), sample(8), sample(8)}),
            (std::vector<PressureLevel>{C, C, C, C, W}));
}

TEST(PressureClassifier, DropsToTheHighestLevelAmongTheCalmSamples) {
  PressureClassifier c = with_recovery_samples(3);
  // From critical, 30% (normal) and 16% (within warning's margin) both count as calm;
  // the streak's worst, warning, is where it lands.
  EXPECT_EQ(run(c, {sample(4), sample(30), sample(16), sample(30)}),
            (std::vector<PressureLevel>{C, C, C, W}));
}

TEST(PressureClassifier, StallHysteresisUsesTheRelativeMargin) {
  PressureClassifier c = with_recovery_samples(3);
  // Warning at some > 10; recovery needs some <= 7.5 (10 x (1 - 0.25)).
  EXPECT_EQ(run(c, {sample(50, 12), sample(50, 8), sample(50, 8), sample(50, 8), sample(50, 8)}),
            (std::vector<PressureLevel>{W, W, W, W, W}));
  EXPECT_EQ(run(c, {sample(50, 7), sample(50, 7), sample(50, 7)}),
            (std::vector<PressureLevel>{W, W, N}));
}

TEST(PressureClassifier, SameSamplesSameLevels) {
  std::vector<MemorySignals> samples;
  for (int i = 0; i < 60; ++i) samples.push_back(sample(2.0 + (i * 37 % 25), (i * 13) % 50));
  PressureClassifier a = with_recovery_samples(2);
  PressureClassifier b = with_recovery_samples(2);
  EXPECT_EQ(run(a, samples), run(b, samples));
}

TEST(PressureClassifier, SingleSampleRecoveryWithNoMargins) {
  PressureThresholds t;
  t.recovery_samples = 1;
  t.available_recovery_margin = 0;
  t.psi_recovery_fraction = 0;
  auto c = PressureClassifier::create(t);
  ASSERT_TRUE(c);
  EXPECT_EQ(run(*c, {sample(10), sample(15.5), sample(4), sample(16)}),
            (std::vector<PressureLevel>{W, N, C, N}));
}

}  // namespace
}  // namespace locara
