#include "ops/matmul.h"

#include <algorithm>
#include <cassert>

#include "ops/type_traits.h"

namespace locara::ops {
namespace {

// Below this many tokens (generation) the plain per-row dots read each weight once anyway.
constexpr int64_t kMinTokensForTiles = 2;
// A work item is 64 weight rows by up to 512 tokens: a tile kernel unpacks each weight
// block once per call, so the more tokens a call covers the less that costs.
constexpr int64_t kTileRows = 64;
constexpr int64_t kTileTokens = 512;

}  // namespace

void matmul(const WeightMatrix& weights, const float* x, int64_t n_tokens, float* out,
            MatmulScratch& scratch, ThreadPool& pool) {
  const TypeTraits* traits = type_traits(weights.type);
  assert(traits != nullptr && traits->vec_dot != nullptr);
  assert(weights.row_length % traits->block_size == 0);
  const TypeTraits* activation_traits = type_traits(traits->vec_dot_type);
  assert(activation_traits != nullptr && activation_traits->from_float != nullptr);

  const int64_t n = weights.row_length;
  if (n_tokens <= 0 || weights.n_rows <= 0) return;

  // Convert each activation row once into the type the weights' dot reads, so the
  // n_rows dots per token share that cost. F32 weights read the floats as they are.
  const void* activations = x;
  size_t activation_row_bytes = static_cast<size_t>(n) * sizeof(float);
  if (traits->vec_dot_type != TensorType::kF32) {
    assert(n % activation_traits->block_size == 0);
    activation_row_bytes = activation_traits->row_bytes(n);
    scratch.converted.resize(activation_row_bytes * static_cast<size_t>(n_tokens));
    uint8_t* converted = scratch.converted.data();
    const auto convert = [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        activation_traits->from_float(x + t * n, converted + t * activation_row_bytes, n);
      }
    };
    pool.parallel_for(n_tokens, convert);
    activations = converted;
  }

  const auto* weight_bytes = static_cast<const uint8_t*>(weights.data);
  const auto* activation_bytes = static_cast<const uint8_t*>(activations);
  const int64_t n_rows = weights.n_rows;

  if (n_tokens >= kMinTokensForTiles && traits->gemm_tile != nullptr) {
    // Tiles of kTileRows weight rows x kTileTokens tokens: a tile's weights stay in L1/L2
    // while every token of the tile reads them, and each weight byte comes from memory
    // once per kTileTokens tokens. Threads take whole tiles, contiguous row ranges.
    const int64_t row_tiles = (n_rows + kTileRows - 1) / kTileRows;
    const int64_t token_tiles = (n_tokens + kTileTokens - 1) / kTileTokens;
    const GemmTileFn gemm_tile = traits->gemm_tile;
    pool.parallel_for(row_tiles * token_tiles, [&](int64_t begin, int64_t end) {
      for (int64_t tile = begin; tile < end; ++tile) {
        // Row tiles vary fastest, so a thread's consecutive tiles share activations.
        const int64_t r0 = (tile % row_tiles) * kTileRows;
        const int64_t t0 = (tile / row_tiles) * kTileTokens;
        gemm_tile(n, weight_bytes + static_cast<size_t>(r0) * weights.row_bytes,
                  weights.row_bytes, std::min(kTileRows, n_rows - r0),
                  activation_bytes + static_cast<size_t>(t0) * activation_row_bytes,
                  activation_row_bytes, std::min(kTileTokens, n_tokens - t0),
                  out + t0 * n_rows + r0, n_rows);
      }
    });
    return;
  }

  const VecDotFn vec_dot = traits->vec_dot;
  // Rows split across threads; tokens inside, so each weight row is read from memory
  // once per call and reused from cache for every token.
  pool.parallel_for(n_rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const void* row = weight_bytes + static_cast<size_t>(r) * weights.row_bytes;
      for (int64_t t = 0; t < n_tokens; ++t) {
        out[t * n_rows + r] = vec_dot(n, row, activation_bytes + t * activation_row_bytes);
      }
    }
  });
}

void dequantize_row(const WeightMatrix& weights, int64_t row, float* dst) {
  const TypeTraits* traits = type_traits(weights.type);
  assert(traits != nullptr && traits->to_float != nullptr);
  assert(weights.row_length % traits->block_size == 0);
  assert(row >= 0 && row < weights.n_rows);
  const auto* bytes = static_cast<const uint8_t*>(weights.data);
  traits->to_float(bytes + static_cast<size_t>(row) * weights.row_bytes, dst, weights.row_length);
}

}  // namespace locara::ops
