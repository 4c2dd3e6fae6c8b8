// Internal to ops/: the loops that drive gemm tiles (GemmTileFn, type_traits.h) on every
// instruction set: splitting a call into tiles, running register blocks of fixed shape
// on them (ragged edges included), and each thread's scratch for packed weights.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

// Every function here has internal linkage (static): this header is included by files built
// for different instruction sets, and one shared out-of-line copy could carry AVX-512 (or
// dotprod) code into a function that other CPUs run.
namespace locara::ops::tiling {

// The operands of one gemm_tile call, as GemmTileFn takes them: for r < n_rows and
// t < n_tokens, out[t * out_stride + r] = dot(weight row r, activation row t) over n
// elements.
struct GemmOperands {
  int64_t n;
  const uint8_t* weights;
  size_t weight_row_bytes;
  int64_t n_rows;
  const uint8_t* activations;
  size_t activation_row_bytes;
  int64_t n_tokens;
  float* out;
  int64_t out_stride;
};

// Calls tile(part) on the parts of at most Rows x Tokens that cover `all`: row parts
// outside, token parts inside, so that a part's weight rows stay in cache while every
// token reads them.
template <int64_t Rows, int64_t Tokens, class Tile>
static inline void for_each_tile(const GemmOperands& all, Tile&& tile) {
  GemmOperands part = all;
  for (int64_t r = 0; r < all.n_rows; r += Rows) {
    part.weights = all.weights + r * all.weight_row_bytes;
    part.n_rows = all.n_rows - r < Rows ? all.n_rows - r : Rows;
    for (int64_t t = 0; t < all.n_tokens; t += Tokens) {
      part.activations = all.activations + t * all.activation_row_bytes;
      part.n_tokens = all.n_tokens - t < Tokens ? all.n_tokens - t : Tokens;
      part.out = all.out + t * all.out_stride + r;
      tile(part);
    }
  }
}

// A GemmTileFn that runs Tile on parts of at most Rows x Tokens (Tile's own limits).
template <int64_t Rows, int64_t Tokens, void (*Tile)(const GemmOperands&)>
static void gemm_in_tiles(int64_t n, const void* weights, size_t weight_row_bytes, int64_t n_rows,
                          const void* activations, size_t activation_row_bytes, int64_t n_tokens,
                          float* out, int64_t out_stride) {
  const GemmOperands all{n,
                         static_cast<const uint8_t*>(weights),
                         weight_row_bytes,
                         n_rows,
                         static_cast<const uint8_t*>(activations),
                         activation_row_bytes,
                         n_tokens,
                         out,
                         out_stride};
  for_each_tile<Rows, Tokens>(all, Tile);
}

using PartFn = void (*)(const GemmOperands&);

template <template <int, int> class Block, int R, size_t... Ts>
static constexpr std::array<PartFn, sizeof...(Ts)> block_row(std::index_sequence<Ts...>) {
  return {&Block<R, static_cast<int>(Ts) + 1>::run...};
}

template <template <int, int> class Block, int T, size_t... Rs>
static constexpr auto block_table(std::index_sequence<Rs...>) {
  // The element type is spelled out: with one row, CTAD would copy the row instead.
  return std::array<std::array<PartFn, T>, sizeof...(Rs)>{
      block_row<Block, static_cast<int>(Rs) + 1>(std::make_index_sequence<T>())...};
}

// Runs Block<R, T>::run on a part of exactly R x T, and the smaller Block<r, t> on the
// ragged edges.
template <template <int, int> class Block, int R, int T>
static void run_block(const GemmOperands& part) {
  static constexpr auto kEdges =
      block_table<Block, T>(std::make_index_sequence<static_cast<size_t>(R)>());
  if (part.n_rows == R && part.n_tokens == T) {
    Block<R, T>::run(part);
  } else {
    kEdges[part.n_rows - 1][part.n_tokens - 1](part);
  }
}

// A GemmTileFn made of register blocks: Block<R, T>::run(part) computes a part of exactly
// R rows x T tokens, with R and T compile-time constants so that its loops unroll into
// registers. Parts of R x T blocks cover the call; the ragged edges run the smaller
// shapes Block<r, t> (r <= R, t <= T).
template <template <int, int> class Block, int R, int T>
static void gemm_in_blocks(int64_t n, const void* weights, size_t weight_row_bytes, int64_t n_rows,
                           const void* activations, size_t activation_row_bytes, int64_t n_tokens,
                           float* out, int64_t out_stride) {
  gemm_in_tiles<R, T, run_block<Block, R, T>>(n, weights, weight_row_bytes, n_rows, activations,
                                              activation_row_bytes, n_tokens, out, out_stride);
}

// Calls body(std::integral_constant<int, count>()) for 1 <= count <= Max: a register
// block's count (of tokens, say) becomes a compile-time constant.
template <int Max, class Body>
static inline void with_constant(int count, Body&& body) {
  [&]<size_t... Is>(std::index_sequence<Is...>) {
    (void)((count == static_cast<int>(Is) + 1
                ? (body(std::integral_constant<int, static_cast<int>(Is) + 1>()), true)
                : false) ||
           ...);
  }
  (std::make_index_sequence<static_cast<size_t>(Max)>());
}

// Writes sums[t][r] (a tile's per-token sums, r < part.n_rows) to part's output.
template <size_t Rows>
static inline void store_sums(const float (*sums)[Rows], const GemmOperands& part) {
  for (int64_t t = 0; t < part.n_tokens; ++t) {
    std::memcpy(part.out + t * part.out_stride, sums[t],
                sizeof(float) * static_cast<size_t>(part.n_rows));
  }
}

// The calling thread's scratch of type S, allocated on first use and freed when the
// thread exits: gemm tiles pack weights into it without locks. Plain new/delete rather
// than std:: templates, whose out-of-line instances could be shared across ISAs.
template <class S>
static S& thread_scratch() {
  struct Holder {
    S* scratch = nullptr;
    ~Holder() { delete scratch; }
  };
  thread_local Holder holder;
  if (holder.scratch == nullptr) holder.scratch = new S;
  return *holder.scratch;
}

}  // namespace locara::ops::tiling

// Defines `name`, a GemmTileFn declared in an instruction set's kernel header, as a call of
// __VA_ARGS__ (a function or template instance of GemmTileFn's signature), so that each
// format's exported tile is one line.
#define LOCARA_DEFINE_GEMM_TILE(name, ...)                                               \
  void name(int64_t n, const void* w, size_t w_row_bytes, int64_t n_rows, const void* a, \
            size_t a_row_bytes, int64_t n_tokens, float* out, int64_t out_stride) {      \
    __VA_ARGS__(n, w, w_row_bytes, n_rows, a, a_row_bytes, n_tokens, out, out_stride);   \
  }
