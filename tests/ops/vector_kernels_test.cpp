// Every ISA's softmax and SwiGLU give the scalar reference's bits: random rows of many
// lengths (tails of every size), rows with masked -inf tails, and exp's extreme ranges.
#include "ops/vector_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "ops/cpu_features.h"
#include "ops/vector_math.h"

namespace locara::ops {
namespace {

struct NamedKernels {
  std::string name;
  VectorKernels kernels;
};

// Each ISA's kernels installed alone over the reference, where this CPU runs them.
std::vector<NamedKernels> isa_kernels() {
  std::vector<NamedKernels> out;
  const CpuFeatures& cpu = detected_cpu_features();
  (void)cpu;
#if defined(__x86_64__)
  if (cpu.has_avx2_kernels()) {
    VectorKernels k = reference_vector_kernels();
    install_avx2_vector_kernels(k);
    out.push_back({"avx2", k});
  }
  if (cpu.has_avx512_kernels()) {
    VectorKernels k = reference_vector_kernels();
    install_avx512_vector_kernels(k);
    out.push_back({"avx512", k});
  }
#elif defined(__aarch64__)
  if (cpu.has_neon_kernels()) {
    VectorKernels k = reference_vector_kernels();
    install_neon_vector_kernels(k);
    out.push_back({"neon", k});
  }
#endif
  return out;
}

void expect_same_bits(const std::vector<float>& want, const std::vector<float>& got,
                      const std::string& what) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    uint32_t a, b;
    std::memcpy(&a, &want[i], 4);
    std::memcpy(&b, &got[i], 4);
    ASSERT_EQ(a, b) << what << " at " << i << ": " << want[i] << " vs " << got[i];
  }
}

TEST(VectorKernels, EveryIsaIsTestedHere) {
  // On x86-64 and arm64 at least one SIMD family applies; elsewhere none does.
#if defined(__x86_64__) || defined(__aarch64__)
  EXPECT_FALSE(isa_kernels().empty());
#endif
}

TEST(VectorKernels, SoftmaxMatchesReferenceBits) {
  std::mt19937 rng(7);
  for (const NamedKernels& isa : isa_kernels()) {
    for (int64_t n : {1, 3, 8, 15, 16, 17, 31, 32, 33, 64, 100, 512, 1000}) {
      for (float spread : {0.5f, 8.0f, 60.0f}) {
        std::normal_distribution<float> dist(0.0f, spread);
        std::vector<float> row(static_cast<size_t>(n));
        for (float& v : row) v = dist(rng);
        // A masked tail, as attention pads its keys to a multiple of 32.
        std::vector<float> masked = row;
        for (int64_t i = n * 3 / 4 + 1; i < n; ++i) masked[static_cast<size_t>(i)] = -INFINITY;
        for (std::vector<float> input : {row, masked}) {
          std::vector<float> want = input;
          reference_vector_kernels().softmax(want.data(), n);
          isa.kernels.softmax(input.data(), n);
          expect_same_bits(want, input, isa.name + " softmax n=" + std::to_string(n));
        }
      }
    }
  }
}

TEST(VectorKernels, SwigluMatchesReferenceBits) {
  std::mt19937 rng(11);
  for (const NamedKernels& isa : isa_kernels()) {
    for (int64_t n : {1, 7, 16, 17, 40, 64, 250, 4096}) {
      for (float spread : {1.0f, 10.0f, 120.0f}) {
        std::normal_distribution<float> dist(0.0f, spread);
        std::vector<float> gate(static_cast<size_t>(n)), up(static_cast<size_t>(n));
        for (float& v : gate) v = dist(rng);
        for (float& v : up) v = dist(rng);
        std::vector<float> want(gate.size()), got(gate.size());
        reference_vector_kernels().swiglu(gate.data(), up.data(), want.data(), n);
        isa.kernels.swiglu(gate.data(), up.data(), got.data(), n);
        expect_same_bits(want, got, isa.name + " swiglu n=" + std::to_string(n));
      }
    }
  }
}

// exp's whole range through SwiGLU (exp(-g)): results that overflow, go subnormal,
// flush to zero, and the boundaries of the fast scaling path.
TEST(VectorKernels, ExpRangeEdgesMatchReference) {
  std::vector<float> gate;
  for (float g = -200.0f; g <= 200.0f; g += 0.37f) gate.push_back(g);
  for (float g : {-89.0f, -88.7f, -87.5f, -86.6f, 86.6f, 87.3f, 87.5f, 88.8f, 103.0f, 104.5f,
                  -INFINITY, INFINITY, 0.0f, -0.0f}) {
    gate.push_back(g);
  }
  while (gate.size() % 16 != 0) gate.push_back(1.0f);
  const std::vector<float> up(gate.size(), 1.0f);
  for (const NamedKernels& isa : isa_kernels()) {
    std::vector<float> want(gate.size()), got(gate.size());
    reference_vector_kernels().swiglu(gate.data(), up.data(), want.data(),
                                      static_cast<int64_t>(gate.size()));
    isa.kernels.swiglu(gate.data(), up.data(), got.data(), static_cast<int64_t>(gate.size()));
    for (size_t i = 0; i < gate.size(); ++i) {
      if (std::isnan(want[i])) {
        EXPECT_TRUE(std::isnan(got[i])) << isa.name << " g=" << gate[i];
        continue;
      }
      EXPECT_EQ(want[i], got[i]) << isa.name << " g=" << gate[i];
    }
  }
}

}  // namespace
}  // namespace locara::ops
