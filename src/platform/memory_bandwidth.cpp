#include "platform/memory_bandwidth.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

namespace locara {
namespace {

// 16-byte vectors (SSE2 / NEON registers) through GCC's portable vector extension: wide
// enough that the loads, not the adds, limit a core, on every architecture we build.
using Lanes = uint64_t __attribute__((vector_size(16)));

// Touches every byte of [data, data + size) and returns a sum, so the compiler cannot
// drop the loads. Four independent accumulators, one 64-byte line per iteration.
uint64_t read_sweep(const uint8_t* data, size_t size) {
  Lanes a = {0, 0}, b = {0, 0}, c = {0, 0}, d = {0, 0};
  size_t i = 0;
  for (; i + 64 <= size; i += 64) {
    Lanes x, y, z, w;
    std::memcpy(&x, data + i, 16);
    std::memcpy(&y, data + i + 16, 16);
    std::memcpy(&z, data + i + 32, 16);
    std::memcpy(&w, data + i + 48, 16);
    a += x;
    b += y;
    c += z;
    d += w;
  }
  uint64_t tail = 0;
  for (; i < size; ++i) tail += data[i];
  const Lanes sum = a + b + c + d;
  return sum[0] + sum[1] + tail;
}

double median_of(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : 0.5 * (values[mid - 1] + values[mid]);
}

// "32768K" / "2M" / "512" -> bytes; 0 if unparsable.
size_t parse_cache_size(const std::string& text) {
  size_t value = 0;
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9')
    value = value * 10 + (text[i++] - '0');
  if (i < text.size() && (text[i] == 'K' || text[i] == 'k')) value <<= 10;
  if (i < text.size() && (text[i] == 'M' || text[i] == 'm')) value <<= 20;
  return value;
}

}  // namespace

BandwidthResult measure_read_bandwidth(const void* data, size_t size,
                                       const BandwidthOptions& options) {
  BandwidthResult result;
  result.bytes = size;
  result.n_threads = std::max(1, options.n_threads);
  const int n_threads = result.n_threads;
  const int n_passes = std::max(0, options.n_warmup_passes) + std::max(1, options.n_passes);
  const auto* bytes = static_cast<const uint8_t*>(data);

  // Slices on 4 KiB boundaries, so no page is shared by two threads.
  const size_t slice = (size / static_cast<size_t>(n_threads)) & ~size_t{4095};
  auto slice_of = [&](int t) {
    const size_t begin = slice * static_cast<size_t>(t);
    const size_t end = t == n_threads - 1 ? size : begin + slice;
    return std::pair{begin, end};
  };

  // Every pass starts on a barrier and ends on one, so the caller's thread (thread 0)
  // times the slowest thread's finish.
  std::barrier sync(n_threads);
  std::atomic<uint64_t> sink{0};
  auto sweep_passes = [&](int t) {
    const auto [begin, end] = slice_of(t);
    for (int pass = 0; pass < n_passes; ++pass) {
      sync.arrive_and_wait();
      sink.fetch_add(read_sweep(bytes + begin, end - begin), std::memory_order_relaxed);
      sync.arrive_and_wait();
    }
  };
  std::vector<std::thread> workers;
  for (int t = 1; t < n_threads; ++t) workers.emplace_back(sweep_passes, t);

  const auto [begin, end] = slice_of(0);
  for (int pass = 0; pass < n_passes; ++pass) {
    sync.arrive_and_wait();
    const auto start = std::chrono::steady_clock::now();
    sink.fetch_add(read_sweep(bytes + begin, end - begin), std::memory_order_relaxed);
    sync.arrive_and_wait();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (pass >= std::max(0, options.n_warmup_passes) && seconds > 0) {
      result.passes_gbs.push_back(static_cast<double>(size) / seconds / 1e9);
    }
  }
  for (std::thread& worker : workers) worker.join();

  if (!result.passes_gbs.empty()) {
    result.best_gbs = *std::max_element(result.passes_gbs.begin(), result.passes_gbs.end());
    result.median_gbs = median_of(result.passes_gbs);
  }
  return result;
}

size_t last_level_cache_bytes() {
  size_t largest = 0;
  for (int index = 0; index < 8; ++index) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index);
    std::ifstream type_file(dir + "/type");
    std::ifstream size_file(dir + "/size");
    std::string type, size;
    if (!(type_file >> type) || !(size_file >> size)) continue;
    if (type == "Instruction") continue;
    largest = std::max(largest, parse_cache_size(size));
  }
  return largest;
}

Expected<BandwidthResult> measure_anonymous_bandwidth(const BandwidthOptions& options,
                                                      size_t size) {
  if (size == 0) size = std::max<size_t>(size_t{1} << 30, 4 * last_level_cache_bytes());
  void* memory = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    return make_error(ErrorCode::kResourceExhausted,
                      "bandwidth test: cannot map {} bytes of anonymous memory: {}", size,
                      std::strerror(errno));
  }
  // Huge pages where the kernel allows them (THP "madvise" mode needs the advice); the
  // advice failing only costs TLB misses, so it is not an error.
#ifdef MADV_HUGEPAGE
  ::madvise(memory, size, MADV_HUGEPAGE);
#endif
  // Nonzero bytes: untouched anonymous pages all map the shared zero page, which would
  // be read from the cache.
  std::memset(memory, 1, size);
  BandwidthResult result = measure_read_bandwidth(memory, size, options);
  ::munmap(memory, size);
  return result;
}

}  // namespace locara
