#include "tokenizer/utf8_stream.h"

namespace locara {
namespace {

bool is_continuation(uint8_t byte) {
  return (byte & 0xC0) == 0x80;
}

// Expected length of a well-formed sequence starting with `lead`, or 0 if `lead` cannot start
// one (a continuation byte, or 0xF8..0xFF). Stricter than utf8_sequence_length on purpose:
// only a real lead byte is worth waiting for.
size_t valid_sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 0;
}

// Where the incomplete sequence at the end of `bytes` starts, or bytes.size() if the text
// ends on a boundary. Only the last three bytes can belong to an unfinished character.
size_t incomplete_tail_start(std::string_view bytes) {
  const size_t n = bytes.size();
  const size_t lowest = n >= 3 ? n - 3 : 0;
  for (size_t i = n; i > lowest; --i) {
    const auto byte = static_cast<uint8_t>(bytes[i - 1]);
    if (is_continuation(byte)) continue;
    const size_t needed = valid_sequence_length(byte);
    // Everything after the lead byte is a continuation byte (checked by the loop), so the
    // sequence is incomplete exactly when it needs more bytes than are there.
    return needed > n - (i - 1) ? i - 1 : n;
  }
  return n;  // only continuation bytes: stray bytes that nothing can complete
}

}  // namespace

std::string Utf8StreamDecoder::push(std::string_view bytes) {
  pending_.append(bytes);
  const size_t boundary = incomplete_tail_start(pending_);
  std::string ready = pending_.substr(0, boundary);
  pending_.erase(0, boundary);
  return ready;
}

std::string Utf8StreamDecoder::flush() {
  std::string rest;
  rest.swap(pending_);
  return rest;
}

}  // namespace locara
