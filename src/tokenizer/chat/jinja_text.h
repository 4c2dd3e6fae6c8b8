// Text helpers for the template interpreter: UTF-8 code points, Python's notion of whitespace
// and letter case, and Python's str()/repr() spelling of floats and strings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace locara::jinja {

// Decodes the code point at text[*pos] and advances *pos. Invalid or truncated sequences
// decode as U+FFFD and advance by one byte, so every byte is consumed exactly once.
uint32_t next_code_point(std::string_view text, size_t* pos);
void append_utf8(uint32_t code_point, std::string* out);
std::vector<uint32_t> code_points(std::string_view text);
std::string utf8_from(const std::vector<uint32_t>& points, size_t begin, size_t end);
// Python's len() of a str: the number of code points.
size_t code_point_count(std::string_view text);

// Python's str.isspace() for one code point (Unicode whitespace, including \x1c-\x1f).
bool is_python_space(uint32_t code_point);
// Python's str.strip()/lstrip()/rstrip(): with `chars` empty, Unicode whitespace; otherwise
// any code point of `chars`.
std::string strip(std::string_view text, std::string_view chars, bool left, bool right);

// Case mapping as Python's str.upper()/lower() for ASCII, Latin-1, Latin Extended-A, Greek
// and Cyrillic (the scripts chat templates meet); other code points are left unchanged.
uint32_t to_upper(uint32_t code_point);
uint32_t to_lower(uint32_t code_point);
bool is_upper(uint32_t code_point);
bool is_lower(uint32_t code_point);
// Python's str.isalnum()/isalpha()/isdigit() for one code point: ASCII exactly, and any
// cased letter of the scripts above.
bool is_alpha(uint32_t code_point);
bool is_digit(uint32_t code_point);
std::string upper(std::string_view text);
std::string lower(std::string_view text);

// Python's str.splitlines() (without keepends): \n, \r, \r\n, \v, \f, \x1c-\x1e, \x85,
// U+2028 and U+2029 end lines.
std::vector<std::string> split_lines(std::string_view text);

// Python's repr() of a float (the shortest text that reads back as the same double):
// 1.0, 0.1, 1e-05, 1e+16, nan, inf.
std::string python_float_repr(double value);
// Python's repr() of a str: single quotes unless the text holds a ' and no ", with
// backslash escapes for quotes, backslashes and non-printable characters.
std::string python_string_repr(std::string_view text);
// markupsafe's escape: & < > " ' as HTML entities.
std::string escape_html(std::string_view text);

}  // namespace locara::jinja
