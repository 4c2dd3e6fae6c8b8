// The key/value cache of one sequence: per layer, one K row and one V row per position,
// stored as f32 or f16. Owns its memory (anonymous: it is what generation costs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace locara {

enum class KvType { kF32, kF16 };
std::string_view kv_type_name(KvType type);
Expected<KvType> kv_type_from_name(std::string_view name);
size_t kv_bytes_per_element(KvType type);

// Not thread-safe: one session writes it; readers run inside that session's forward pass.
class KvCache {
 public:
  // n_ctx positions of kv_dim (= n_head_kv * head_dim) values for each of n_layer layers.
  KvCache(int64_t n_layer, int64_t n_ctx, int64_t kv_dim, KvType type);

  KvType type() const { return type_; }
  int64_t n_layer() const { return n_layer_; }
  int64_t n_ctx() const { return n_ctx_; }
  int64_t kv_dim() const { return kv_dim_; }
  size_t bytes() const { return keys_.size() + values_.size(); }
  size_t row_bytes() const { return row_bytes_; }

  // Stores one position's key and value rows (kv_dim floats each), converting to type().
  void store(int64_t layer, int64_t position, const float* key, const float* value);

  // Rows as stored; position < n_ctx.
  const void* key_row(int64_t layer, int64_t position) const;
  const void* value_row(int64_t layer, int64_t position) const;

 private:
  size_t offset(int64_t layer, int64_t position) const;

  KvType type_;
  int64_t n_layer_;
  int64_t n_ctx_;
  int64_t kv_dim_;
  size_t row_bytes_;
  std::vector<uint8_t> keys_;
  std::vector<uint8_t> values_;
};

}  // namespace locara
