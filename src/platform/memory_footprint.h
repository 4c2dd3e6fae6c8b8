// What the kernel charges this (or another) process for memory, read from
// /proc/<pid>/smaps_rollup: resident pages split into anonymous and file-backed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace locara {

struct ProcessFootprint {
  uint64_t rss_bytes = 0;        // all resident pages ("Rss")
  uint64_t anonymous_bytes = 0;  // resident anonymous pages ("Anonymous"): the figure that
                                 // cannot be evicted without swap, and the one we budget
  uint64_t file_bytes = 0;       // rss_bytes - anonymous_bytes: page-cache pages mapped by
                                 // the process (mmapped weights, binaries, shmem)
};

// Parses <proc_root>/<pid>/smaps_rollup (Linux 4.14+). file_bytes is Rss - Anonymous
// rather than Pss_File: we want every resident file page our mappings hold, undivided
// by how many other processes share it, since that is what the weights occupy; the
// difference also needs no field newer kernels added. Missing file or field, or text
// that is not "<Key>: <number> kB", gives an error. Thread-safe.
Expected<ProcessFootprint> read_process_footprint(const std::string& proc_root = "/proc",
                                                  const std::string& pid = "self");

// The same parse over text already read (tests, and callers that cache the file).
Expected<ProcessFootprint> parse_smaps_rollup(std::string_view text,
                                              const std::string& source_name);

}  // namespace locara
