// The pure half of memory pressure: what a snapshot means and the level's hysteresis.
// Reading the OS lives in memory_signals_linux.cpp.
#include "platform/memory_pressure.h"

#include <fmt/format.h>

#include <algorithm>

namespace locara {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// One level's thresholds, possibly moved by the recovery margins.
struct LevelBounds {
  double available_fraction;
  double some_avg10;
  double full_avg10;
};

LevelBounds bounds_for(const PressureThresholds& t, PressureLevel level, bool with_margins) {
  const bool critical = level == PressureLevel::kCritical;
  LevelBounds bounds{critical ? t.critical_available_fraction : t.warning_available_fraction,
                     critical ? t.critical_some_avg10 : t.warning_some_avg10,
                     critical ? t.critical_full_avg10 : t.warning_full_avg10};
  if (with_margins) {
    bounds.available_fraction += t.available_recovery_margin;
    bounds.some_avg10 *= 1.0 - t.psi_recovery_fraction;
    bounds.full_avg10 *= 1.0 - t.psi_recovery_fraction;
  }
  return bounds;
}

// True when the sample is on the wrong side of any bound; `reason` says which.
bool breaches(const MemorySignals& sample, const LevelBounds& bounds, std::string* reason) {
  const uint64_t limit = sample.effective_limit_bytes();
  if (limit > 0) {
    const double available = static_cast<double>(sample.effective_available_bytes());
    if (available < bounds.available_fraction * static_cast<double>(limit)) {
      if (reason != nullptr) {
        *reason = fmt::format("available {:.2f} GiB is {:.1f}% of {:.2f} GiB (bound {:.1f}%)",
                              available / kGiB, 100.0 * available / static_cast<double>(limit),
                              static_cast<double>(limit) / kGiB, 100.0 * bounds.available_fraction);
      }
      return true;
    }
  }
  if (const auto psi = sample.worst_psi()) {
    if (psi->full_avg10 > bounds.full_avg10) {
      if (reason != nullptr) {
        *reason = fmt::format("memory stall full avg10 {:.2f}% (bound {:.2f}%)", psi->full_avg10,
                              bounds.full_avg10);
      }
      return true;
    }
    if (psi->some_avg10 > bounds.some_avg10) {
      if (reason != nullptr) {
        *reason = fmt::format("memory stall some avg10 {:.2f}% (bound {:.2f}%)", psi->some_avg10,
                              bounds.some_avg10);
      }
      return true;
    }
  }
  return false;
}

bool in_unit_range(double value) {
  return value >= 0.0 && value <= 1.0;
}

}  // namespace

const char* pressure_level_name(PressureLevel level) {
  switch (level) {
    case PressureLevel::kNormal:
      return "normal";
    case PressureLevel::kWarning:
      return "warning";
    case PressureLevel::kCritical:
      return "critical";
  }
  return "unknown";
}

uint64_t MemorySignals::effective_limit_bytes() const {
  if (cgroup && cgroup->limit_bytes) return std::min(total_bytes, *cgroup->limit_bytes);
  return total_bytes;
}

uint64_t MemorySignals::effective_available_bytes() const {
  uint64_t available = available_bytes;
  if (cgroup && cgroup->limit_bytes) {
    const uint64_t reclaimable = std::min(cgroup->reclaimable_bytes, cgroup->usage_bytes);
    const uint64_t working_set = cgroup->usage_bytes - reclaimable;
    const uint64_t headroom =
        *cgroup->limit_bytes > working_set ? *cgroup->limit_bytes - working_set : 0;
    available = std::min(available, headroom);
  }
  return std::min(available, effective_limit_bytes());
}

std::optional<PsiAverages> MemorySignals::worst_psi() const {
  std::optional<PsiAverages> worst = psi;
  if (cgroup && cgroup->psi) {
    if (!worst) return cgroup->psi;
    worst->some_avg10 = std::max(worst->some_avg10, cgroup->psi->some_avg10);
    worst->full_avg10 = std::max(worst->full_avg10, cgroup->psi->full_avg10);
  }
  return worst;
}

Status PressureThresholds::validate() const {
  if (!in_unit_range(warning_available_fraction) || !in_unit_range(critical_available_fraction)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "pressure thresholds: available fractions must lie in [0, 1], got "
                      "warning {} and critical {}",
                      warning_available_fraction, critical_available_fraction);
  }
  if (critical_available_fraction > warning_available_fraction) {
    return make_error(ErrorCode::kInvalidArgument,
                      "pressure thresholds: critical_available_fraction {} is above "
                      "warning_available_fraction {}",
                      critical_available_fraction, warning_available_fraction);
  }
  // Written as !(x >= 0) so that NaN is rejected too.
  if (!(warning_some_avg10 >= 0) || !(warning_full_avg10 >= 0) || !(critical_some_avg10 >= 0) ||
      !(critical_full_avg10 >= 0)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "pressure thresholds: stall thresholds must be >= 0, got some {}/{} and "
                      "full {}/{} (warning/critical)",
                      warning_some_avg10, critical_some_avg10, warning_full_avg10,
                      critical_full_avg10);
  }
  if (!(available_recovery_margin >= 0) || !in_unit_range(psi_recovery_fraction)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "pressure thresholds: available_recovery_margin {} must be >= 0 and "
                      "psi_recovery_fraction {} in [0, 1]",
                      available_recovery_margin, psi_recovery_fraction);
  }
  if (recovery_samples < 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      "pressure thresholds: recovery_samples must be >= 1, got {}",
                      recovery_samples);
  }
  return ok_status();
}

Expected<PressureClassifier> PressureClassifier::create(const PressureThresholds& thresholds) {
  LOCARA_RETURN_IF_ERROR(thresholds.validate());
  return PressureClassifier(thresholds);
}

PressureLevel PressureClassifier::instantaneous_level(const MemorySignals& sample,
                                                      std::string* reason) const {
  for (PressureLevel level : {PressureLevel::kCritical, PressureLevel::kWarning}) {
    if (breaches(sample, bounds_for(thresholds_, level, false), reason)) return level;
  }
  if (reason != nullptr) reason->clear();
  return PressureLevel::kNormal;
}

PressureLevel PressureClassifier::level_with_margins(const MemorySignals& sample) const {
  for (PressureLevel level : {PressureLevel::kCritical, PressureLevel::kWarning}) {
    if (breaches(sample, bounds_for(thresholds_, level, true), nullptr)) return level;
  }
  return PressureLevel::kNormal;
}

PressureLevel PressureClassifier::update(const MemorySignals& sample) {
  std::string why;
  const PressureLevel now = instantaneous_level(sample, &why);
  if (now >= level_) {
    // Rising is immediate; holding the level restarts the calm count.
    if (now != PressureLevel::kNormal) reason_ = std::move(why);
    level_ = now;
    calm_samples_ = 0;
    return level_;
  }
  // Below the current level: only a sample that also clears the margins counts as calm.
  const PressureLevel margin_level = level_with_margins(sample);
  if (margin_level >= level_) {
    calm_samples_ = 0;
    return level_;
  }
  calm_floor_ = calm_samples_ == 0 ? margin_level : std::max(calm_floor_, margin_level);
  if (++calm_samples_ >= thresholds_.recovery_samples) {
    level_ = calm_floor_;
    calm_samples_ = 0;
    if (level_ == PressureLevel::kNormal) {
      reason_.clear();
    } else if (now == level_) {
      reason_ = std::move(why);
    } else {
      reason_ = fmt::format("{} thresholds not yet cleared by the recovery margins",
                            pressure_level_name(level_));
    }
  }
  return level_;
}

}  // namespace locara
