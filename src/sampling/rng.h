// The sampler's random numbers: a seeded generator whose stream is the same on every platform,
// compiler and build, so that a seed replays the same tokens everywhere.
#pragma once

#include <cstdint>
#include <random>

namespace locara::sampling {

// std::mt19937_64's algorithm and constants are fixed by the C++ standard (which even pins its
// 10000th output), so its raw 64-bit stream is portable. The <random> distributions are not
// (their algorithms are implementation-defined), so the mapping to [0, 1) is done here.
// Thread-compatible: one per sequence.
class SamplingRng {
 public:
  explicit SamplingRng(uint64_t seed) : engine_(seed) {}

  void reseed(uint64_t seed) { engine_.seed(seed); }

  uint64_t next_u64() { return engine_(); }

  // Uniform in [0, 1) on the grid k / 2^53: the top 53 bits of one draw, exactly representable
  // in a double, so the result never rounds up to 1.
  double next_uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

 private:
  std::mt19937_64 engine_;
};

}  // namespace locara::sampling
