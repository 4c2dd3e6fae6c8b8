// The space marker U+2581 that SentencePiece and WordPiece vocabularies write in place of a
// space ("▁the"), and the conversions between it and spaces.
#pragma once

#include <string>
#include <string_view>

namespace locara {

// U+2581 LOWER ONE EIGHTH BLOCK, in UTF-8.
inline constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";

// Appends `text` with every space written as the marker.
inline void append_space_escaped(std::string_view text, std::string& out) {
  for (const char c : text) {
    if (c == ' ') {
      out += kSpaceMarker;
    } else {
      out += c;
    }
  }
}

// `text` with every marker written as a space.
inline std::string space_unescaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, kSpaceMarker.size(), kSpaceMarker) == 0) {
      out += ' ';
      i += kSpaceMarker.size();
    } else {
      out += text[i++];
    }
  }
  return out;
}

}  // namespace locara
