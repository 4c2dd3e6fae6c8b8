// Reading memory signals from Linux: /proc/meminfo, PSI and the memory cgroup (v1 or v2).
// The formats are documented in the kernel's Documentation/accounting/psi.rst and
// Documentation/admin-guide/cgroup-v2.rst (cgroup-v1/memory.rst for v1).
#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include "platform/memory_pressure.h"
#include "platform/small_file.h"
#include "platform/text_parse.h"

namespace locara {
namespace {

namespace fs = std::filesystem;

// cgroup v1 reports "no limit" as the largest page-aligned signed 64-bit value (its exact
// value depends on the page size); anything this large is no limit.
constexpr uint64_t kV1NoLimit = uint64_t{1} << 62;

// The files one cgroup version keeps its memory accounting in.
struct CgroupFiles {
  CgroupVersion version;
  const char* limit;
  const char* usage;
  const char* inactive_file_key;  // in memory.stat; v1's total_ variant is hierarchical
};

constexpr CgroupFiles kV1Files = {CgroupVersion::kV1, "memory.limit_in_bytes",
                                  "memory.usage_in_bytes", "total_inactive_file"};
constexpr CgroupFiles kV2Files = {CgroupVersion::kV2, "memory.max", "memory.current",
                                  "inactive_file"};

// The process's cgroup paths, from /proc/self/cgroup.
struct ProcCgroups {
  std::optional<std::string> v2;         // "0::/path"
  std::optional<std::string> v1_memory;  // "N:memory[,...]:/path"
};

ProcCgroups parse_proc_cgroup(std::string_view text) {
  ProcCgroups cgroups;
  for (std::string_view line : text::split_lines(text)) {
    const size_t first = line.find(':');
    const size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const std::string_view id = line.substr(0, first);
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    const std::string path(text::trim(line.substr(second + 1)));
    if (path.empty() || path.front() != '/') continue;
    if (id == "0" && controllers.empty()) {
      cgroups.v2 = path;
      continue;
    }
    while (!controllers.empty()) {
      const size_t comma = controllers.find(',');
      if (controllers.substr(0, comma) == "memory") cgroups.v1_memory = path;
      controllers.remove_prefix(comma == std::string_view::npos ? controllers.size() : comma + 1);
    }
  }
  return cgroups;
}

bool path_exists(const fs::path& path) {
  std::error_code ignored;
  return fs::exists(path, ignored);
}

// Where `cgroup_path` lies under its mount, relative to it ("" for the mount itself).
// Without a cgroup namespace a container sees its host's path in /proc/self/cgroup but has
// its own cgroup mounted at the root, so leading components are dropped until a directory
// exists (the mount itself last).
fs::path resolve_cgroup_dir(const fs::path& mount, const std::string& cgroup_path) {
  fs::path relative = fs::path(cgroup_path).relative_path();
  while (!relative.empty()) {
    std::error_code ignored;
    if (fs::is_directory(mount / relative, ignored)) return relative;
    auto it = relative.begin();
    fs::path shorter;
    for (++it; it != relative.end(); ++it) shorter /= *it;
    relative = shorter;
  }
  return relative;
}

fs::path cgroup_dir(const fs::path& mount, const fs::path& relative) {
  return relative.empty() ? mount : mount / relative;
}

// "/a/b" for a/b.
std::string cgroup_name(const fs::path& relative) {
  std::string name = "/";  // appended rather than "/" + ...: GCC 12 warns on that falsely
  name += relative.generic_string();
  return name;
}

// A cgroup's limit: nullopt for none, or when the file is missing (the root cgroup has
// none) or garbled (with a note).
std::optional<uint64_t> read_limit(const fs::path& dir, const CgroupFiles& files,
                                   std::vector<std::string>* notes) {
  const std::string path = (dir / files.limit).string();
  auto text = read_small_file(path);
  if (!text) return std::nullopt;
  if (files.version == CgroupVersion::kV2 && text::trim(*text) == "max") return std::nullopt;
  const auto value = text::parse_u64(*text);
  if (!value) {
    notes->push_back(fmt::format("{}: ignored, not a byte count: '{}'", path, text::trim(*text)));
    return std::nullopt;
  }
  if (files.version == CgroupVersion::kV1 && *value >= kV1NoLimit) return std::nullopt;
  return value;
}

std::optional<uint64_t> read_bytes(const std::string& path, std::vector<std::string>* notes) {
  auto text = read_small_file(path);
  if (!text) {
    notes->push_back(text.error().message);
    return std::nullopt;
  }
  const auto value = text::parse_u64(*text);
  if (!value) {
    notes->push_back(fmt::format("{}: ignored, not a byte count: '{}'", path, text::trim(*text)));
  }
  return value;
}

// memory.stat's "<key> <bytes>" line; 0 when absent: without it nothing counts as
// reclaimable, which errs towards reporting pressure.
uint64_t read_stat_bytes(const fs::path& dir, const char* key, std::vector<std::string>* notes) {
  const std::string path = (dir / "memory.stat").string();
  auto text = read_small_file(path);
  if (!text) return 0;
  for (std::string_view line : text::split_lines(*text)) {
    if (text::first_word(line) != key) continue;
    const auto value = text::parse_u64(text::trim(line).substr(std::string_view(key).size()));
    if (!value) {
      notes->push_back(fmt::format("{}: ignored garbled '{}' line", path, key));
      return 0;
    }
    return *value;
  }
  return 0;
}

// Walks from the process's cgroup up to the mount and keeps the level whose limit leaves
// the least headroom: a parent's limit binds its children as much as their own.
CgroupMemory read_cgroup_memory(const fs::path& mount, const std::string& cgroup_path,
                                const CgroupFiles& files, std::vector<std::string>* notes) {
  CgroupMemory memory;
  memory.version = files.version;
  memory.path = cgroup_path;
  const fs::path leaf = resolve_cgroup_dir(mount, cgroup_path);
  memory.limiting_path = cgroup_name(leaf);

  std::optional<uint64_t> best_headroom;
  for (fs::path relative = leaf;; relative = relative.parent_path()) {
    const fs::path dir = cgroup_dir(mount, relative);
    if (const auto limit = read_limit(dir, files, notes)) {
      const auto usage = read_bytes((dir / files.usage).string(), notes);
      if (usage) {
        const uint64_t reclaimable =
            std::min(read_stat_bytes(dir, files.inactive_file_key, notes), *usage);
        const uint64_t working_set = *usage - reclaimable;
        const uint64_t headroom = *limit > working_set ? *limit - working_set : 0;
        if (!best_headroom || headroom < *best_headroom) {
          best_headroom = headroom;
          memory.limiting_path = cgroup_name(relative);
          memory.limit_bytes = *limit;
          memory.usage_bytes = *usage;
          memory.reclaimable_bytes = reclaimable;
        }
      }
    }
    if (relative.empty()) break;
  }
  if (!memory.limit_bytes) {
    // No limit anywhere: report what this cgroup uses, for the record.
    std::vector<std::string> ignored;
    const fs::path dir = cgroup_dir(mount, leaf);
    memory.usage_bytes = read_bytes((dir / files.usage).string(), &ignored).value_or(0);
    memory.reclaimable_bytes =
        std::min(read_stat_bytes(dir, files.inactive_file_key, &ignored), memory.usage_bytes);
  }
  return memory;
}

std::optional<CgroupMemory> read_cgroup(const OsRoots& roots, std::vector<std::string>* notes) {
  const std::string self_path = roots.proc + "/self/cgroup";
  auto self = read_small_file(self_path);
  if (!self) {
    notes->push_back(fmt::format("no cgroup: {}", self.error().message));
    return std::nullopt;
  }
  const ProcCgroups cgroups = parse_proc_cgroup(*self);

  const fs::path cgroup_root = fs::path(roots.sys) / "fs/cgroup";
  std::optional<fs::path> v2_mount;
  if (path_exists(cgroup_root / "cgroup.controllers")) {
    v2_mount = cgroup_root;  // cgroup v2 only
  } else if (path_exists(cgroup_root / "unified/cgroup.controllers")) {
    v2_mount = cgroup_root / "unified";  // v2 beside v1 controllers ("hybrid")
  }
  const fs::path v1_mount = cgroup_root / "memory";

  std::optional<CgroupMemory> memory;
  if (cgroups.v1_memory && path_exists(v1_mount / kV1Files.limit)) {
    memory = read_cgroup_memory(v1_mount, *cgroups.v1_memory, kV1Files, notes);
  } else if (cgroups.v2 && v2_mount) {
    memory = read_cgroup_memory(*v2_mount, *cgroups.v2, kV2Files, notes);
  } else {
    notes->push_back(
        fmt::format("no memory cgroup: {} names none under {}", self_path, cgroup_root.string()));
    return std::nullopt;
  }

  // v2 keeps per-cgroup stall times even when the memory controller is on v1.
  if (cgroups.v2 && v2_mount) {
    const fs::path dir = cgroup_dir(*v2_mount, resolve_cgroup_dir(*v2_mount, *cgroups.v2));
    const std::string path = (dir / "memory.pressure").string();
    if (auto text = read_small_file(path)) {
      auto psi = parse_psi(*text, path);
      if (psi) {
        memory->psi = *psi;
      } else {
        notes->push_back(fmt::format("ignored: {}", psi.error().message));
      }
    }
  }
  return memory;
}

// "   1234 kB" -> bytes; nullopt unless a kB count that fits.
std::optional<uint64_t> parse_kilobytes(std::string_view value) {
  value = text::trim(value);
  constexpr std::string_view kUnit = "kB";
  if (value.size() <= kUnit.size() || value.substr(value.size() - kUnit.size()) != kUnit) {
    return std::nullopt;
  }
  const auto kilobytes = text::parse_u64(value.substr(0, value.size() - kUnit.size()));
  if (!kilobytes || *kilobytes > std::numeric_limits<uint64_t>::max() / 1024) return std::nullopt;
  return *kilobytes * 1024;
}

class OsPressureSource final : public PressureSource {
 public:
  explicit OsPressureSource(OsRoots roots) : roots_(std::move(roots)) {}
  Expected<MemorySignals> sample() override { return read_memory_signals(roots_); }

 private:
  const OsRoots roots_;
};

}  // namespace

Expected<PsiAverages> parse_psi(std::string_view text, std::string_view source_name) {
  std::optional<double> some;
  std::optional<double> full;
  for (std::string_view line : text::split_lines(text)) {
    const std::string_view kind = text::first_word(line);
    if (kind != "some" && kind != "full") continue;
    const size_t at = line.find("avg10=");
    if (at == std::string_view::npos) {
      return make_error(ErrorCode::kCorruptFile, "{}: '{}' line has no avg10", source_name, kind);
    }
    const std::string_view rest = line.substr(at + 6);
    const auto value = text::parse_double(rest.substr(0, rest.find(' ')));
    if (!value || *value < 0.0 || *value > 100.0) {
      return make_error(ErrorCode::kCorruptFile, "{}: '{}' avg10 is not a percentage: '{}'",
                        source_name, kind, text::first_word(rest));
    }
    (kind == "some" ? some : full) = *value;
  }
  if (!some || !full) {
    return make_error(ErrorCode::kCorruptFile, "{}: missing the '{}' line", source_name,
                      !some ? "some" : "full");
  }
  return PsiAverages{*some, *full};
}

Status parse_meminfo(std::string_view text, std::string_view source_name, MemorySignals* out) {
  std::optional<uint64_t> total;
  std::optional<uint64_t> available;
  size_t line_number = 0;
  for (std::string_view line : text::split_lines(text)) {
    ++line_number;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = text::trim(line.substr(0, colon));
    std::optional<uint64_t>* target = key == "MemTotal"       ? &total
                                      : key == "MemAvailable" ? &available
                                                              : nullptr;
    if (target == nullptr) continue;
    *target = parse_kilobytes(line.substr(colon + 1));
    if (!*target) {
      return make_error(ErrorCode::kCorruptFile, "{}: line {}: '{}' is not a kB count: '{}'",
                        source_name, line_number, key, text::trim(line.substr(colon + 1)));
    }
  }
  if (!total || !available) {
    return make_error(ErrorCode::kCorruptFile, "{}: missing field '{}'", source_name,
                      !total ? "MemTotal" : "MemAvailable");
  }
  out->total_bytes = *total;
  out->available_bytes = *available;
  return ok_status();
}

Expected<MemorySignals> read_memory_signals(const OsRoots& roots) {
  MemorySignals signals;
  const std::string meminfo_path = roots.proc + "/meminfo";
  LOCARA_ASSIGN_OR_RETURN(const std::string meminfo, read_small_file(meminfo_path));
  LOCARA_RETURN_IF_ERROR(parse_meminfo(meminfo, meminfo_path, &signals));

  // Missing on kernels without CONFIG_PSI; unreadable (EOPNOTSUPP) when booted psi=0.
  const std::string psi_path = roots.proc + "/pressure/memory";
  if (auto text = read_small_file(psi_path)) {
    auto psi = parse_psi(*text, psi_path);
    if (psi) {
      signals.psi = *psi;
    } else {
      signals.notes.push_back(fmt::format("ignored: {}", psi.error().message));
    }
  } else {
    signals.notes.push_back(fmt::format("no PSI: {}", text.error().message));
  }

  signals.cgroup = read_cgroup(roots, &signals.notes);
  return signals;
}

std::unique_ptr<PressureSource> make_os_pressure_source(const OsRoots& roots) {
  return std::make_unique<OsPressureSource>(roots);
}

}  // namespace locara
