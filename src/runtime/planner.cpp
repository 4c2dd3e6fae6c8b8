#include "runtime/planner.h"

#include <algorithm>

#include "engine/session.h"
#include "model/hparams.h"
#include "ops/attention.h"
#include "ops/type_traits.h"
#include "sampling/candidates.h"
#include "tokenizer/vocab.h"

namespace locara {
namespace {

constexpr uint64_t kFloat = sizeof(float);

// Heap bytes glibc's malloc takes for a request: 8 bytes of header, 16-byte chunks, 32 at least.
uint64_t malloc_chunk(uint64_t request) {
  return std::max<uint64_t>(32, (request + 8 + 15) / 16 * 16);
}

// Heap bytes of a std::string's text (none when it fits the 15-byte small-string buffer).
uint64_t string_heap(uint64_t length) {
  return length > 15 ? malloc_chunk(length + 1) : 0;
}

// Anonymous memory the reader's parsed metadata holds: each entry's key and value in the
// file-order vector plus its index node, and each array's elements (strings included).
uint64_t metadata_estimate(const GgufReader& gguf) {
  constexpr uint64_t kEntry = sizeof(std::pair<std::string, GgufValue>);
  constexpr uint64_t kIndexNode = 48 + sizeof(std::string) + sizeof(size_t);
  constexpr uint64_t kArrayHeader = 16 + sizeof(GgufArray);  // shared_ptr control block
  uint64_t bytes = 0;
  for (const auto& [key, value] : gguf.metadata()) {
    bytes += kEntry + malloc_chunk(kIndexNode) + 2 * string_heap(key.size());
    if (const std::string* text = value.as_string()) bytes += string_heap(text->size());
    if (const GgufArray* array = value.as_array()) {
      bytes +=
          malloc_chunk(kArrayHeader) + malloc_chunk(array->elements.size() * sizeof(GgufValue));
      for (const GgufValue& element : array->elements) {
        if (const std::string* text = element.as_string()) bytes += string_heap(text->size());
      }
    }
  }
  return bytes;
}

// Anonymous memory of the tokenizer's vocabulary: one TokenData per token and one node of the
// text -> id hash map (key copied, cached hash, next pointer) plus its bucket slot.
uint64_t tokenizer_estimate(const GgufReader& gguf) {
  const GgufValue* tokens = gguf.find("tokenizer.ggml.tokens");
  const GgufArray* array = tokens ? tokens->as_array() : nullptr;
  if (array == nullptr) return 0;
  constexpr uint64_t kMapNode = sizeof(void*) + sizeof(std::string) + sizeof(int32_t) + 8;
  uint64_t bytes = 0;
  for (const GgufValue& element : array->elements) {
    const std::string* text = element.as_string();
    const uint64_t heap = text ? string_heap(text->size()) : 0;
    bytes += sizeof(TokenData) + heap + malloc_chunk(kMapNode) + heap + sizeof(void*);
  }
  return bytes;
}

// Bytes per activation row of n values that a matmul by `tensor` converts (0: reads f32).
uint64_t converted_row_bytes(const GgufTensor* tensor, int64_t n) {
  if (tensor == nullptr) return 0;
  const ops::TypeTraits* traits = ops::type_traits(tensor->type);
  if (traits == nullptr || traits->vec_dot_type == TensorType::kF32) return 0;
  return tensor_row_bytes(traits->vec_dot_type, n).value_or(0);
}

uint64_t max_converted_row_bytes(const GgufReader& gguf, int64_t n_layer,
                                 std::initializer_list<const char*> names, int64_t n) {
  uint64_t bytes = 0;
  for (int64_t layer = 0; layer < n_layer; ++layer) {
    for (const char* name : names) {
      const std::string tensor = fmt::format("blk.{}.{}.weight", layer, name);
      bytes = std::max(bytes, converted_row_bytes(gguf.find_tensor(tensor), n));
    }
  }
  return bytes;
}

uint64_t round_up(uint64_t n, uint64_t multiple) {
  return (n + multiple - 1) / multiple * multiple;
}

Status check_config(const PlanConfig& config) {
  if (config.n_ctx < 0 || config.n_ctx > (int64_t{1} << 24)) {
    return make_error(ErrorCode::kOutOfRange, "context size {} must be in 0..{}", config.n_ctx,
                      int64_t{1} << 24);
  }
  if (config.n_parallel < 1) {
    return make_error(ErrorCode::kOutOfRange, "parallel sequences {} must be at least 1",
                      config.n_parallel);
  }
  if (config.batch_size < 1) {
    return make_error(ErrorCode::kOutOfRange, "batch size {} must be positive", config.batch_size);
  }
  if (config.n_threads < 1 || config.n_threads > 1024) {
    return make_error(ErrorCode::kOutOfRange, "thread count {} must be in 1..1024",
                      config.n_threads);
  }
  return ok_status();
}

ModelPlan plan_one(const ModelShape& shape, const PlanConfig& config, const char* role) {
  ModelPlan plan;
  plan.path = shape.path;
  plan.role = role;
  plan.shape = shape;
  plan.weight_bytes = shape.weight_bytes;
  plan.kv_bytes_per_sequence = plan_kv_bytes(shape, config.n_ctx, config.kv_type);
  plan.kv_bytes = plan.kv_bytes_per_sequence * static_cast<uint64_t>(config.n_parallel);
  plan.scratch_per_sequence = plan_scratch(shape, config);
  plan.scratch_bytes = plan.scratch_per_sequence.total() * static_cast<uint64_t>(config.n_parallel);
  plan.metadata_bytes = shape.metadata_bytes;
  return plan;
}

}  // namespace

Expected<ModelShape> read_model_shape(const GgufReader& gguf) {
  LOCARA_ASSIGN_OR_RETURN(std::string architecture, gguf.get_string("general.architecture"));
  if (architecture != "llama") {
    return make_error(ErrorCode::kUnsupported,
                      "{}: general.architecture '{}' cannot be planned (supported: llama)",
                      gguf.path(), architecture);
  }
  LOCARA_ASSIGN_OR_RETURN(ModelHParams hp, read_transformer_hparams(gguf, architecture));
  const GgufTensor* embd = gguf.find_tensor("token_embd.weight");
  if (embd == nullptr || embd->dims.size() != 2) {
    return make_error(ErrorCode::kNotFound,
                      "{}: required tensor 'token_embd.weight' is missing or not 2-D", gguf.path());
  }
  ModelShape shape;
  shape.path = gguf.path();
  shape.architecture = architecture;
  shape.n_vocab = embd->dims[1];
  shape.n_ctx_train = hp.n_ctx_train;
  shape.n_embd = hp.n_embd;
  shape.n_layer = hp.n_layer;
  shape.n_head = hp.n_head;
  shape.n_head_kv = hp.n_head_kv;
  shape.head_dim = hp.head_dim;
  shape.n_ff = hp.n_ff;
  shape.weight_bytes = gguf.total_tensor_bytes();
  shape.converted_row_bytes_embd = max_converted_row_bytes(
      gguf, hp.n_layer, {"attn_q", "attn_k", "attn_v", "ffn_gate", "ffn_up"}, hp.n_embd);
  shape.converted_row_bytes_q =
      max_converted_row_bytes(gguf, hp.n_layer, {"attn_output"}, hp.q_dim());
  shape.converted_row_bytes_ff = max_converted_row_bytes(gguf, hp.n_layer, {"ffn_down"}, hp.n_ff);
  const GgufTensor* output = gguf.find_tensor("output.weight");
  shape.converted_row_bytes_output = converted_row_bytes(output ? output : embd, hp.n_embd);
  shape.metadata_bytes = metadata_estimate(gguf) + tokenizer_estimate(gguf);
  return shape;
}

bool kv_type_supported(const ModelShape& shape, KvType type) {
  return shape.head_dim % tensor_type_info(kv_tensor_type(type)).block_size == 0;
}

KvType runtime_kv_type(const ModelShape& shape, KvType preferred) {
  return kv_type_supported(shape, preferred) ? preferred : KvType::kF16;
}

uint64_t plan_kv_bytes(const ModelShape& shape, int64_t n_ctx, KvType type) {
  const TensorTypeInfo& info = tensor_type_info(kv_tensor_type(type));
  // One head's segment in whole blocks; exactly head_dim x bytes per element when it fits.
  const uint64_t blocks =
      static_cast<uint64_t>((shape.head_dim + info.block_size - 1) / info.block_size);
  const uint64_t row_bytes = static_cast<uint64_t>(shape.n_head_kv) * blocks * info.type_size;
  const uint64_t positions = round_up(static_cast<uint64_t>(n_ctx), kKvPositionPadding);
  return 2 * static_cast<uint64_t>(shape.n_layer) * positions * row_bytes;
}

ScratchPlan plan_scratch(const ModelShape& shape, const PlanConfig& config) {
  ScratchPlan scratch;
  // The largest forward pass: a full prompt batch (never more tokens than the context).
  const auto batch = static_cast<uint64_t>(std::min(config.batch_size, config.n_ctx));
  const auto n_embd = static_cast<uint64_t>(shape.n_embd);
  const auto q_dim = static_cast<uint64_t>(shape.n_head * shape.head_dim);
  const auto kv_dim = static_cast<uint64_t>(shape.n_head_kv * shape.head_dim);
  const auto n_ff = static_cast<uint64_t>(shape.n_ff);
  const auto head_dim = static_cast<uint64_t>(shape.head_dim);

  // llama.cpp-style forward: hidden, normed, proj [n_embd]; q, attn [q_dim]; k, v [kv_dim];
  // gate, up [n_ff] per token of the batch.
  scratch.activations = batch * kFloat * (3 * n_embd + 2 * q_dim + 2 * kv_dim + 2 * n_ff);

  // Attention, per pool thread that gets a (token, head) item: scores over the padded keys,
  // the query converted to the keys' dot type, and either the probabilities converted to
  // the transposed values' dot type (f32/f16) or one dequantized value head (q8_0/q4_0).
  const TensorType kv_type = kv_tensor_type(config.kv_type);
  const ops::TypeTraits* kv_traits = ops::type_traits(kv_type);
  const TensorType dot_type = kv_traits ? kv_traits->vec_dot_type : kv_type;
  const uint64_t padded_keys = static_cast<uint64_t>(ops::attention_padded_keys(config.n_ctx));
  uint64_t per_thread =
      padded_keys * kFloat + tensor_row_bytes(dot_type, shape.head_dim).value_or(head_dim * kFloat);
  if (config.kv_type == KvType::kF32 || config.kv_type == KvType::kF16) {
    per_thread += tensor_row_bytes(dot_type, static_cast<int64_t>(padded_keys)).value_or(0);
  } else {
    per_thread += head_dim * kFloat;
  }
  const uint64_t busy_threads =
      std::min<uint64_t>(static_cast<uint64_t>(config.n_threads), batch * shape.n_head);
  scratch.attention = busy_threads * per_thread;

  // Logits of the last token only (Session keeps one row).
  scratch.logits = static_cast<uint64_t>(shape.n_vocab) * kFloat;

  // One conversion buffer, grown to the largest matmul input of a pass.
  scratch.matmul_conversion =
      std::max({batch * shape.converted_row_bytes_embd, batch * shape.converted_row_bytes_q,
                batch * shape.converted_row_bytes_ff, shape.converted_row_bytes_output});

  scratch.sampler = static_cast<uint64_t>(shape.n_vocab) * sizeof(sampling::TokenCandidate);
  return scratch;
}

uint64_t Plan::weight_bytes() const {
  return model.weight_bytes + (draft ? draft->weight_bytes : 0);
}
uint64_t Plan::kv_bytes() const {
  return model.kv_bytes + (draft ? draft->kv_bytes : 0);
}
uint64_t Plan::scratch_bytes() const {
  return model.scratch_bytes + (draft ? draft->scratch_bytes : 0);
}
uint64_t Plan::metadata_bytes() const {
  return model.metadata_bytes + (draft ? draft->metadata_bytes : 0);
}
uint64_t Plan::anonymous_bytes() const {
  return kv_bytes() + scratch_bytes() + metadata_bytes() + overhead_bytes;
}
uint64_t Plan::total_bytes() const {
  return weight_bytes() + anonymous_bytes();
}

Expected<Plan> plan_memory(const ModelShape& model, const PlanConfig& config,
                           const ModelShape* draft) {
  LOCARA_RETURN_IF_ERROR(check_config(config));
  Plan plan;
  plan.config = config;
  if (plan.config.n_ctx == 0) {
    plan.config.n_ctx = model.n_ctx_train > 0 ? std::min(model.n_ctx_train, kDefaultMaxContext)
                                              : kDefaultMaxContext;
  }
  for (const ModelShape* shape : {&model, draft}) {
    if (shape != nullptr && !kv_type_supported(*shape, config.kv_type)) {
      return make_error(ErrorCode::kUnsupported,
                        "{}: KV cache type {} stores heads in blocks of {} values, but this "
                        "model's heads have {}; use f16",
                        shape->path, kv_type_name(config.kv_type),
                        tensor_type_info(kv_tensor_type(config.kv_type)).block_size,
                        shape->head_dim);
    }
  }
  plan.model = plan_one(model, plan.config, "target");
  int sequences_models = 1;
  if (draft != nullptr) {
    plan.draft = plan_one(*draft, plan.config, "draft");
    sequences_models = 2;
  }
  // Each session has its own pool; its n_threads - 1 workers are OS threads.
  const uint64_t per_sequence =
      kSequenceOverheadBytes +
      static_cast<uint64_t>(plan.config.n_threads - 1) * kThreadOverheadBytes;
  plan.overhead_bytes =
      per_sequence * static_cast<uint64_t>(plan.config.n_parallel * sequences_models);
  return plan;
}

Expected<Plan> plan_memory(const GgufReader& model, const PlanConfig& config,
                           const GgufReader* draft) {
  LOCARA_ASSIGN_OR_RETURN(ModelShape model_shape, read_model_shape(model));
  if (draft == nullptr) return plan_memory(model_shape, config);
  LOCARA_ASSIGN_OR_RETURN(ModelShape draft_shape, read_model_shape(*draft));
  return plan_memory(model_shape, config, &draft_shape);
}

int64_t largest_fitting_context(const ModelShape& model, const PlanConfig& config,
                                uint64_t budget_bytes, const ModelShape* draft, int64_t max_ctx) {
  int64_t high = max_ctx > 0 ? max_ctx : (model.n_ctx_train > 0 ? model.n_ctx_train : 1 << 24);
  high = std::min<int64_t>(high, int64_t{1} << 24);
  const auto fits = [&](int64_t n_ctx) {
    PlanConfig trial = config;
    trial.n_ctx = n_ctx;
    auto plan = plan_memory(model, trial, draft);
    return plan && plan->total_bytes() <= budget_bytes;
  };
  if (!fits(1)) return 0;
  // The total grows with n_ctx, so the fitting contexts are a prefix: binary search its end.
  int64_t low = 1;
  while (low < high) {
    const int64_t mid = low + (high - low + 1) / 2;
    if (fits(mid)) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  return low;
}

}  // namespace locara
