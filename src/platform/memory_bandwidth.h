// How fast this machine streams memory into the cores: a read-only sweep over a buffer
// with N threads. Decode speed is bounded by it (bytes of weights per token / bandwidth).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/status.h"

namespace locara {

struct BandwidthOptions {
  int n_threads = 1;
  int n_passes = 5;         // timed passes, after warm-up ones
  int n_warmup_passes = 1;  // untimed: fault pages in, wake frequency governors
};

struct BandwidthResult {
  std::vector<double> passes_gbs;  // each timed pass, in GB/s (1e9 bytes per second)
  double best_gbs = 0.0;           // the highest: the machine's capability, least disturbed
  double median_gbs = 0.0;
  uint64_t bytes = 0;  // read per pass
  int n_threads = 0;
};

// Reads [data, data + size) once per pass, each thread one contiguous slice, and times
// every pass from start to the last thread's finish. The memory is only read (file-backed
// pages stay clean). Thread-safe (owns its threads).
BandwidthResult measure_read_bandwidth(const void* data, size_t size,
                                       const BandwidthOptions& options);

// The same over `size` bytes of fresh anonymous memory, filled before timing; advised
// for transparent huge pages, so the figure is the memory's and not the TLB's. The
// default size is four times the last-level cache, and at least 1 GiB.
Expected<BandwidthResult> measure_anonymous_bandwidth(const BandwidthOptions& options,
                                                      size_t size = 0);

// Bytes of the largest data cache sysfs reports (cpu0), 0 if unknown.
size_t last_level_cache_bytes();

}  // namespace locara
