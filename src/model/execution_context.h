// Execution resources of a forward pass: the thread pool and reusable scratch buffers.
// Separate from weights (immutable) and from session state (KV cache, sampler).
#pragma once

#include <cstddef>
#include <vector>

#include "ops/attention.h"
#include "ops/matmul.h"
#include "ops/thread_pool.h"

namespace locara {

// Not thread-safe: one forward pass at a time uses a context.
class ExecutionContext {
 public:
  explicit ExecutionContext(int n_threads)
      : pool_(n_threads), attention_scratch_(static_cast<size_t>(n_threads)) {}

  ops::ThreadPool& pool() { return pool_; }
  int n_threads() const { return pool_.size(); }
  ops::MatmulScratch& matmul_scratch() { return matmul_scratch_; }
  // Each pool thread's attention buffers.
  ops::AttentionScratch& attention_scratch(int thread) { return attention_scratch_[thread]; }

  // A float buffer for one named use (slot), grown to at least n floats and reused
  // across passes, so steady-state generation allocates nothing.
  float* buffer(size_t slot, size_t n) {
    if (slot >= buffers_.size()) buffers_.resize(slot + 1);
    if (buffers_[slot].size() < n) buffers_[slot].resize(n);
    return buffers_[slot].data();
  }

  // Bytes held by scratch buffers (anonymous memory the planner accounts).
  size_t scratch_bytes() const {
    size_t total = matmul_scratch_.converted.capacity();
    for (const auto& b : buffers_) total += b.capacity() * sizeof(float);
    for (const auto& a : attention_scratch_) {
      total += a.scores.capacity() * sizeof(float) + a.query.capacity() + a.weights.capacity() +
               a.value.capacity() * sizeof(float);
    }
    return total;
  }

 private:
  ops::ThreadPool pool_;
  ops::MatmulScratch matmul_scratch_;
  std::vector<ops::AttentionScratch> attention_scratch_;
  std::vector<std::vector<float>> buffers_;
};

}  // namespace locara
