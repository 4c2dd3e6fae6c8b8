// Reading a GGUF array of strings (token texts, BPE merges), with errors that name the file
// and the key.
#pragma once

#include <string_view>
#include <vector>

#include "base/status.h"

namespace locara {

class GgufReader;

// The strings of array `key`, as views into the reader's metadata (valid while it lives).
// kNotFound when the key is absent, the message saying "{path}: {missing} ({key} is
// missing)"; kCorruptFile when the value is not an array of strings.
Expected<std::vector<std::string_view>> read_gguf_strings(const GgufReader& gguf,
                                                          std::string_view key,
                                                          std::string_view missing);

}  // namespace locara
