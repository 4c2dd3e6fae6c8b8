// Parsing the one-value-per-file and "key value" text of /proc and /sys: strict number
// parsing that rejects garbage instead of guessing. Internal to the platform layer.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace locara::text {

// Strips spaces, tabs, CR and LF at both ends.
std::string_view trim(std::string_view text);

// The whole (trimmed) text as one number; nullopt on anything else: signs where
// unsigned, trailing bytes, overflow, empty text, NaN or infinity.
std::optional<uint64_t> parse_u64(std::string_view text);
std::optional<int64_t> parse_i64(std::string_view text);
std::optional<double> parse_double(std::string_view text);

// The text's lines, without their '\n'; a final line without one is kept.
std::vector<std::string_view> split_lines(std::string_view text);

// The first whitespace-separated word of the trimmed text ("" when there is none).
std::string_view first_word(std::string_view text);

}  // namespace locara::text
