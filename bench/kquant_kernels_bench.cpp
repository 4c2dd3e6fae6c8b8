// The x86 K-format and IQ4 kernels (Q2_K .. Q6_K, IQ4_XS, IQ4_NL; Q8_K), each ISA called
// directly on one thread (rates use the thread's CPU time, so a busy machine skews them
// less), and Q4_K and Q6_K through matmul() with the active table on 1 and 2 threads (wall
// time):
// - vec_dot: weight GB/s over a matrix past the L3 (generation) and one in L2;
// - gemm_tile: 2048 x 2048 weights x 512 tokens in matmul's 64 x 64 tiles, in MAC/s and
//   as a share of the measured vpdpbusd peak (vnni_peak: 64 MACs per instruction);
// - from_float: Q8_K quantization in GB/s of floats read.
//   build-kx/bench/kquant_kernels_bench --benchmark_filter='gemm_tile/q4_K'
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gguf/tensor_type.h"
#include "ops/cpu_features.h"
#include "ops/matmul.h"
#include "ops/type_traits.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "ops/x86/kquant_kernels.h"
#include "ops/x86/x86_kernels.h"
#endif

namespace locara::ops {
namespace {

#if defined(__x86_64__)

// One weight type's kernels in one ISA.
struct Kernel {
  TensorType type;
  VecDotFn vec_dot;
  GemmTileFn gemm;
};

struct Isa {
  std::string name;
  bool available;
  FromFloatFn from_float_q8_k;
  std::vector<Kernel> kernels;
};

#define LOCARA_BENCH_KERNELS(isa)                                                 \
  {                                                                               \
    {TensorType::kQ2_K, isa::vec_dot_q2_k_q8_k, isa::gemm_tile_q2_k},             \
        {TensorType::kQ3_K, isa::vec_dot_q3_k_q8_k, isa::gemm_tile_q3_k},         \
        {TensorType::kQ4_K, isa::vec_dot_q4_k_q8_k, isa::gemm_tile_q4_k},         \
        {TensorType::kQ5_K, isa::vec_dot_q5_k_q8_k, isa::gemm_tile_q5_k},         \
        {TensorType::kQ6_K, isa::vec_dot_q6_k_q8_k, isa::gemm_tile_q6_k},         \
        {TensorType::kIQ4_XS, isa::vec_dot_iq4_xs_q8_k, isa::gemm_tile_iq4_xs}, { \
      TensorType::kIQ4_NL, isa::vec_dot_iq4_nl_q8_0, isa::gemm_tile_iq4_nl        \
    }                                                                             \
  }

std::vector<Isa> isas() {
  const CpuFeatures& cpu = detected_cpu_features();
  return {
      {"avx2", cpu.has_avx2_kernels(), avx2::from_float_q8_k, LOCARA_BENCH_KERNELS(avx2)},
      {"avx512", cpu.has_avx512_kernels(), avx512::from_float_q8_k, LOCARA_BENCH_KERNELS(avx512)}};
}

#undef LOCARA_BENCH_KERNELS

#endif

std::vector<float> make_floats(int64_t count) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::vector<float> x(static_cast<size_t>(count));
  for (float& v : x) v = dist(rng);
  return x;
}

// Weights: 64 rows quantized by the reference from random floats, repeated (the speed
// does not depend on the values, and quantizing every row would take long).
std::vector<uint8_t> make_weights(TensorType type, int64_t n_rows, int64_t n) {
  const TypeTraits& traits = *reference_type_traits(type);
  const int64_t distinct = std::min<int64_t>(n_rows, 64);
  const std::vector<float> x = make_floats(distinct * n);
  const size_t row_bytes = traits.row_bytes(n);
  std::vector<uint8_t> bytes(row_bytes * static_cast<size_t>(n_rows));
  for (int64_t r = 0; r < distinct; ++r) {
    traits.from_float(x.data() + r * n, bytes.data() + r * row_bytes, n);
  }
  for (int64_t r = distinct; r < n_rows; ++r) {
    std::memcpy(bytes.data() + r * row_bytes, bytes.data() + (r % distinct) * row_bytes, row_bytes);
  }
  return bytes;
}

// The activations of `type`'s dots (Q8_K, or Q8_0 for IQ4_NL).
const TypeTraits& activation_traits(TensorType type) {
  return *reference_type_traits(reference_type_traits(type)->vec_dot_type);
}

std::vector<uint8_t> make_activations(TensorType type, int64_t n, int64_t n_tokens) {
  const TypeTraits& traits = activation_traits(type);
  const std::vector<float> x = make_floats(n * n_tokens);
  std::vector<uint8_t> bytes(traits.row_bytes(n) * static_cast<size_t>(n_tokens));
  for (int64_t t = 0; t < n_tokens; ++t) {
    traits.from_float(x.data() + t * n, bytes.data() + t * traits.row_bytes(n), n);
  }
  return bytes;
}

#if defined(__x86_64__)

// vpdpbusd throughput with 12 independent chains (one thread).
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void vnni_peak(benchmark::State& state) {
  if (!detected_cpu_features().has_avx512_kernels()) {
    state.SkipWithError("no AVX-512 VNNI");
    return;
  }
  const __m512i x = _mm512_set1_epi8(3);
  const __m512i y = _mm512_set1_epi8(5);
  __m512i acc[12];
  for (__m512i& a : acc) a = _mm512_setzero_si512();
  constexpr int64_t kRounds = 100000;
  for (auto _ : state) {
    for (int64_t i = 0; i < kRounds; ++i) {
#pragma GCC unroll 12
      for (__m512i& a : acc) a = _mm512_dpbusd_epi32(a, x, y);
    }
    for (__m512i& a : acc) benchmark::DoNotOptimize(a);
  }
  state.counters["MAC/s"] =
      benchmark::Counter(64.0 * 12 * kRounds, benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
}

// One thread streams every row of the matrix through vec_dot with one activation row.
void direct_vec_dot(benchmark::State& state, VecDotFn dot, TensorType type, int64_t n_rows,
                    int64_t n) {
  const std::vector<uint8_t> w = make_weights(type, n_rows, n);
  const std::vector<uint8_t> a = make_activations(type, n, 1);
  const size_t row_bytes = type_traits(type)->row_bytes(n);
  float sink = 0;
  for (auto _ : state) {
    for (int64_t r = 0; r < n_rows; ++r) sink += dot(n, w.data() + r * row_bytes, a.data());
    benchmark::DoNotOptimize(sink);
  }
  state.counters["weight_B/s"] = benchmark::Counter(static_cast<double>(w.size()),
                                                    benchmark::Counter::kIsIterationInvariantRate,
                                                    benchmark::Counter::kIs1000);
}

// One thread runs the whole product in matmul's 64 x 64 tiles.
void direct_gemm(benchmark::State& state, GemmTileFn gemm, TensorType type, int64_t n_rows,
                 int64_t n, int64_t n_tokens) {
  const std::vector<uint8_t> w = make_weights(type, n_rows, n);
  const std::vector<uint8_t> a = make_activations(type, n, n_tokens);
  const size_t w_row_bytes = type_traits(type)->row_bytes(n);
  const size_t a_row_bytes = activation_traits(type).row_bytes(n);
  std::vector<float> out(static_cast<size_t>(n_rows * n_tokens));
  for (auto _ : state) {
    for (int64_t t0 = 0; t0 < n_tokens; t0 += 64) {
      for (int64_t r0 = 0; r0 < n_rows; r0 += 64) {
        gemm(n, w.data() + r0 * w_row_bytes, w_row_bytes, std::min<int64_t>(64, n_rows - r0),
             a.data() + t0 * a_row_bytes, a_row_bytes, std::min<int64_t>(64, n_tokens - t0),
             out.data() + t0 * n_rows + r0, n_rows);
      }
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(n_rows) * n * n_tokens,
                                               benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
}

void direct_from_float(benchmark::State& state, FromFloatFn from_float, int64_t n) {
  const std::vector<float> x = make_floats(n);
  std::vector<uint8_t> out(reference_type_traits(TensorType::kQ8_K)->row_bytes(n));
  for (auto _ : state) {
    from_float(x.data(), out.data(), n);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["float_B/s"] = benchmark::Counter(static_cast<double>(n) * sizeof(float),
                                                   benchmark::Counter::kIsIterationInvariantRate,
                                                   benchmark::Counter::kIs1000);
}

#endif

void run_matmul(benchmark::State& state, TensorType type, int64_t n_rows, int64_t n,
                int64_t n_tokens, int n_threads) {
  const TypeTraits& traits = *type_traits(type);
  const std::vector<uint8_t> weights = make_weights(type, n_rows, n);
  const WeightMatrix matrix{type, weights.data(), n, n_rows, traits.row_bytes(n)};
  const std::vector<float> x = make_floats(n * n_tokens);
  std::vector<float> out(static_cast<size_t>(n_rows * n_tokens));
  ThreadPool pool(n_threads);
  MatmulScratch scratch;
  for (auto _ : state) {
    matmul(matrix, x.data(), n_tokens, out.data(), scratch, pool);
    benchmark::DoNotOptimize(out.data());
  }
  const double macs = static_cast<double>(n_rows) * static_cast<double>(n) * n_tokens;
  state.counters["MAC/s"] = benchmark::Counter(macs, benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
  state.counters["weight_B/s"] = benchmark::Counter(static_cast<double>(weights.size()),
                                                    benchmark::Counter::kIsIterationInvariantRate,
                                                    benchmark::Counter::kIs1000);
  state.SetLabel(active_kernel_family());
}

void register_all() {
  const std::vector<TensorType> types = {TensorType::kQ4_K, TensorType::kQ6_K};
#if defined(__x86_64__)
  benchmark::RegisterBenchmark("vnni_peak", vnni_peak);
  for (const Isa& isa : isas()) {
    if (!isa.available) continue;
    benchmark::RegisterBenchmark(("from_float/q8_K/" + isa.name).c_str(), [=](benchmark::State& s) {
      direct_from_float(s, isa.from_float_q8_k, 4096);
    });
    for (const Kernel& kernel : isa.kernels) {
      const TensorType type = kernel.type;
      const VecDotFn dot = kernel.vec_dot;
      const GemmTileFn gemm = kernel.gemm;
      const std::string name = std::string(tensor_type_name(type)) + "/" + isa.name;
      // 16384 x 4096: 38 MB of Q4_K (55 MB of Q6_K, 22 MB of Q2_K), past the 32 MB L3.
      benchmark::RegisterBenchmark(("vec_dot_dram/" + name).c_str(), [=](benchmark::State& s) {
        direct_vec_dot(s, dot, type, 16384, 4096);
      })->Unit(benchmark::kMillisecond);
      // 256 x 2048: 0.2 - 0.4 MB, in L2.
      benchmark::RegisterBenchmark(("vec_dot_l2/" + name).c_str(), [=](benchmark::State& s) {
        direct_vec_dot(s, dot, type, 256, 2048);
      })->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("gemm_tile/" + name).c_str(), [=](benchmark::State& s) {
        direct_gemm(s, gemm, type, 2048, 2048, 512);
      })->Unit(benchmark::kMillisecond);
      // 64 rows: the weights stay in L2, which isolates the kernel from memory.
      benchmark::RegisterBenchmark(("gemm_tile_l2/" + name).c_str(), [=](benchmark::State& s) {
        direct_gemm(s, gemm, type, 64, 2048, 512);
      })->Unit(benchmark::kMillisecond);
    }
  }
#endif
  for (TensorType type : types) {
    for (int threads : {1, 2}) {
      const std::string suffix =
          std::string(tensor_type_name(type)) + "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(
          ("matmul_gemm/" + suffix).c_str(),
          [=](benchmark::State& s) { run_matmul(s, type, 2048, 2048, 512, threads); })
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
      benchmark::RegisterBenchmark(
          ("matmul_vec_dot_dram/" + suffix).c_str(),
          [=](benchmark::State& s) { run_matmul(s, type, 16384, 4096, 1, threads); })
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
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
