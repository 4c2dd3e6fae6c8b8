// Memory pressure: the OS's signals (available memory, stall times, container limits) as
// one snapshot, and their normalisation to normal | warning | critical with hysteresis.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "platform/os_roots.h"

namespace locara {

enum class PressureLevel { kNormal, kWarning, kCritical };

const char* pressure_level_name(PressureLevel level);  // "normal", "warning", "critical"

// Share of wall time, in percent (0-100), in which tasks waited for memory (reclaim,
// refaults, swap-in), averaged over the last 10 s. Linux calls this PSI.
struct PsiAverages {
  double some_avg10 = 0;  // at least one task was waiting
  double full_avg10 = 0;  // every runnable task was waiting at once: no progress at all
};

enum class CgroupVersion { kV1, kV2 };

// The memory limit of the container (cgroup) the process runs in.
struct CgroupMemory {
  CgroupVersion version = CgroupVersion::kV2;
  std::string path;                     // this process's cgroup, as /proc/self/cgroup names it
  std::string limiting_path;            // the cgroup (this one or an ancestor) whose limit
                                        // leaves the least headroom; = path when none has one
  std::optional<uint64_t> limit_bytes;  // nullopt: no limit up the whole hierarchy
  uint64_t usage_bytes = 0;             // charged to limiting_path, page cache included
  uint64_t reclaimable_bytes = 0;       // of which inactive file pages: the kernel drops
                                        // these before it would fail an allocation
  std::optional<PsiAverages> psi;       // the cgroup's own stall times (cgroup v2 only)
};

// One reading of every memory signal. A signal the OS does not offer is absent, and
// `notes` says why (missing file, garbage contents); it is never guessed.
struct MemorySignals {
  uint64_t total_bytes = 0;        // physical memory (MemTotal)
  uint64_t available_bytes = 0;    // what can be allocated without swapping (MemAvailable)
  std::optional<PsiAverages> psi;  // system-wide stall times
  std::optional<CgroupMemory> cgroup;
  std::vector<std::string> notes;

  // What this process can use at most: total_bytes, or the cgroup limit when lower.
  uint64_t effective_limit_bytes() const;
  // available_bytes, or the cgroup's headroom (limit - usage + reclaimable) when lower.
  uint64_t effective_available_bytes() const;
  // The worse (per field) of the system's and the cgroup's stall times; nullopt if neither.
  std::optional<PsiAverages> worst_psi() const;
};

// When a sample counts as warning or critical, and how calm it must get before the level
// drops. A level is reached when ANY of its signals crosses its threshold:
//   available: effective_available_bytes() < fraction x effective_limit_bytes()
//   stall:     worst_psi() avg10 > threshold (set above 100 to switch a stall signal off)
// Rising is immediate (one sample). Dropping needs `recovery_samples` consecutive samples
// that clear the current level's thresholds by the margins: available at least
// (fraction + available_recovery_margin) x limit, and each stall average at most
// threshold x (1 - psi_recovery_fraction). The level then falls to the highest level any
// of those samples still indicated, so critical can drop straight to normal.
//
// The defaults, for a runtime that samples about once a second:
//   warning:  available < 15% of the limit, or some > 10%, or full > 2%
//   critical: available <  5% of the limit, or some > 40%, or full > 5%
//   recovery: 5 samples with available >= 17% (from warning) / 7% (from critical) and
//             stalls below 75% of the thresholds
// The available fractions mirror what desktop OSes warn at (a few GiB left of 16-32 GiB);
// full > 5% means the machine did no work at all for half a second in every ten, the
// point where systemd-oomd-style killers start to act.
struct PressureThresholds {
  double warning_available_fraction = 0.15;
  double critical_available_fraction = 0.05;
  double warning_some_avg10 = 10.0;
  double warning_full_avg10 = 2.0;
  double critical_some_avg10 = 40.0;
  double critical_full_avg10 = 5.0;
  double available_recovery_margin = 0.02;  // of the limit, added to the fraction
  double psi_recovery_fraction = 0.25;      // of each stall threshold, taken off it
  int recovery_samples = 5;

  // kInvalidArgument unless the available fractions lie in [0, 1] with critical <= warning,
  // stall thresholds are >= 0 (they need no order: one level may watch a stall signal the
  // other ignores), margins are >= 0 (psi_recovery_fraction <= 1) and recovery_samples >= 1.
  Status validate() const;
};

// Turns a stream of samples into a level with hysteresis. Deterministic: the same
// samples give the same levels. Not thread-safe (one owner feeds it).
class PressureClassifier {
 public:
  PressureClassifier() = default;  // PressureThresholds{} defaults
  static Expected<PressureClassifier> create(const PressureThresholds& thresholds);

  // Feeds one sample; returns the (possibly new) level.
  PressureLevel update(const MemorySignals& sample);

  PressureLevel level() const { return level_; }
  // Which signal set the current level, e.g. "available 1.1 GiB is 4.6% of 24.0 GiB";
  // "" at normal.
  const std::string& reason() const { return reason_; }
  const PressureThresholds& thresholds() const { return thresholds_; }

  // The level one sample indicates on its own, without hysteresis; `reason` gets why.
  PressureLevel instantaneous_level(const MemorySignals& sample,
                                    std::string* reason = nullptr) const;

 private:
  explicit PressureClassifier(const PressureThresholds& thresholds) : thresholds_(thresholds) {}
  // The highest level whose thresholds the sample does not clear by the recovery margins.
  PressureLevel level_with_margins(const MemorySignals& sample) const;

  PressureThresholds thresholds_;
  PressureLevel level_ = PressureLevel::kNormal;
  std::string reason_;
  int calm_samples_ = 0;                               // consecutive samples below level_
  PressureLevel calm_floor_ = PressureLevel::kNormal;  // highest margin level among them
};

// Where samples come from: the OS, or a fake the runtime's tests inject.
// Implementations must be thread-safe.
class PressureSource {
 public:
  virtual ~PressureSource() = default;
  // A fresh reading; an error only when the basic signal (available memory) is unreadable.
  virtual Expected<MemorySignals> sample() = 0;
};

// The OS's source, reading under `roots` on every call (Linux: /proc/meminfo,
// /proc/pressure/memory and the process's memory cgroup).
std::unique_ptr<PressureSource> make_os_pressure_source(const OsRoots& roots = {});

// One reading, as the OS source takes it. Linux:
//   <proc>/meminfo                 MemTotal, MemAvailable (required: else an error)
//   <proc>/pressure/memory         "some"/"full" avg10 (optional)
//   <proc>/self/cgroup             the cgroup path: "0::/path" (v2), "N:...memory...:/path" (v1)
//   v2 (<sys>/fs/cgroup, or <sys>/fs/cgroup/unified beside v1 controllers):
//     memory.max ("max" = none), memory.current, memory.stat inactive_file, memory.pressure
//   v1 (<sys>/fs/cgroup/memory): memory.limit_in_bytes (>= 2^62 = none),
//     memory.usage_in_bytes, memory.stat total_inactive_file
// The cgroup and its ancestors up to the mount are walked and the one with the least
// headroom is reported. Inside a container that mounts its own cgroup at the root (no
// cgroup namespace), the path's leading components are dropped until a directory exists.
// Missing or garbled optional signals are left out with a note.
Expected<MemorySignals> read_memory_signals(const OsRoots& roots = {});

// The parsers behind it, over text already read (`source_name` names it in messages).
Expected<PsiAverages> parse_psi(std::string_view text, std::string_view source_name);
// Fills total_bytes and available_bytes.
Status parse_meminfo(std::string_view text, std::string_view source_name, MemorySignals* out);

}  // namespace locara
