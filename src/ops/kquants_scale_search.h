// Internal to ops/: ggml's scale searches for the K-quant and IQ4 quantizers. Each picks
// a scale (and minimum) for a small group of values and the integer levels under it,
// following ggml's float operations in order, so that our files match llama-quantize's.
#pragma once

#include <cstdint>

// All functions are pure (thread-safe).
namespace locara::ops::ref::kquants {

// Rounds to the nearest integer, ties to even, as ggml's nearest_int (which adds 1.5 * 2^23
// and reads the mantissa). Exact for |value| < 2^22; larger values give a meaningless
// but defined result, which callers clamp, as ggml's release builds do.
int nearest_int(float value);

// Symmetric levels: L[i] in [0, 2 * nmax) stands for L[i] - nmax; returns the scale d
// with x ~ d * (L - nmax). rmse_type 1 weighs the least-squares fit by x^2 and tries
// 18 scales around nmax / max|x| (ggml's make_qx_quants without importance weights).
float make_qx_quants(int n, int nmax, const float* x, int8_t* L, int rmse_type);

// Symmetric levels for Q3_K (ggml's make_q3_quants): starts from nmax / max|x|, then with
// do_rmse moves single levels while that improves the x^2-weighted fit.
float make_q3_quants(int n, int nmax, const float* x, int8_t* L, bool do_rmse);

// Levels with a minimum: x ~ scale * L - *the_min, L in [0, nmax] (ggml's
// make_qkx2_quants): tries nstep + 1 scales (nmax + rmin + rdelta * is) / range, each
// with its weighted least-squares scale and minimum, keeping the lowest weighted error
// (absolute with use_mad, squared otherwise). Laux is scratch of n bytes.
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                       float* the_min, uint8_t* Laux, float rmin, float rdelta, int nstep,
                       bool use_mad);

// The index of the level of the 16 sorted IQ4 levels nearest to x (ties go up), as
// ggml's best_index_int8.
int best_iq4_index(float x);

}  // namespace locara::ops::ref::kquants
