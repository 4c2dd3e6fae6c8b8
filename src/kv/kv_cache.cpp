#include "kv/kv_cache.h"

#include <cassert>
#include <cstring>

#include "ops/half.h"
#include "ops/type_traits.h"

namespace locara {

std::string_view kv_type_name(KvType type) {
  switch (type) {
    case KvType::kF32:
      return "f32";
    case KvType::kF16:
      return "f16";
    case KvType::kQ8_0:
      return "q8_0";
    case KvType::kQ4_0:
      return "q4_0";
  }
  return "unknown";
}

Expected<KvType> kv_type_from_name(std::string_view name) {
  for (KvType type : {KvType::kF32, KvType::kF16, KvType::kQ8_0, KvType::kQ4_0}) {
    if (name == kv_type_name(type)) return type;
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown KV cache type '{}' (expected f32, f16, q8_0 or q4_0)", name);
}

TensorType kv_tensor_type(KvType type) {
  switch (type) {
    case KvType::kF32:
      return TensorType::kF32;
    case KvType::kF16:
      return TensorType::kF16;
    case KvType::kQ8_0:
      return TensorType::kQ8_0;
    case KvType::kQ4_0:
      return TensorType::kQ4_0;
  }
  return TensorType::kF32;
}

double kv_bytes_per_element(KvType type) {
  const TensorTypeInfo& info = tensor_type_info(kv_tensor_type(type));
  return static_cast<double>(info.type_size) / static_cast<double>(info.block_size);
}

Expected<KvCache> KvCache::create(int64_t n_layer, int64_t n_ctx, int64_t n_head_kv,
                                  int64_t head_dim, KvType type) {
  if (n_layer <= 0 || n_ctx <= 0 || n_head_kv <= 0 || head_dim <= 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "KV cache shape must be positive (layers {}, context {}, heads {}, dim {})",
                      n_layer, n_ctx, n_head_kv, head_dim);
  }
  const TensorTypeInfo& info = tensor_type_info(kv_tensor_type(type));
  if (head_dim % info.block_size != 0) {
    return make_error(ErrorCode::kUnsupported,
                      "KV cache type {} stores heads in blocks of {} values, but this model's "
                      "heads have {}; use f16",
                      kv_type_name(type), info.block_size, head_dim);
  }
  KvCache cache;
  cache.type_ = type;
  cache.n_layer_ = n_layer;
  cache.n_ctx_ = n_ctx;
  cache.n_ctx_padded_ = (n_ctx + kKvPositionPadding - 1) / kKvPositionPadding * kKvPositionPadding;
  cache.n_head_kv_ = n_head_kv;
  cache.head_dim_ = head_dim;
  cache.head_bytes_ = static_cast<size_t>(head_dim / info.block_size) * info.type_size;
  cache.key_row_bytes_ = cache.head_bytes_ * static_cast<size_t>(n_head_kv);
  cache.layer_bytes_ = cache.key_row_bytes_ * static_cast<size_t>(cache.n_ctx_padded_);
  cache.value_row_bytes_ = cache.values_transposed()
                               ? static_cast<size_t>(cache.n_ctx_padded_) * info.type_size
                               : cache.key_row_bytes_;
  // Zero-filled: padding cells must read as zeros (never NaN) in attention's dots.
  cache.keys_.assign(cache.layer_bytes_ * static_cast<size_t>(n_layer), 0);
  cache.values_.assign(cache.keys_.size(), 0);
  return cache;
}

const uint8_t* KvCache::key_rows(int64_t layer) const {
  assert(layer >= 0 && layer < n_layer_);
  return keys_.data() + static_cast<size_t>(layer) * layer_bytes_;
}

const uint8_t* KvCache::value_rows(int64_t layer) const {
  assert(layer >= 0 && layer < n_layer_);
  return values_.data() + static_cast<size_t>(layer) * layer_bytes_;
}

void KvCache::store(int64_t layer, int64_t position, const float* key, const float* value) {
  assert(position >= 0 && position < n_ctx_);
  const ops::TypeTraits* traits = ops::type_traits(tensor_type());
  uint8_t* key_row = keys_.data() + static_cast<size_t>(layer) * layer_bytes_ +
                     static_cast<size_t>(position) * key_row_bytes_;
  traits->from_float(key, key_row, kv_dim());

  uint8_t* values = values_.data() + static_cast<size_t>(layer) * layer_bytes_;
  if (!values_transposed()) {
    traits->from_float(value, values + static_cast<size_t>(position) * key_row_bytes_, kv_dim());
    return;
  }
  if (type_ == KvType::kF32) {
    for (int64_t d = 0; d < kv_dim(); ++d) {
      std::memcpy(values + d * value_row_bytes_ + position * sizeof(float), &value[d],
                  sizeof(float));
    }
    return;
  }
  for (int64_t d = 0; d < kv_dim(); ++d) {
    const uint16_t half = ops::fp32_to_fp16(value[d]);
    std::memcpy(values + d * value_row_bytes_ + position * sizeof(uint16_t), &half,
                sizeof(uint16_t));
  }
}

void KvCache::truncate(int64_t n) {
  if (n >= n_ctx_) return;
  for (int64_t layer = 0; layer < n_layer_; ++layer) {
    uint8_t* keys = keys_.data() + static_cast<size_t>(layer) * layer_bytes_;
    std::memset(keys + static_cast<size_t>(n) * key_row_bytes_, 0,
                static_cast<size_t>(n_ctx_padded_ - n) * key_row_bytes_);
    uint8_t* values = values_.data() + static_cast<size_t>(layer) * layer_bytes_;
    if (!values_transposed()) {
      std::memset(values + static_cast<size_t>(n) * key_row_bytes_, 0,
                  static_cast<size_t>(n_ctx_padded_ - n) * key_row_bytes_);
      continue;
    }
    const size_t element = type_ == KvType::kF32 ? 4 : 2;
    for (int64_t d = 0; d < kv_dim(); ++d) {
      std::memset(values + d * value_row_bytes_ + static_cast<size_t>(n) * element, 0,
                  static_cast<size_t>(n_ctx_padded_ - n) * element);
    }
  }
}

}  // namespace locara
