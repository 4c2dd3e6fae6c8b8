// How many compute threads the machine is worth: physical cores from sysfs, SMT
// siblings counted once. The runtime chooses its thread count from this, never apps.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace locara {

// Physical cores listed under <sys_root>/devices/system/cpu/cpu*/topology; when sysfs
// says nothing usable, std::thread::hardware_concurrency(); never less than 1.
// Hybrid (performance vs efficiency) cores are not told apart yet: all count.
// Thread-safe.
int physical_performance_cores(const std::string& sys_root = "/sys");

// The sysfs count alone: nullopt when no online CPU has a readable topology.
// Each core is identified by (physical_package_id, lowest CPU in core_cpus_list, or
// in thread_siblings_list on kernels before 5.0). Offline CPUs are skipped.
std::optional<int> count_physical_cores(const std::string& sys_root = "/sys");

// Parses a kernel CPU list ("0-3,8,10-11"); nullopt if malformed.
std::optional<std::vector<int>> parse_cpu_list(std::string_view text);

}  // namespace locara
