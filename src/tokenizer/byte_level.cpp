#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/utf8.h"

namespace locara {
namespace {

bool stands_for_itself(uint32_t byte) {
  return (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xAC) ||
         (byte >= 0xAE && byte <= 0xFF);
}

struct Alphabet {
  std::array<std::string, 256> char_of_byte;
  // Code points U+0000..U+0143 back to their byte; -1 for the ones outside the alphabet.
  std::array<int16_t, 0x144> byte_of_char;

  Alphabet() {
    byte_of_char.fill(-1);
    uint32_t next_substitute = 0x100;
    for (uint32_t byte = 0; byte < 256; ++byte) {
      const uint32_t codepoint = stands_for_itself(byte) ? byte : next_substitute++;
      utf8_append(codepoint, char_of_byte[byte]);
      byte_of_char[codepoint] = static_cast<int16_t>(byte);
    }
  }
};

const Alphabet& alphabet() {
  static const Alphabet instance;
  return instance;
}

}  // namespace

std::string_view byte_level_char(uint8_t byte) {
  return alphabet().char_of_byte[byte];
}

void append_byte_level(std::string_view bytes, std::string& out) {
  const Alphabet& table = alphabet();
  for (const char c : bytes) out += table.char_of_byte[static_cast<uint8_t>(c)];
}

void append_byte_level_decoded(std::string_view text, std::string& out) {
  const Alphabet& table = alphabet();
  for (size_t pos = 0; pos < text.size();) {
    const size_t start = pos;
    const uint32_t codepoint = utf8_decode(text, pos);
    if (codepoint < table.byte_of_char.size() && table.byte_of_char[codepoint] >= 0) {
      out += static_cast<char>(table.byte_of_char[codepoint]);
    } else {
      out.append(text.substr(start, pos - start));
    }
  }
}

}  // namespace locara
