// GPT-2's byte-level alphabet: each of the 256 byte values stands for one printable Unicode
// character, so byte-level BPE vocabularies spell any byte string with visible tokens.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace locara {

// The UTF-8 text of the character standing for `byte`: printable Latin-1 bytes
// (0x21..0x7E, 0xA1..0xAC, 0xAE..0xFF) stand for themselves, the other 68 for U+0100.. in
// byte order (space is U+0120 'Ġ', newline U+010A 'Ċ').
std::string_view byte_level_char(uint8_t byte);

// Appends the byte-level spelling of raw bytes.
void append_byte_level(std::string_view bytes, std::string& out);

// Appends the bytes a byte-level text spells. Characters outside the alphabet (added tokens
// written in plain text) are kept as they are.
void append_byte_level_decoded(std::string_view text, std::string& out);

}  // namespace locara
