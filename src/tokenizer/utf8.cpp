#include "tokenizer/utf8.h"

namespace locara {

uint32_t utf8_decode(std::string_view text, size_t& pos) {
  const auto lead = static_cast<uint8_t>(text[pos]);
  if (lead < 0x80) {
    ++pos;
    return lead;
  }
  size_t length = 0;
  uint32_t codepoint = 0;
  uint32_t minimum = 0;  // the smallest value this length may encode (no overlong forms)
  if ((lead & 0xE0) == 0xC0) {
    length = 2, codepoint = lead & 0x1F, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, codepoint = lead & 0x0F, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, codepoint = lead & 0x07, minimum = 0x10000;
  } else {
    ++pos;
    return kInvalidCodepoint;
  }
  if (text.size() - pos < length) {
    ++pos;
    return kInvalidCodepoint;
  }
  for (size_t i = 1; i < length; ++i) {
    const auto byte = static_cast<uint8_t>(text[pos + i]);
    if ((byte & 0xC0) != 0x80) {
      ++pos;
      return kInvalidCodepoint;
    }
    codepoint = (codepoint << 6) | (byte & 0x3F);
  }
  if (codepoint < minimum || codepoint > 0x10FFFF || (codepoint >= 0xD800 && codepoint <= 0xDFFF)) {
    ++pos;
    return kInvalidCodepoint;
  }
  pos += length;
  return codepoint;
}

void utf8_append(uint32_t codepoint, std::string& out) {
  if (codepoint < 0x80) {
    out += static_cast<char>(codepoint);
  } else if (codepoint < 0x800) {
    out += static_cast<char>(0xC0 | (codepoint >> 6));
    out += static_cast<char>(0x80 | (codepoint & 0x3F));
  } else if (codepoint < 0x10000) {
    out += static_cast<char>(0xE0 | (codepoint >> 12));
    out += static_cast<char>(0x80 | ((codepoint >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (codepoint & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (codepoint >> 18));
    out += static_cast<char>(0x80 | ((codepoint >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((codepoint >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (codepoint & 0x3F));
  }
}

}  // namespace locara
