// AVX-512 dot products and gemm tiles of the plain float types (F32, F16, BF16). Every
// (row, token) pair accumulates in one 16-lane vector, chunk after chunk, and is summed
// by hsum(): vec_dot and gemm_tile share that order and so return the same bits. It is
// also llama.cpp's order on AVX-512 (its tinyBLAS), and where tinyBLAS does not apply
// (F32 and F16 rows of a length that is not a multiple of 16) both follow ggml's
// ggml_vec_dot_*: on the same ISA our results are llama.cpp's bits, which keeps the
// f16 roundings of the KV cache, and so the goldens, where llama.cpp has them.
// clang-format off
#include "ops/x86/simd_avx512.h"  // first: it includes <immintrin.h>, see there
// clang-format on

#include <cstddef>
#include <cstdint>

#include "ops/tile_loop.h"
#include "ops/x86/x86_kernels.h"

namespace locara::ops::avx512 {
namespace {

using tiling::GemmOperands;

// Element formats: how many elements one multiply-add step consumes, how to load a
// full or partial chunk of them, and the step itself.
struct F32Elements {
  using Reg = __m512;
  static constexpr int kChunk = 16;
  static Reg load(const void* row, int64_t i) {
    return _mm512_loadu_ps(static_cast<const float*>(row) + i);
  }
  static Reg load_partial(const void* row, int64_t i, int64_t count) {
    return _mm512_maskz_loadu_ps(__mmask16((1u << count) - 1), static_cast<const float*>(row) + i);
  }
  static __m512 madd(__m512 acc, Reg w, Reg a) { return _mm512_fmadd_ps(w, a, acc); }
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
  using Reg = __m512;
  static constexpr int kChunk = 16;
  static Reg load(const void* row, int64_t i) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(
        reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(row) + i)));
  }
  static Reg load_partial(const void* row, int64_t i, int64_t count) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(__mmask16((1u << count) - 1),
                                                    static_cast<const uint16_t*>(row) + i));
  }
  static __m512 madd(__m512 acc, Reg w, Reg a) { return _mm512_fmadd_ps(w, a, acc); }
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

// bf16 widened to f32 exactly (a shift), then the same FMA as F32.
struct BF16Elements {
  using Reg = __m512;
  static constexpr int kChunk = 16;
  static Reg widen(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static Reg load(const void* row, int64_t i) {
    return widen(_mm256_loadu_si256(
        reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(row) + i)));
  }
  static Reg load_partial(const void* row, int64_t i, int64_t count) {
    return widen(_mm256_maskz_loadu_epi16(__mmask16((1u << count) - 1),
                                          static_cast<const uint16_t*>(row) + i));
  }
  static __m512 madd(__m512 acc, Reg w, Reg a) { return _mm512_fmadd_ps(w, a, acc); }
  static constexpr bool kGgmlTail = false;  // a masked last chunk instead
};

// AVX512_BF16: vdpbf16ps adds the products of 32 bf16 pairs into 16 float lanes.
struct BF16DotElements {
  using Reg = __m512bh;
  static constexpr int kChunk = 32;
  static Reg load(const void* row, int64_t i) {
    return (__m512bh)_mm512_loadu_si512(static_cast<const uint16_t*>(row) + i);
  }
  static Reg load_partial(const void* row, int64_t i, int64_t count) {
    const __mmask32 mask = count >= 32 ? __mmask32(~0u) : __mmask32((1u << count) - 1);
    return (__m512bh)_mm512_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(row) + i);
  }
  static __m512 madd(__m512 acc, Reg w, Reg a) { return _mm512_dpbf16_ps(acc, w, a); }
  static constexpr bool kGgmlTail = false;  // a masked last chunk instead
};

// ggml_vec_dot_f32 / _f16 on AVX-512: 4 accumulators over 64 elements, added pairwise and
// summed, then the leftovers one by one.
template <class E>
float ggml_dot(int64_t n, const void* x, const void* y) {
  constexpr int64_t kStep = 4 * E::kChunk;
  const int64_t whole = n - n % kStep;
  __m512 sum[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                   _mm512_setzero_ps()};
  for (int64_t i = 0; i < whole; i += kStep) {
    for (int j = 0; j < 4; ++j) {
      const int64_t at = i + j * E::kChunk;
      sum[j] = E::madd(sum[j], E::load(x, at), E::load(y, at));
    }
  }
  sum[0] = _mm512_add_ps(sum[0], sum[2]);
  sum[1] = _mm512_add_ps(sum[1], sum[3]);
  return E::add_leftovers(hsum(_mm512_add_ps(sum[0], sum[1])), x, y, whole, n);
}

template <class E>
float dot(int64_t n, const void* x, const void* y) {
  if constexpr (E::kGgmlTail) {
    if (n % E::kChunk != 0) return ggml_dot<E>(n, x, y);
  }
  __m512 acc = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + E::kChunk <= n; i += E::kChunk) acc = E::madd(acc, E::load(x, i), E::load(y, i));
  if (i < n) acc = E::madd(acc, E::load_partial(x, i, n - i), E::load_partial(y, i, n - i));
  return hsum(acc);
}

// Register block of R weight rows x T tokens: R + T loads feed R * T multiply-adds.
constexpr int kBlockRows = 4;
constexpr int kBlockTokens = 6;

// R rows x T tokens of element format E.
template <class E, int R, int T>
void gemm_block(const GemmOperands& p) {
  const int64_t n = p.n;
  const uint8_t* w = p.weights;
  const uint8_t* a = p.activations;
  const size_t w_row_bytes = p.weight_row_bytes;
  const size_t a_row_bytes = p.activation_row_bytes;
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  }
  const auto step = [&](int64_t i, int64_t count) {
    typename E::Reg wv[R];
    for (int r = 0; r < R; ++r) {
      wv[r] = count == E::kChunk ? E::load(w + r * w_row_bytes, i)
                                 : E::load_partial(w + r * w_row_bytes, i, count);
    }
    for (int t = 0; t < T; ++t) {
      const typename E::Reg av = count == E::kChunk
                                     ? E::load(a + t * a_row_bytes, i)
                                     : E::load_partial(a + t * a_row_bytes, i, count);
      for (int r = 0; r < R; ++r) acc[r][t] = E::madd(acc[r][t], wv[r], av);
    }
  };
  int64_t i = 0;
  for (; i + E::kChunk <= n; i += E::kChunk) step(i, E::kChunk);
  if (i < n) step(i, n - i);
  for (int t = 0; t < T; ++t) {
    for (int r = 0; r < R; ++r) p.out[t * p.out_stride + r] = hsum(acc[r][t]);
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
float vec_dot_bf16_dpbf16(int64_t n, const void* x, const void* y) {
  return dot<BF16DotElements>(n, x, y);
}

LOCARA_DEFINE_GEMM_TILE(gemm_tile_f32, gemm<F32Elements>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_f16, gemm<F16Elements>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_bf16, gemm<BF16Elements>)
LOCARA_DEFINE_GEMM_TILE(gemm_tile_bf16_dpbf16, gemm<BF16DotElements>)

}  // namespace locara::ops::avx512
