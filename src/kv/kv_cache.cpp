#include "kv/kv_cache.h"

#include <cassert>
#include <cstring>

#include "ops/half.h"

namespace locara {

std::string_view kv_type_name(KvType type) {
  return type == KvType::kF16 ? "f16" : "f32";
}

Expected<KvType> kv_type_from_name(std::string_view name) {
  if (name == "f16") return KvType::kF16;
  if (name == "f32") return KvType::kF32;
  return make_error(ErrorCode::kInvalidArgument, "unknown KV cache type '{}' (expected f16 or f32)",
                    name);
}

size_t kv_bytes_per_element(KvType type) {
  return type == KvType::kF16 ? 2 : 4;
}

KvCache::KvCache(int64_t n_layer, int64_t n_ctx, int64_t kv_dim, KvType type)
    : type_(type),
      n_layer_(n_layer),
      n_ctx_(n_ctx),
      kv_dim_(kv_dim),
      row_bytes_(static_cast<size_t>(kv_dim) * kv_bytes_per_element(type)),
      keys_(static_cast<size_t>(n_layer * n_ctx) * row_bytes_),
      values_(keys_.size()) {}

size_t KvCache::offset(int64_t layer, int64_t position) const {
  assert(layer >= 0 && layer < n_layer_ && position >= 0 && position < n_ctx_);
  return static_cast<size_t>(layer * n_ctx_ + position) * row_bytes_;
}

static void store_row(KvType type, const float* src, uint8_t* dst, int64_t n) {
  if (type == KvType::kF32) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  auto* half = reinterpret_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) half[i] = ops::fp32_to_fp16(src[i]);
}

void KvCache::store(int64_t layer, int64_t position, const float* key, const float* value) {
  const size_t at = offset(layer, position);
  store_row(type_, key, keys_.data() + at, kv_dim_);
  store_row(type_, value, values_.data() + at, kv_dim_);
}

const void* KvCache::key_row(int64_t layer, int64_t position) const {
  return keys_.data() + offset(layer, position);
}

const void* KvCache::value_row(int64_t layer, int64_t position) const {
  return values_.data() + offset(layer, position);
}

}  // namespace locara
