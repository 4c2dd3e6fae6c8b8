// Attention over a hand-built KV layer: the streamed, block-merged result matches a
// double-precision softmax(q K^T) V (within the KV type's rounding), whether a row sees
// one key block or several, and does not depend on how query tokens are grouped.
#include "ops/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "ops/type_traits.h"

namespace locara::ops {
namespace {

constexpr int64_t kHeadDim = 64;
constexpr int64_t kKvHeads = 2;
constexpr int64_t kGroup = 2;  // query heads per KV head

// A layer of n_positions keys and values of the given type, in kv_cache.h's layout, plus
// the dequantized floats the reference computes with.
struct Layer {
  TensorType type;
  int64_t n_positions;
  int64_t padded;
  std::vector<uint8_t> keys, values;
  std::vector<float> key_floats, value_floats;  // [position][kv head * head_dim]
  KvLayerView view;

  Layer(TensorType t, int64_t n, uint32_t seed) : type(t), n_positions(n) {
    padded = attention_padded_keys(n);
    const TypeTraits& traits = *type_traits(type);
    const int64_t width = kKvHeads * kHeadDim;
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> k(static_cast<size_t>(n * width)), v(k.size());
    for (float& x : k) x = dist(rng);
    for (float& x : v) x = dist(rng);
    const size_t row_bytes = traits.row_bytes(width);
    keys.resize(row_bytes * static_cast<size_t>(n));
    key_floats.resize(k.size());
    value_floats.resize(v.size());
    for (int64_t p = 0; p < n; ++p) {
      traits.from_float(k.data() + p * width, keys.data() + p * row_bytes, width);
      traits.to_float(keys.data() + p * row_bytes, key_floats.data() + p * width, width);
    }
    const bool transposed = type == TensorType::kF32 || type == TensorType::kF16;
    if (transposed) {
      // Row d holds dimension d over the padded positions; the padding is zero.
      const size_t value_row_bytes = traits.row_bytes(padded);
      values.assign(value_row_bytes * static_cast<size_t>(width), 0);
      std::vector<float> row(static_cast<size_t>(padded), 0.0f);
      for (int64_t d = 0; d < width; ++d) {
        for (int64_t p = 0; p < n; ++p) row[p] = v[p * width + d];
        traits.from_float(row.data(), values.data() + d * value_row_bytes, padded);
        std::vector<float> back(static_cast<size_t>(padded));
        traits.to_float(values.data() + d * value_row_bytes, back.data(), padded);
        for (int64_t p = 0; p < n; ++p) value_floats[p * width + d] = back[p];
      }
      view = {type,          keys.data(),     row_bytes, traits.row_bytes(kHeadDim),
              values.data(), value_row_bytes, true,      padded};
    } else {
      values.resize(row_bytes * static_cast<size_t>(n));
      for (int64_t p = 0; p < n; ++p) {
        traits.from_float(v.data() + p * width, values.data() + p * row_bytes, width);
        traits.to_float(values.data() + p * row_bytes, value_floats.data() + p * width, width);
      }
      view = {type,          keys.data(), row_bytes, traits.row_bytes(kHeadDim),
              values.data(), row_bytes,   false,     padded};
    }
  }

  // softmax(scale q . K[0..n_keys)) . V in double, for KV head h.
  std::vector<double> reference(const float* q, int64_t h, int64_t n_keys, float scale) const {
    const int64_t width = kKvHeads * kHeadDim;
    std::vector<double> s(static_cast<size_t>(n_keys));
    for (int64_t j = 0; j < n_keys; ++j) {
      double dot = 0.0;
      for (int64_t d = 0; d < kHeadDim; ++d) dot += q[d] * key_floats[j * width + h * kHeadDim + d];
      s[j] = dot * scale;
    }
    const double max = *std::max_element(s.begin(), s.end());
    double sum = 0.0;
    for (double& x : s) sum += (x = std::exp(x - max));
    std::vector<double> out(kHeadDim, 0.0);
    for (int64_t j = 0; j < n_keys; ++j) {
      for (int64_t d = 0; d < kHeadDim; ++d) {
        out[d] += s[j] / sum * value_floats[j * width + h * kHeadDim + d];
      }
    }
    return out;
  }
};

struct Queries {
  int64_t n_tokens;
  int64_t stride = kKvHeads * kGroup * kHeadDim;
  std::vector<float> q;
  explicit Queries(int64_t n, uint32_t seed) : n_tokens(n), q(static_cast<size_t>(n * stride)) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 0.5f);
    for (float& x : q) x = dist(rng);
  }
};

// Attention for tokens [0, n_tokens) that see first_n_keys + i keys, in blocks of
// `block` tokens per call.
std::vector<float> attend(const Layer& layer, const Queries& queries, int64_t first_n_keys,
                          int64_t block, float scale) {
  std::vector<float> out(queries.q.size(), NAN);
  AttentionScratch scratch;
  for (int64_t first = 0; first < queries.n_tokens; first += block) {
    for (int64_t h = 0; h < kKvHeads; ++h) {
      const int64_t offset = first * queries.stride + h * kGroup * kHeadDim;
      attend_query_block(queries.q.data() + offset, queries.stride, kGroup, kHeadDim, layer.view, h,
                         std::min(block, queries.n_tokens - first), first_n_keys + first, scale,
                         scratch, out.data() + offset);
    }
  }
  return out;
}

class AttentionTest : public ::testing::TestWithParam<TensorType> {};

TEST_P(AttentionTest, MatchesDoublePrecisionAcrossKeyBlocks) {
  const TensorType type = GetParam();
  // The last tokens see 1300 keys: two whole key blocks and part of a third.
  const int64_t n_tokens = 20;
  const int64_t first_n_keys = 1281;
  const Layer layer(type, first_n_keys + n_tokens - 1, 3);
  const Queries queries(n_tokens, 5);
  const float scale = 1.0f / std::sqrt(static_cast<float>(kHeadDim));
  const std::vector<float> out = attend(layer, queries, first_n_keys, 16, scale);
  // Short rows too: the first tokens of a fresh prompt see a handful of keys.
  const std::vector<float> short_out = attend(layer, queries, 1, 16, scale);
  // f16 probabilities and 8-bit queries round; the merge itself adds float rounding only.
  const double tolerance = type == TensorType::kF32 ? 1e-5 : 2e-2;
  double worst = 0.0;
  for (int64_t i = 0; i < n_tokens; ++i) {
    for (int64_t head = 0; head < kKvHeads * kGroup; ++head) {
      const float* q = queries.q.data() + i * queries.stride + head * kHeadDim;
      for (const auto& [keys, got] :
           {std::pair{first_n_keys + i, &out}, std::pair{1 + i, &short_out}}) {
        const std::vector<double> want = layer.reference(q, head / kGroup, keys, scale);
        for (int64_t d = 0; d < kHeadDim; ++d) {
          const double diff = std::abs((*got)[i * queries.stride + head * kHeadDim + d] - want[d]);
          worst = std::max(worst, diff);
          ASSERT_LE(diff, tolerance) << "token " << i << " head " << head << " keys " << keys;
        }
      }
    }
  }
  RecordProperty("worst", std::to_string(worst));
}

TEST_P(AttentionTest, ResultsDoNotDependOnQueryBlocking) {
  const int64_t n_tokens = 37;
  const int64_t first_n_keys = 500;  // rows on both sides of the first key block's end
  const Layer layer(GetParam(), first_n_keys + n_tokens - 1, 7);
  const Queries queries(n_tokens, 9);
  const std::vector<float> one_by_one = attend(layer, queries, first_n_keys, 1, 0.125f);
  const std::vector<float> blocked = attend(layer, queries, first_n_keys, 16, 0.125f);
  for (size_t i = 0; i < blocked.size(); ++i) ASSERT_EQ(one_by_one[i], blocked[i]) << i;
}

INSTANTIATE_TEST_SUITE_P(KvTypes, AttentionTest,
                         ::testing::Values(TensorType::kF32, TensorType::kF16, TensorType::kQ8_0,
                                           TensorType::kQ4_0),
                         [](const auto& info) {
                           return std::string(tensor_type_name(info.param));
                         });

}  // namespace
}  // namespace locara::ops
