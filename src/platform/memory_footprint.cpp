#include "platform/memory_footprint.h"

#include <charconv>
#include <limits>
#include <optional>
#include <string_view>

#include "platform/small_file.h"

namespace locara {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && (is_space(text.back()) || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

// "   1234 kB" -> 1234 * 1024; nullopt if it is not a kB count that fits in bytes.
std::optional<uint64_t> parse_kilobytes(std::string_view value) {
  value = trim(value);
  constexpr std::string_view kUnit = "kB";
  if (value.size() <= kUnit.size() || value.substr(value.size() - kUnit.size()) != kUnit) {
    return std::nullopt;
  }
  const std::string_view digits = trim(value.substr(0, value.size() - kUnit.size()));
  uint64_t kilobytes = 0;
  const auto [end, error] =
      std::from_chars(digits.data(), digits.data() + digits.size(), kilobytes);
  if (error != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
    return std::nullopt;
  }
  if (kilobytes > std::numeric_limits<uint64_t>::max() / 1024) return std::nullopt;
  return kilobytes * 1024;
}

}  // namespace

Expected<ProcessFootprint> parse_smaps_rollup(std::string_view text,
                                              const std::string& source_name) {
  std::optional<uint64_t> rss;
  std::optional<uint64_t> anonymous;
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_number;

    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // the header line names the address range
    const std::string_view key = trim(line.substr(0, colon));
    std::optional<uint64_t>* target = key == "Rss"         ? &rss
                                      : key == "Anonymous" ? &anonymous
                                                           : nullptr;
    if (target == nullptr) continue;
    *target = parse_kilobytes(line.substr(colon + 1));
    if (!*target) {
      return make_error(ErrorCode::kCorruptFile, "{}: line {}: field '{}' is not a kB count: '{}'",
                        source_name, line_number, key, trim(line.substr(colon + 1)));
    }
  }
  if (!rss || !anonymous) {
    return make_error(ErrorCode::kCorruptFile, "{}: missing field '{}'", source_name,
                      !rss ? "Rss" : "Anonymous");
  }
  ProcessFootprint footprint;
  footprint.rss_bytes = *rss;
  footprint.anonymous_bytes = *anonymous;
  // Both come from one page-table walk, so Anonymous <= Rss; saturate rather than wrap.
  footprint.file_bytes = *rss > *anonymous ? *rss - *anonymous : 0;
  return footprint;
}

Expected<ProcessFootprint> read_process_footprint(const std::string& proc_root,
                                                  const std::string& pid) {
  const std::string path = proc_root + "/" + pid + "/smaps_rollup";
  LOCARA_ASSIGN_OR_RETURN(const std::string text, read_small_file(path));
  return parse_smaps_rollup(text, path);
}

}  // namespace locara
