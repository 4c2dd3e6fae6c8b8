// A bounded cache of word -> token ids for the tokenizers that split text into words first
// (BPE), so that repeated words and repeated prompts skip the merge loop.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace locara {

// Thread-safe: lookups and inserts from many threads at once (sharded locks).
// Eviction is generational: each shard keeps a young and an old map; a hit in the old map
// moves the entry to the young one, and when the young map is full the old one is dropped
// and the young one becomes old. Words in use survive; the total stays within capacity.
class TokenCache {
 public:
  // At most `capacity` words, rounded up to a multiple of 32 (0 disables the cache: every
  // lookup misses).
  explicit TokenCache(size_t capacity);

  // Appends the ids cached for `word` to `out`; false (and `out` unchanged) on a miss.
  bool lookup(std::string_view word, std::vector<int32_t>& out) const;
  void insert(std::string_view word, std::span<const int32_t> ids) const;
  void clear() const;

  size_t capacity() const { return capacity_; }
  size_t size() const;
  // Bytes held by the cached words and ids, with the maps' per-entry overhead estimated:
  // what the runtime charges to the model for this cache.
  size_t memory_bytes() const;
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  using Map = std::unordered_map<std::string, std::vector<int32_t>, Hash, std::equal_to<>>;
  struct Shard {
    std::mutex mutex;
    Map young;
    Map old;
    size_t bytes = 0;  // of both maps
  };
  static constexpr size_t kShards = 16;

  Shard& shard_for(std::string_view word) const;
  // Drops the old generation; the young one becomes old. Caller holds the shard's lock.
  void rotate(Shard& shard) const;
  static size_t entry_bytes(std::string_view word, size_t n_ids);

  size_t capacity_;
  size_t young_capacity_;  // per shard
  mutable std::array<Shard, kShards> shards_;
  mutable std::atomic<uint64_t> hits_{0};
  mutable std::atomic<uint64_t> misses_{0};
};

}  // namespace locara
