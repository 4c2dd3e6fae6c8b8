// UTF-8 for the tokenizers: how llama.cpp splits text into characters (every family must split
// the same way, also on invalid text, to produce llama.cpp's ids), and code point decoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace locara {

// Length in bytes of the UTF-8 sequence that starts with `lead`, judged by its top four
// bits only, as llama.cpp's unicode_len_utf8 does: continuation and other invalid lead
// bytes count as 1, 0xF8..0xFF as 4. Callers clamp it to the bytes that remain.
inline size_t utf8_sequence_length(uint8_t lead) {
  static constexpr uint8_t kLengthByHighNibble[16] = {1, 1, 1, 1, 1, 1, 1, 1,
                                                      1, 1, 1, 1, 2, 2, 3, 4};
  return kLengthByHighNibble[lead >> 4];
}

// Decodes the well-formed UTF-8 character at text[pos] and moves pos past it. Anything else
// (a stray byte, a truncated, overlong or surrogate sequence, a value past U+10FFFF) yields
// kInvalidCodepoint and moves pos by one byte. Precondition: pos < text.size().
inline constexpr uint32_t kInvalidCodepoint = 0xFFFFFFFF;
uint32_t utf8_decode(std::string_view text, size_t& pos);

// Appends the UTF-8 encoding of `codepoint` (at most U+10FFFF).
void utf8_append(uint32_t codepoint, std::string& out);

}  // namespace locara
