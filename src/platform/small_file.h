// Reading small text files whole: /proc and /sys entries, which report size 0 and
// must be read until EOF. The size cap keeps a wrong path (e.g. /dev/zero) harmless.
#pragma once

#include <cstddef>
#include <string>

#include "base/status.h"

namespace locara {

// Reads the file at path; kNotFound if it is missing, kIoError if it cannot be read,
// kResourceExhausted if it holds more than max_bytes. Thread-safe.
Expected<std::string> read_small_file(const std::string& path, size_t max_bytes = 1 << 20);

}  // namespace locara
