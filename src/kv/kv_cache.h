// The key/value cache of one sequence: per layer, the keys and values of every position,
// stored as f32, f16, q8_0 or q4_0. Owns its memory (anonymous: what generation costs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gguf/tensor_type.h"

namespace locara {

enum class KvType { kF32, kF16, kQ8_0, kQ4_0 };
std::string_view kv_type_name(KvType type);
Expected<KvType> kv_type_from_name(std::string_view name);
TensorType kv_tensor_type(KvType type);
// Bytes per cached value: 4, 2, 34/32, 18/32.
double kv_bytes_per_element(KvType type);

// Positions are allocated in multiples of this: attention runs over the cache padded to
// it (as llama.cpp's does), the padding holding zeros.
inline constexpr int64_t kKvPositionPadding = 32;

// Layout. Keys: per layer, one row of kv_dim values per position, in the cache's type.
// Values: f32/f16 are stored transposed, per layer one row of n_ctx_padded positions per
// value dimension, so that attention's weighted sum is a dot product per dimension (the
// math llama.cpp does without flash attention); q8_0/q4_0 values are stored like keys
// (blocks run along a head, which llama.cpp also requires for quantized values).
// Not thread-safe: one session writes it; readers run inside that session's forward pass.
class KvCache {
 public:
  // n_ctx positions for n_layer layers of n_head_kv heads of head_dim values. Quantized
  // types need head_dim to be a multiple of their block size (32).
  static Expected<KvCache> create(int64_t n_layer, int64_t n_ctx, int64_t n_head_kv,
                                  int64_t head_dim, KvType type);

  KvType type() const { return type_; }
  TensorType tensor_type() const { return kv_tensor_type(type_); }
  int64_t n_layer() const { return n_layer_; }
  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_ctx_padded() const { return n_ctx_padded_; }
  int64_t head_dim() const { return head_dim_; }
  int64_t kv_dim() const { return n_head_kv_ * head_dim_; }
  bool values_transposed() const { return type_ == KvType::kF32 || type_ == KvType::kF16; }
  size_t bytes() const { return keys_.size() + values_.size(); }

  // Stores one position's key and value rows (kv_dim floats each), converting to type().
  void store(int64_t layer, int64_t position, const float* key, const float* value);
  // Forgets positions >= n (their cells are zeroed, as padding must be).
  void truncate(int64_t n);

  // Keys of a layer: row p at key_rows(layer) + p * key_row_bytes().
  const uint8_t* key_rows(int64_t layer) const;
  size_t key_row_bytes() const { return key_row_bytes_; }
  // Bytes of one head's segment within a key (or row-major value) row.
  size_t head_bytes() const { return head_bytes_; }
  // Values of a layer. Transposed: row d (a value dimension) holds n_ctx_padded
  // positions, value_row_bytes() apart. Row-major: as keys.
  const uint8_t* value_rows(int64_t layer) const;
  size_t value_row_bytes() const { return value_row_bytes_; }

 private:
  KvCache() = default;

  KvType type_ = KvType::kF16;
  int64_t n_layer_ = 0;
  int64_t n_ctx_ = 0;
  int64_t n_ctx_padded_ = 0;
  int64_t n_head_kv_ = 0;
  int64_t head_dim_ = 0;
  size_t key_row_bytes_ = 0;
  size_t head_bytes_ = 0;
  size_t value_row_bytes_ = 0;
  size_t layer_bytes_ = 0;  // of keys, and of values
  std::vector<uint8_t> keys_;
  std::vector<uint8_t> values_;
};

}  // namespace locara
