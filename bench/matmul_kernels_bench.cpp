// Matmul kernels through the active dispatch table (LOCARA_ISA caps it):
// - gemm: a 2048 x 2048 weight matrix times 512 tokens (prompt processing), reported in
//   multiply-adds per second (MAC/s; 1 MAC = 2 flops);
// - vec_dot: one token through a matrix too big for the caches (generation), reported in
//   GB/s of weights read; and through one that fits in L2, which shows the kernel's own
//   speed.
// Both run on 1 and 2 threads; matmul() includes converting the activations.
// - tile: one thread running gemm_tile on one 64 x 64 tile of rows of 2048 (the kernel
//   alone, its data in L2), and vnni_peak: vpdpbusd on zmm registers back to back, the
//   machine's int8 ceiling (MAC/s per thread), to read the tile's share of it.
//   matmul_kernels_bench --benchmark_filter=gemm/q8_0 --benchmark_repetitions=20
//     --benchmark_min_time=0.05   (then read the _best and _fastest rows)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <random>
#include <string>
#include <vector>

#include "gguf/tensor_type.h"
#include "ops/cpu_features.h"
#include "ops/half.h"
#include "ops/matmul.h"
#include "ops/type_traits.h"

namespace locara::ops {
namespace {

bool is_float_type(TensorType type) {
  return type == TensorType::kF32 || type == TensorType::kF16 || type == TensorType::kBF16;
}

// Weights of n_rows x n: floats through from_float for the float types, random bytes
// with small fp16 scales for the block formats (the speed does not depend on values).
std::vector<uint8_t> make_weights(TensorType type, int64_t n_rows, int64_t n) {
  const TypeTraits& traits = *type_traits(type);
  const size_t row_bytes = traits.row_bytes(n);
  std::vector<uint8_t> bytes(row_bytes * static_cast<size_t>(n_rows));
  std::mt19937 rng(42);
  if (is_float_type(type)) {
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    std::vector<float> row(static_cast<size_t>(n));
    for (int64_t r = 0; r < n_rows; ++r) {
      for (float& v : row) v = dist(rng);
      traits.from_float(row.data(), bytes.data() + r * row_bytes, n);
    }
    return bytes;
  }
  for (size_t i = 0; i < bytes.size(); i += 4) {
    const uint32_t v = rng();
    for (size_t j = 0; j < 4 && i + j < bytes.size(); ++j) bytes[i + j] = uint8_t(v >> (8 * j));
  }
  const uint16_t scale = fp32_to_fp16(0.01f);
  for (size_t offset = 0; offset < bytes.size(); offset += traits.type_size) {
    bytes[offset] = static_cast<uint8_t>(scale);  // d (and m for Q4_1 / Q5_1)
    bytes[offset + 1] = static_cast<uint8_t>(scale >> 8);
    if (type == TensorType::kQ4_1 || type == TensorType::kQ5_1) {
      bytes[offset + 2] = static_cast<uint8_t>(scale);
      bytes[offset + 3] = static_cast<uint8_t>(scale >> 8);
    }
  }
  return bytes;
}

void run_matmul(benchmark::State& state, TensorType type, int64_t n_rows, int64_t n,
                int64_t n_tokens, int n_threads) {
  const TypeTraits& traits = *type_traits(type);
  const std::vector<uint8_t> weights = make_weights(type, n_rows, n);
  const WeightMatrix matrix{type, weights.data(), n, n_rows, traits.row_bytes(n)};
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::vector<float> x(static_cast<size_t>(n * n_tokens));
  for (float& v : x) v = dist(rng);
  std::vector<float> out(static_cast<size_t>(n_rows * n_tokens));
  ThreadPool pool(n_threads);
  MatmulScratch scratch;
  for (auto _ : state) {
    matmul(matrix, x.data(), n_tokens, out.data(), scratch, pool);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const double macs = static_cast<double>(n_rows) * static_cast<double>(n) * n_tokens;
  state.counters["MAC/s"] = benchmark::Counter(macs, benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
  state.counters["weight_B/s"] = benchmark::Counter(static_cast<double>(weights.size()),
                                                    benchmark::Counter::kIsIterationInvariantRate,
                                                    benchmark::Counter::kIs1000);
  state.SetLabel(active_kernel_family());
}

void run_tile(benchmark::State& state, TensorType type) {
  constexpr int64_t kN = 2048;
  constexpr int64_t kTile = 64;
  const TypeTraits& traits = *type_traits(type);
  const TypeTraits& activation_traits = *type_traits(traits.vec_dot_type);
  const std::vector<uint8_t> weights = make_weights(type, kTile, kN);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::vector<float> x(static_cast<size_t>(kN * kTile));
  for (float& v : x) v = dist(rng);
  const size_t a_row_bytes = activation_traits.row_bytes(kN);
  std::vector<uint8_t> activations(a_row_bytes * kTile);
  for (int64_t t = 0; t < kTile; ++t) {
    activation_traits.from_float(x.data() + t * kN, activations.data() + t * a_row_bytes, kN);
  }
  std::vector<float> out(static_cast<size_t>(kTile * kTile));
  for (auto _ : state) {
    traits.gemm_tile(kN, weights.data(), traits.row_bytes(kN), kTile, activations.data(),
                     a_row_bytes, kTile, out.data(), kTile);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(kTile * kTile * kN),
                                               benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
  state.SetLabel(active_kernel_family());
}

#if defined(__x86_64__)
// 8 independent vpdpbusd chains on zmm registers (more than its latency needs).
__attribute__((target("avx512f,avx512vnni"))) void run_vnni_peak(benchmark::State& state) {
  if (!detected_cpu_features().has_avx512_kernels()) {
    state.SkipWithError("no AVX-512 VNNI");
    return;
  }
  constexpr int64_t kSteps = 100000;
  __m512i a0 = _mm512_set1_epi32(0), a1 = _mm512_set1_epi32(1), a2 = _mm512_set1_epi32(2),
          a3 = _mm512_set1_epi32(3), a4 = _mm512_set1_epi32(4), a5 = _mm512_set1_epi32(5),
          a6 = _mm512_set1_epi32(6), a7 = _mm512_set1_epi32(7);
  const __m512i x = _mm512_set1_epi8(1);
  const __m512i y = _mm512_set1_epi8(2);
  for (auto _ : state) {
    for (int64_t i = 0; i < kSteps; ++i) {
      a0 = _mm512_dpbusd_epi32(a0, x, y);
      a1 = _mm512_dpbusd_epi32(a1, x, y);
      a2 = _mm512_dpbusd_epi32(a2, x, y);
      a3 = _mm512_dpbusd_epi32(a3, x, y);
      a4 = _mm512_dpbusd_epi32(a4, x, y);
      a5 = _mm512_dpbusd_epi32(a5, x, y);
      a6 = _mm512_dpbusd_epi32(a6, x, y);
      a7 = _mm512_dpbusd_epi32(a7, x, y);
      // Opaque to the optimizer, so the chains stay distinct and in registers.
      __asm__ volatile(""
                       : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), "+v"(a6),
                         "+v"(a7));
    }
  }
  const __m512i all =
      _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)),
                       _mm512_add_epi32(_mm512_add_epi32(a4, a5), _mm512_add_epi32(a6, a7)));
  alignas(64) int32_t lanes[16];
  _mm512_store_si512(lanes, all);
  benchmark::DoNotOptimize(lanes[0]);
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(kSteps * 8 * 64),
                                               benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
}
#endif

// On a shared machine the best of many short runs is the kernel's speed: run with
// --benchmark_repetitions=20 and read the "best" rows (fastest time, highest rates).
void add_best(benchmark::internal::Benchmark* b) {
  b->ComputeStatistics(
      "best", [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); });
  b->ComputeStatistics("fastest", [](const std::vector<double>& v) {
    return *std::min_element(v.begin(), v.end());
  });
}

void register_all() {
  const std::vector<TensorType> types = {TensorType::kQ8_0, TensorType::kQ4_0, TensorType::kQ4_1,
                                         TensorType::kQ5_0, TensorType::kQ5_1, TensorType::kF16,
                                         TensorType::kBF16, TensorType::kF32};
#if defined(__x86_64__)
  benchmark::RegisterBenchmark("vnni_peak", run_vnni_peak)
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime()
      ->Apply(add_best);
#endif
  for (TensorType type : types) {
    const std::string name(tensor_type_name(type));
    benchmark::RegisterBenchmark(("tile/" + name).c_str(),
                                 [=](benchmark::State& state) { run_tile(state, type); })
        ->Unit(benchmark::kMicrosecond)
        ->UseRealTime()
        ->Apply(add_best);
    for (int threads : {1, 2}) {
      const std::string suffix = name + "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(
          ("gemm/" + suffix).c_str(),
          [=](benchmark::State& state) { run_matmul(state, type, 2048, 2048, 512, threads); })
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->Apply(add_best);
      // 16384 x 2048: 71 MB of Q8_0, past the 32 MB L3.
      benchmark::RegisterBenchmark(
          ("vec_dot_dram/" + suffix).c_str(),
          [=](benchmark::State& state) { run_matmul(state, type, 16384, 2048, 1, threads); })
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->Apply(add_best);
      // 256 x 2048: 0.5 MB of Q8_0, in L2.
      benchmark::RegisterBenchmark(
          ("vec_dot_l2/" + suffix).c_str(),
          [=](benchmark::State& state) { run_matmul(state, type, 256, 2048, 1, threads); })
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime()
          ->Apply(add_best);
    }
  }
}

}  // namespace
}  // namespace locara::ops

int main(int argc, char** argv) {
  locara::ops::register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
