#include "ops/batch_ops.h"

#include <algorithm>

#include "ops/vector_math.h"

namespace locara::ops {
namespace {

// Elements per piece of work: large enough that a piece outweighs the pool's hand-off,
// a multiple of 16 so that pieces of a row keep the row's groups of 16.
constexpr int64_t kPiece = 4096;

}  // namespace

void rms_norm_rows(ThreadPool& pool, const float* x, const float* weight, float* out,
                   int64_t n_rows, int64_t n, float eps) {
  pool.parallel_for(n_rows, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) rms_norm(x + t * n, weight, out + t * n, n, eps);
  });
}

void swiglu_rows(ThreadPool& pool, const float* gate, const float* up, float* out, int64_t n_rows,
                 int64_t n) {
  const int64_t pieces_per_row = (n + kPiece - 1) / kPiece;
  pool.parallel_for(n_rows * pieces_per_row, [&](int64_t begin, int64_t end) {
    for (int64_t piece = begin; piece < end; ++piece) {
      const int64_t row = piece / pieces_per_row;
      const int64_t first = (piece % pieces_per_row) * kPiece;
      const int64_t offset = row * n + first;
      swiglu(gate + offset, up + offset, out + offset, std::min(kPiece, n - first));
    }
  });
}

void add_parallel(ThreadPool& pool, const float* a, const float* b, float* out, int64_t n) {
  pool.parallel_for((n + kPiece - 1) / kPiece, [&](int64_t begin, int64_t end) {
    const int64_t first = begin * kPiece;
    add(a + first, b + first, out + first, std::min(end * kPiece, n) - first);
  });
}

}  // namespace locara::ops
