// How many compute threads the machine is worth: physical performance cores from sysfs,
// SMT siblings counted once, efficiency cores left out. The runtime chooses its thread
// count from this, never apps.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace locara {

// How performance cores were told apart from efficiency cores.
enum class CoreClassSource {
  kNone,          // nothing to tell them apart by: every core counts as performance
  kHybridPmu,     // x86 hybrid: <sys>/devices/cpu_core/cpus (cpu_atom/cpus: the E-cores)
  kCpuCapacity,   // <sys>/devices/system/cpu/cpuN/cpu_capacity (Arm big.LITTLE, DynamIQ)
  kMaxFrequency,  // <sys>/devices/system/cpu/cpuN/cpufreq/cpuinfo_max_freq
};

const char* core_class_source_name(CoreClassSource source);

struct CoreCounts {
  int physical_cores = 0;     // every online core, SMT siblings counted once
  int performance_cores = 0;  // of which performance cores (<= physical_cores, >= 1)
  CoreClassSource source = CoreClassSource::kNone;
};

// Of the cores count_physical_cores() finds, those that are performance cores, judged
// by the first signal present for every online CPU:
//   1. x86 hybrid PMUs: the CPUs in devices/cpu_core/cpus
//   2. cpu_capacity: CPUs within 80% of the highest capacity (big.LITTLE: 1024 vs ~450
//      keeps the big cluster; tri-cluster designs keep the prime cores and those mid
//      cores that come within 20% of them)
//   3. cpuinfo_max_freq: CPUs within 80% of the highest maximum frequency (hybrid x86 on
//      kernels without the PMU split: E-cores top out 25-35% lower; Turbo Boost Max
//      "favoured" cores differ by a few percent and all stay)
// A signal that would keep no online CPU is ignored. nullopt when count_physical_cores()
// is. Thread-safe.
std::optional<CoreCounts> count_cores(const std::string& sys_root = "/sys");

// count_cores()'s performance cores: the compute threads worth running. When sysfs says
// nothing usable, std::thread::hardware_concurrency(); never less than 1. Thread-safe.
int physical_performance_cores(const std::string& sys_root = "/sys");

// The sysfs count alone: nullopt when no online CPU has a readable topology.
// Each core is identified by (physical_package_id, lowest CPU in core_cpus_list, or
// in thread_siblings_list on kernels before 5.0). Offline CPUs are skipped.
std::optional<int> count_physical_cores(const std::string& sys_root = "/sys");

// Parses a kernel CPU list ("0-3,8,10-11"); nullopt if malformed.
std::optional<std::vector<int>> parse_cpu_list(std::string_view text);

}  // namespace locara
