// The memory planner: predicts, before loading, what a model costs in a configuration
// (weights mapped, KV cache, scratch, overhead), and the largest context that fits a budget.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "gguf/gguf_reader.h"
#include "kv/kv_cache.h"

namespace locara {

// What the runtime will run a model with. Apps never choose these; the runtime does.
struct PlanConfig {
  int64_t n_ctx = 0;               // positions per sequence; 0: the model's own, at most 4096
  KvType kv_type = KvType::kQ8_0;  // DESIGN.md's default; see runtime_kv_type() for models
                                   // whose heads do not fill q8_0 blocks
  int n_parallel = 1;              // sequences (sessions) served at once, each with its own KV
  int64_t batch_size = 512;        // prompt tokens per forward pass (Session's max_batch)
  int n_threads = 1;               // threads of each session's pool (attention scratch per thread)
};

// The shape facts a plan needs, read once from a GGUF header (no tensor data touched).
struct ModelShape {
  std::string path;
  std::string architecture;
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;
  int64_t n_ff = 0;
  uint64_t weight_bytes = 0;  // sum of the tensors' byte sizes: exact mapped cost
  // Bytes of one activation row once a matmul converts it to its weights' dot type,
  // largest over the layers (0: f32 weights read the floats as they are), for the inputs
  // of q/k/v/gate/up (rows of n_embd), the output projection (q_dim) and the down
  // projection (n_ff); see ops/matmul.cpp.
  uint64_t converted_row_bytes_embd = 0;
  uint64_t converted_row_bytes_q = 0;
  uint64_t converted_row_bytes_ff = 0;
  uint64_t converted_row_bytes_output = 0;  // the logits matmul (one row per output)
  // Anonymous memory of the parsed GGUF metadata and the tokenizer built from it: the
  // vocabulary arrays are copied out of the mapping (estimated from their sizes).
  uint64_t metadata_bytes = 0;
};

// Reads the shape of a llama-family model; errors name the file and the missing key.
Expected<ModelShape> read_model_shape(const GgufReader& gguf);

// Scratch of one sequence, as the engine allocates it (src/model/llama.cpp forward and
// src/model/execution_context.h, src/engine/session.h). All bytes.
struct ScratchPlan {
  uint64_t activations = 0;        // hidden, normed, q, k, v, attn, proj, gate, up for the batch
  uint64_t attention = 0;          // per-thread attention buffers (scores over the padded keys ...)
  uint64_t logits = 0;             // n_vocab x 4 per output row (one: the last token)
  uint64_t matmul_conversion = 0;  // activations converted to the weights' dot type
  uint64_t sampler = 0;            // the sampler's candidate list (n_vocab entries)
  uint64_t total() const { return activations + attention + logits + matmul_conversion + sampler; }
};

// One model's line items in a plan. kv and scratch cover all n_parallel sequences.
struct ModelPlan {
  std::string path;
  std::string role;  // "target" or "draft"
  ModelShape shape;
  uint64_t weight_bytes = 0;  // mapped, file-backed (evictable, not anonymous)
  uint64_t kv_bytes_per_sequence = 0;
  uint64_t kv_bytes = 0;
  ScratchPlan scratch_per_sequence;
  uint64_t scratch_bytes = 0;
  uint64_t metadata_bytes = 0;  // parsed metadata + tokenizer (anonymous, once per model)
  uint64_t anonymous_bytes() const { return kv_bytes + scratch_bytes + metadata_bytes; }
  uint64_t total_bytes() const { return weight_bytes + anonymous_bytes(); }
};

// Fixed overhead a plan adds per sequence beyond the buffers it counts: per pool worker
// thread, the resident pages of its stack and TLS and its malloc arena's headers; per
// sequence, the session's small objects (sampler state, token lists, UTF-8 decoder) and
// allocator slack. Measured on Linux/glibc (tests/runtime/planner_accuracy_test.cpp): a
// session's anonymous growth beyond KV + scratch was 8-20 KiB; these round it up.
inline constexpr uint64_t kThreadOverheadBytes = 32 * 1024;
inline constexpr uint64_t kSequenceOverheadBytes = 32 * 1024;

struct Plan {
  PlanConfig config;  // n_ctx resolved (never 0 here)
  ModelPlan model;
  std::optional<ModelPlan> draft;  // speculative decoding: the draft is charged too
  uint64_t overhead_bytes = 0;     // fixed overhead (threads, allocator), all sequences

  uint64_t weight_bytes() const;  // file-backed: the mapped tensors of every model
  uint64_t kv_bytes() const;
  uint64_t scratch_bytes() const;    // per-sequence buffers of every model
  uint64_t metadata_bytes() const;   // parsed metadata + tokenizer of every model
  uint64_t anonymous_bytes() const;  // kv + scratch + metadata + overhead
  uint64_t total_bytes() const;      // weights + anonymous
};

// The KV type the runtime uses for a model: `preferred` when the model's heads fit its
// blocks (q8_0/q4_0 need head_dim % 32 == 0), f16 otherwise.
KvType runtime_kv_type(const ModelShape& shape, KvType preferred);
// Whether a KvCache of this type can hold the model's heads.
bool kv_type_supported(const ModelShape& shape, KvType type);

// KV bytes of one sequence: 2 x n_layer x n_ctx x n_head_kv x head_dim x bytes per
// element (f32 4, f16 2, q8_0 34/32, q4_0 18/32), with n_ctx rounded up to the cache's
// position padding (kKvPositionPadding) as KvCache allocates it.
uint64_t plan_kv_bytes(const ModelShape& shape, int64_t n_ctx, KvType type);
// Scratch of one sequence for a configuration.
ScratchPlan plan_scratch(const ModelShape& shape, const PlanConfig& config);

// Plans a model (and optionally a draft run beside it with the same context and
// sequences). config.n_ctx 0 resolves as Session does. Errors: bad config values, or a
// KV type that cannot hold the model's heads (kUnsupported, as KvCache::create).
Expected<Plan> plan_memory(const ModelShape& model, const PlanConfig& config,
                           const ModelShape* draft = nullptr);
Expected<Plan> plan_memory(const GgufReader& model, const PlanConfig& config,
                           const GgufReader* draft = nullptr);

// The largest n_ctx (<= the model's training context, and <= max_ctx if positive) whose
// plan fits in budget_bytes; 0 if not even one position fits.
int64_t largest_fitting_context(const ModelShape& model, const PlanConfig& config,
                                uint64_t budget_bytes, const ModelShape* draft = nullptr,
                                int64_t max_ctx = 0);

}  // namespace locara
