#include "platform/cpu_topology.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <set>
#include <system_error>
#include <thread>
#include <utility>

#include "platform/small_file.h"
#include "platform/text_parse.h"

namespace locara {
namespace {

// A CPU list can name at most this many CPUs: ranges beyond it are malformed, and the
// cap keeps "0-2000000000" from allocating gigabytes.
constexpr int kMaxCpus = 1 << 16;

// A core within this fraction of the fastest core's capacity (or maximum frequency) is a
// performance core: wide enough for frequency bins among P-cores, narrow enough to drop
// E-cores, which sit 25% or more below.
constexpr double kPerformanceFraction = 0.8;

std::string_view trim(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::optional<int> parse_int(std::string_view text) {
  text = trim(text);
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// "cpu12" -> true; "cpufreq", "cpuidle" -> false.
bool is_cpu_directory_name(const std::string& name) {
  return name.size() > 3 && name.compare(0, 3, "cpu") == 0 &&
         std::all_of(name.begin() + 3, name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The lowest CPU sharing this CPU's core, or nullopt when sysfs does not say.
std::optional<int> core_leader(const std::filesystem::path& topology) {
  for (const char* file : {"core_cpus_list", "thread_siblings_list"}) {
    auto text = read_small_file((topology / file).string());
    if (!text) continue;
    const auto cpus = parse_cpu_list(*text);
    if (cpus && !cpus->empty()) return *std::min_element(cpus->begin(), cpus->end());
  }
  return std::nullopt;
}

// An online CPU with a readable topology.
struct OnlineCpu {
  int cpu;
  int package;
  int core_leader;  // the lowest CPU of its core
};

// Every online CPU with a readable topology; nullopt when there is none.
std::optional<std::vector<OnlineCpu>> online_cpus(const std::string& sys_root) {
  namespace fs = std::filesystem;
  const fs::path cpu_root = fs::path(sys_root) / "devices/system/cpu";
  std::error_code error;
  fs::directory_iterator it(cpu_root, error);
  if (error) return std::nullopt;

  std::vector<OnlineCpu> cpus;
  for (; it != fs::directory_iterator(); it.increment(error)) {
    if (error) return std::nullopt;
    const std::string name = it->path().filename().string();
    if (!is_cpu_directory_name(name)) continue;
    const auto cpu = parse_int(std::string_view(name).substr(3));
    if (!cpu) continue;
    // cpu0 usually has no "online" file: it cannot be taken offline.
    if (auto online = read_small_file((it->path() / "online").string())) {
      if (parse_int(*online) == 0) continue;
    }
    const fs::path topology = it->path() / "topology";
    const auto leader = core_leader(topology);
    if (!leader) continue;
    int package = 0;
    if (auto text = read_small_file((topology / "physical_package_id").string())) {
      package = parse_int(*text).value_or(0);
    }
    cpus.push_back({*cpu, package, *leader});
  }
  if (error || cpus.empty()) return std::nullopt;
  return cpus;
}

// Distinct (package, core) pairs among `cpus`, or among those in `only` when given.
int count_distinct_cores(const std::vector<OnlineCpu>& cpus, const std::set<int>* only) {
  std::set<std::pair<int, int>> cores;
  for (const OnlineCpu& cpu : cpus) {
    if (only == nullptr || only->count(cpu.cpu) > 0) cores.emplace(cpu.package, cpu.core_leader);
  }
  return static_cast<int>(cores.size());
}

// Keeps `candidates` if it names at least one online CPU.
std::optional<std::set<int>> if_any_online(std::set<int> candidates,
                                           const std::vector<OnlineCpu>& cpus) {
  for (const OnlineCpu& cpu : cpus) {
    if (candidates.count(cpu.cpu) > 0) return candidates;
  }
  return std::nullopt;
}

// x86 hybrid: the kernel registers one PMU per core type; cpu_core lists the P-cores.
std::optional<std::set<int>> hybrid_core_cpus(const std::string& sys_root,
                                              const std::vector<OnlineCpu>& cpus) {
  auto text = read_small_file(sys_root + "/devices/cpu_core/cpus");
  if (!text) return std::nullopt;
  const auto list = parse_cpu_list(*text);
  if (!list) return std::nullopt;
  return if_any_online(std::set<int>(list->begin(), list->end()), cpus);
}

// CPUs whose per-CPU value in cpu<N>/<file> is within kPerformanceFraction of the
// highest; nullopt unless every online CPU has a positive value.
std::optional<std::set<int>> fastest_cpus(const std::vector<OnlineCpu>& cpus,
                                          const std::filesystem::path& cpu_root, const char* file) {
  std::vector<std::pair<int, uint64_t>> values;
  uint64_t highest = 0;
  for (const OnlineCpu& cpu : cpus) {
    auto text = read_small_file((cpu_root / ("cpu" + std::to_string(cpu.cpu)) / file).string());
    if (!text) return std::nullopt;
    const auto value = text::parse_u64(*text);
    if (!value || *value == 0) return std::nullopt;
    values.emplace_back(cpu.cpu, *value);
    highest = std::max(highest, *value);
  }
  std::set<int> fastest;
  for (const auto& [cpu, value] : values) {
    if (static_cast<double>(value) >= kPerformanceFraction * static_cast<double>(highest)) {
      fastest.insert(cpu);
    }
  }
  return if_any_online(std::move(fastest), cpus);
}

}  // namespace

std::optional<std::vector<int>> parse_cpu_list(std::string_view text) {
  text = trim(text);
  std::vector<int> cpus;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text.remove_prefix(comma == std::string_view::npos ? text.size() : comma + 1);
    const size_t dash = item.find('-');
    const auto first = parse_int(item.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : parse_int(item.substr(dash + 1));
    if (!first || !last || *first < 0 || *last < *first || *last >= kMaxCpus) return std::nullopt;
    for (int cpu = *first; cpu <= *last; ++cpu) cpus.push_back(cpu);
    if (cpus.size() > static_cast<size_t>(kMaxCpus)) return std::nullopt;
  }
  return cpus;
}

std::optional<int> count_physical_cores(const std::string& sys_root) {
  const auto cpus = online_cpus(sys_root);
  if (!cpus) return std::nullopt;
  return count_distinct_cores(*cpus, nullptr);
}

const char* core_class_source_name(CoreClassSource source) {
  switch (source) {
    case CoreClassSource::kNone:
      return "none";
    case CoreClassSource::kHybridPmu:
      return "hybrid PMU (cpu_core)";
    case CoreClassSource::kCpuCapacity:
      return "cpu_capacity";
    case CoreClassSource::kMaxFrequency:
      return "cpuinfo_max_freq";
  }
  return "unknown";
}

std::optional<CoreCounts> count_cores(const std::string& sys_root) {
  const auto cpus = online_cpus(sys_root);
  if (!cpus) return std::nullopt;
  CoreCounts counts;
  counts.physical_cores = count_distinct_cores(*cpus, nullptr);
  counts.performance_cores = counts.physical_cores;

  const std::filesystem::path cpu_root = std::filesystem::path(sys_root) / "devices/system/cpu";
  std::optional<std::set<int>> performance;
  if ((performance = hybrid_core_cpus(sys_root, *cpus))) {
    counts.source = CoreClassSource::kHybridPmu;
  } else if ((performance = fastest_cpus(*cpus, cpu_root, "cpu_capacity"))) {
    counts.source = CoreClassSource::kCpuCapacity;
  } else if ((performance = fastest_cpus(*cpus, cpu_root, "cpufreq/cpuinfo_max_freq"))) {
    counts.source = CoreClassSource::kMaxFrequency;
  }
  if (performance) counts.performance_cores = count_distinct_cores(*cpus, &*performance);
  return counts;
}

int physical_performance_cores(const std::string& sys_root) {
  if (const auto counts = count_cores(sys_root)) return counts->performance_cores;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace locara
