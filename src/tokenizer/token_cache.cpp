#include "tokenizer/token_cache.h"

namespace locara {

TokenCache::TokenCache(size_t capacity)
    : capacity_(capacity),
      young_capacity_(capacity == 0 ? 0 : (capacity + 2 * kShards - 1) / (2 * kShards)) {}

TokenCache::Shard& TokenCache::shard_for(std::string_view word) const {
  // The top bits: the maps inside the shard use the low ones.
  return shards_[(Hash{}(word) >> 56) % kShards];
}

size_t TokenCache::entry_bytes(std::string_view word, size_t n_ids) {
  // Node, bucket and the two heap blocks of a map entry, roughly, on a 64-bit libstdc++.
  constexpr size_t kEntryOverhead = 96;
  return kEntryOverhead + word.size() + n_ids * sizeof(int32_t);
}

bool TokenCache::lookup(std::string_view word, std::vector<int32_t>& out) const {
  if (capacity_ == 0) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  Shard& shard = shard_for(word);
  std::lock_guard lock(shard.mutex);
  if (auto it = shard.young.find(word); it != shard.young.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
    hits_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  auto it = shard.old.find(word);
  if (it == shard.old.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  out.insert(out.end(), it->second.begin(), it->second.end());
  hits_.fetch_add(1, std::memory_order_relaxed);
  // Still in use: promote it, so it outlives the old generation.
  auto node = shard.old.extract(it);
  if (shard.young.size() >= young_capacity_) rotate(shard);
  shard.young.insert(std::move(node));
  return true;
}

void TokenCache::rotate(Shard& shard) const {
  for (const auto& [key, ids] : shard.old) shard.bytes -= entry_bytes(key, ids.size());
  shard.old.clear();
  shard.old.swap(shard.young);
}

void TokenCache::insert(std::string_view word, std::span<const int32_t> ids) const {
  if (capacity_ == 0) return;
  Shard& shard = shard_for(word);
  std::lock_guard lock(shard.mutex);
  if (shard.young.find(word) != shard.young.end() || shard.old.find(word) != shard.old.end()) {
    return;  // another thread got there first
  }
  if (shard.young.size() >= young_capacity_) rotate(shard);
  shard.young.emplace(std::string(word), std::vector<int32_t>(ids.begin(), ids.end()));
  shard.bytes += entry_bytes(word, ids.size());
}

void TokenCache::clear() const {
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    shard.young.clear();
    shard.old.clear();
    shard.bytes = 0;
  }
}

size_t TokenCache::size() const {
  size_t total = 0;
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.young.size() + shard.old.size();
  }
  return total;
}

size_t TokenCache::memory_bytes() const {
  size_t total = 0;
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.bytes;
  }
  return total;
}

}  // namespace locara
