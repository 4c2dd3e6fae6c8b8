// Utf8StreamDecoder: cuts a stream of token pieces at character boundaries, so that a
// consumer printing tokens as they come never prints half a character.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace locara {

// Turns a stream of byte chunks (token pieces; a byte-fallback token is one byte of a
// character) into chunks that each end on a character boundary. An incomplete sequence at
// the end of the input is held back until the bytes that complete it arrive; bytes that can
// never form a valid character are passed through unchanged rather than held forever.
// Not thread-safe: one decoder per stream.
class Utf8StreamDecoder {
 public:
  // Returns the bytes of `bytes` (after any held back before) that end on a boundary.
  std::string push(std::string_view bytes);
  // Returns whatever is still held back (an incomplete sequence, as raw bytes) and resets.
  std::string flush();
  // Number of bytes currently held back (0..3).
  size_t pending_bytes() const { return pending_.size(); }

 private:
  std::string pending_;
};

}  // namespace locara
