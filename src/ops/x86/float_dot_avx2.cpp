// AVX2 + FMA + F16C dot products and gemm tiles of the plain float types (F32, F16,
// BF16), in the AVX-512 kernels' order (float_dot_avx512.cpp) emulated on pairs of 8-lane
// vectors: a 16-lane accumulator is two ymm, summed as _mm512_reduce_add_ps sums. So the
// float types return the same bits on both instruction sets (AVX512_BF16's vdpbf16ps
// aside), which is llama.cpp's order on AVX-512, the order its goldens were made with.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ops/tile_loop.h"
#include "ops/x86/simd_avx2.h"
#include "ops/x86/x86_kernels.h"

namespace locara::ops::avx2 {
namespace {

using tiling::GemmOperands;

// 16 float lanes: lanes 0-7 and 8-15 of an AVX-512 vector.
struct Lanes16 {
  __m256 lo;
  __m256 hi;
};

inline Lanes16 zero16() {
  return {_mm256_setzero_ps(), _mm256_setzero_ps()};
}

inline Lanes16 fmadd16(Lanes16 w, Lanes16 a, Lanes16 acc) {
  return {_mm256_fmadd_ps(w.lo, a.lo, acc.lo), _mm256_fmadd_ps(w.hi, a.hi, acc.hi)};
}

inline Lanes16 add16(Lanes16 a, Lanes16 b) {
  return {_mm256_add_ps(a.lo, b.lo), _mm256_add_ps(a.hi, b.hi)};
}

// _mm512_reduce_add_ps's order: the halves, then as hsum() does.
inline float hsum16(Lanes16 v) {
  return hsum(_mm256_add_ps(v.lo, v.hi));
}

// 16-bit elements [i, i + count) zero-padded to 16 (AVX2 has no masked 16-bit loads).
inline void load_padded_halves(const void* row, int64_t i, int64_t count, __m128i* lo,
                               __m128i* hi) {
  uint16_t padded[16] = {};
  std::memcpy(padded, static_cast<const uint16_t*>(row) + i, static_cast<size_t>(count) * 2);
  *lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(padded));
  *hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(padded + 8));
}

inline __m128i load_halves(const void* row, int64_t i) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(row) + i));
}

// Element formats, as in float_dot_avx512.cpp: a chunk of 16 elements as floats (f16 and
// bf16 widen exactly), and, for F32 and F16, ggml's way with leftovers.
struct F32Elements {
  static constexpr int kChunk = 16;
  static Lanes16 load(const void* row, int64_t i) {
    const float* p = static_cast<const float*>(row) + i;
    return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)};
  }
  static Lanes16 load_partial(const void* row, int64_t i, int64_t count) {
    const float* p = static_cast<const float*>(row) + i;
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i low = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), lanes);
    const __m256i high = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count) - 8), lanes);
    return {_mm256_maskload_ps(p, low), _mm256_maskload_ps(p + 8, high)};
  }
  // ggml_vec_dot_f32's leftovers: one fused multiply-add each into a float.
  static constexpr bool kGgmlTail = true;
  static float add_leftovers(float sum, const void* x, const void* y, int64_t i, int64_t n) {
    const auto* xf = static_cast<const float*>(x);
    const auto* yf = static_cast<const float*>(y);
    __m128 total = _mm_set_ss(sum);
    for (; i < n; ++i) total = _mm_fmadd_ss(_mm_set_ss(xf[i]), _mm_set_ss(yf[i]), total);
    return _mm_cvtss_f32(total);
  }
};

struct F16Elements {
  static constexpr int kChunk = 16;
  static Lanes16 load(const void* row, int64_t i) {
    return {_mm256_cvtph_ps(load_halves(row, i)), _mm256_cvtph_ps(load_halves(row, i + 8))};
  }
  static Lanes16 load_partial(const void* row, int64_t i, int64_t count) {
    __m128i lo;
    __m128i hi;
    load_padded_halves(row, i, count, &lo, &hi);
    return {_mm256_cvtph_ps(lo), _mm256_cvtph_ps(hi)};
  }
  // ggml_vec_dot_f16's leftovers: exact products added in double.
  static constexpr bool kGgmlTail = true;
  static float add_leftovers(float sum, const void* x, const void* y, int64_t i, int64_t n) {
    const auto* xh = static_cast<const uint16_t*>(x);
    const auto* yh = static_cast<const uint16_t*>(y);
    double total = sum;
    for (; i < n; ++i) total += static_cast<double>(fp16_to_float(xh[i]) * fp16_to_float(yh[i]));
    return static_cast<float>(total);
  }
};

struct BF16Elements {
  static constexpr int kChunk = 16;
  static __m256 widen(__m128i h) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static Lanes16 load(const void* row, int64_t i) {
    return {widen(load_halves(row, i)), widen(load_halves(row, i + 8))};
  }
  static Lanes16 load_partial(const void* row, int64_t i, int64_t count) {
    __m128i lo;
    __m128i hi;
    load_padded_halves(row, i, count, &lo, &hi);
    return {widen(lo), widen(hi)};
  }
  static constexpr bool kGgmlTail = false;  // a zero-padded last chunk instead
};

// ggml_vec_dot_f32 / _f16 on AVX-512: 4 accumulators over 64 elements, added pairwise and
// summed, then the leftovers one by one.
template <class E>
float ggml_dot(int64_t n, const void* x, const void* y) {
  constexpr int64_t kStep = 4 * E::kChunk;
  const int64_t whole = n - n % kStep;
  Lanes16 sum[4] = {zero16(), zero16(), zero16(), zero16()};
  for (int64_t i = 0; i < whole; i += kStep) {
    for (int j = 0; j < 4; ++j) {
      const int64_t at = i + j * E::kChunk;
      sum[j] = fmadd16(E::load(x, at), E::load(y, at), sum[j]);
    }
  }
  const Lanes16 total = add16(add16(sum[0], sum[2]), add16(sum[1], sum[3]));
  return E::add_leftovers(hsum16(total), x, y, whole, n);
}

template <class E>
float dot(int64_t n, const void* x, const void* y) {
  if constexpr (E::kGgmlTail) {
    if (n % E::kChunk != 0) return ggml_dot<E>(n, x, y);
  }
  Lanes16 acc = zero16();
  int64_t i = 0;
  for (; i + E::kChunk <= n; i += E::kChunk) acc = fmadd16(E::load(x, i), E::load(y, i), acc);
  if (i < n) acc = fmadd16(E::load_partial(x, i, n - i), E::load_partial(y, i, n - i), acc);
  return hsum16(acc);
}

// Register block of R weight rows x T tokens (two ymm per accumulator, 16 registers).
constexpr int kBlockRows = 2;
constexpr int kBlockTokens = 2;

// R rows x T tokens of element format E.
template <class E, int R, int T>
void gemm_block(const GemmOperands& p) {
  const int64_t n = p.n;
  const uint8_t* w = p.weights;
  const uint8_t* a = p.activations;
  const size_t w_row_bytes = p.weight_row_bytes;
  const size_t a_row_bytes = p.activation_row_bytes;
  Lanes16 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = zero16();
  }
  const auto step = [&](int64_t i, int64_t count) {
    Lanes16 wv[R];
    for (int r = 0; r < R; ++r) {
      wv[r] = count == E::kChunk ? E::load(w + r * w_row_bytes, i)
                                 : E::load_partial(w + r * w_row_bytes, i, count);
    }
    for (int t = 0; t < T; ++t) {
      const Lanes16 av = count == E::kChunk ? E::load(a + t * a_row_bytes, i)
                                            : E::load_partial(a + t * a_row_bytes, i, count);
      for (int r = 0; r < R; ++r) acc[r][t] = fmadd16(wv[r], av, acc[r][t]);
    }
  };
  int64_t i = 0;
  for (; i + E::kChunk <= n; i += E::kChunk) step(i, E::kChunk);
  if (i < n) step(i, n - i);
  for (int t = 0; t < T; ++t) {
    for (int r = 0; r < R; ++r) p.out[t * p.out_stride + r] = hsum16(acc[r][t]);
  }
}

template <class E>
struct Blocks {
  template <int R, int T>
  struct Block {
    static void run(const GemmOperands& part) { gemm_block<E, R, T>(part); }
  };
};

template <class E>
void gemm(int64_t n, const void* weights, size_t w_row_bytes, int64_t n_rows,
          const void* activations, size_t a_row_bytes, int64_t n_tokens, float* out,
          int64_t out_stride) {
  const auto* w = static_cast<const uint8_t*>(weights);
  const auto* a = static_cast<const uint8_t*>(activations);
  if constexpr (E::kGgmlTail) {
    // Lengths off the chunk (tiny models' FFNs) take ggml's order, pair by pair.
    if (n % E::kChunk != 0) {
      for (int64_t t = 0; t < n_tokens; ++t) {
        for (int64_t r = 0; r < n_rows; ++r) {
          out[t * out_stride + r] = ggml_dot<E>(n, w + r * w_row_bytes, a + t * a_row_bytes);
        }
      }
      return;
    }
  }
  tiling::gemm_in_blocks<Blocks<E>::template Block, kBlockRows, kBlockTokens>(
      n, weights, w_row_bytes, n_rows, activations, a_row_bytes, n_tokens, out, out_stride);
}

}  // namespace

float vec_dot_f32(int64_t n, const void* x, const void* y) {
  return dot<F32Elements>(n, x, y);
}
float vec_dot_f16(int64_t n, const void* x, const void* y) {
  return dot<F16Elements>(n, x, y);
}
float vec_dot_bf16(int64_t n, const void* x, const void* y) {
  return dot<BF16Elements>(n, x, y);
}

LOCARA_DEFINE_GEMM_TILE(gemm_tile_f32, gemm<F32Elements>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_f16, gemm<F16Elements>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_bf16, gemm<BF16Elements>)

}  // namespace locara::ops::avx2
