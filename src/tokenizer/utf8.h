// How llama.cpp splits text into UTF-8 characters; every tokenizer family must split the
// same way (also on invalid text) to produce llama.cpp's token ids.
#pragma once

#include <cstddef>
#include <cstdint>

namespace locara {

// Length in bytes of the UTF-8 sequence that starts with `lead`, judged by its top four
// bits only, as llama.cpp's unicode_len_utf8 does: continuation and other invalid lead
// bytes count as 1, 0xF8..0xFF as 4. Callers clamp it to the bytes that remain.
inline size_t utf8_sequence_length(uint8_t lead) {
  static constexpr uint8_t kLengthByHighNibble[16] = {1, 1, 1, 1, 1, 1, 1, 1,
                                                      1, 1, 1, 1, 2, 2, 3, 4};
  return kLengthByHighNibble[lead >> 4];
}

}  // namespace locara
