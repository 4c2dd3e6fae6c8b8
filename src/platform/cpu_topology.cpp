#include "platform/cpu_topology.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <set>
#include <system_error>
#include <thread>
#include <utility>

#include "platform/small_file.h"

namespace locara {
namespace {

// A CPU list can name at most this many CPUs: ranges beyond it are malformed, and the
// cap keeps "0-2000000000" from allocating gigabytes.
constexpr int kMaxCpus = 1 << 16;

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
  namespace fs = std::filesystem;
  const fs::path cpu_root = fs::path(sys_root) / "devices/system/cpu";
  std::error_code error;
  fs::directory_iterator it(cpu_root, error);
  if (error) return std::nullopt;

  std::set<std::pair<int, int>> cores;  // (package id, lowest CPU of the core)
  for (; it != fs::directory_iterator(); it.increment(error)) {
    if (error) return std::nullopt;
    const std::string name = it->path().filename().string();
    if (!is_cpu_directory_name(name)) continue;
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
    cores.emplace(package, *leader);
  }
  if (error || cores.empty()) return std::nullopt;
  return static_cast<int>(cores.size());
}

int physical_performance_cores(const std::string& sys_root) {
  if (const auto cores = count_physical_cores(sys_root)) return *cores;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace locara
