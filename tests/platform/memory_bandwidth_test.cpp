// The streaming-read measurement: one figure per timed pass, positive, over exactly the
// bytes asked for, with any thread count; memory is only read.
#include "platform/memory_bandwidth.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace locara {
namespace {

TEST(MemoryBandwidth, OneFigurePerTimedPass) {
  std::vector<uint8_t> buffer(3 * 1024 * 1024 + 77, 5);  // not a multiple of anything
  const std::vector<uint8_t> before = buffer;
  for (const int n_threads : {1, 2, 3}) {
    BandwidthOptions options;
    options.n_threads = n_threads;
    options.n_passes = 4;
    options.n_warmup_passes = 2;
    const BandwidthResult result = measure_read_bandwidth(buffer.data(), buffer.size(), options);
    EXPECT_EQ(result.passes_gbs.size(), 4u);
    EXPECT_EQ(result.n_threads, n_threads);
    EXPECT_EQ(result.bytes, buffer.size());
    for (const double gbs : result.passes_gbs) EXPECT_GT(gbs, 0.0);
    EXPECT_GE(result.best_gbs, result.median_gbs);
    EXPECT_GT(result.median_gbs, 0.0);
  }
  EXPECT_EQ(buffer, before);
}

TEST(MemoryBandwidth, TinyBuffersAndMoreThreadsThanPages) {
  std::vector<uint8_t> buffer(100, 1);
  BandwidthOptions options;
  options.n_threads = 4;
  options.n_passes = 1;
  const BandwidthResult result = measure_read_bandwidth(buffer.data(), buffer.size(), options);
  EXPECT_EQ(result.passes_gbs.size(), 1u);
}

TEST(MemoryBandwidth, AnonymousMemory) {
  BandwidthOptions options;
  options.n_threads = 2;
  options.n_passes = 2;
  auto result = measure_anonymous_bandwidth(options, 8 << 20);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->bytes, 8u << 20);
  EXPECT_GT(result->best_gbs, 0.0);
}

}  // namespace
}  // namespace locara
