#include "model/quant_mixture.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace locara {
namespace {

using T = TensorType;
using F = FileType;

constexpr FileTypeInfo kFileTypes[] = {
    {F::kAllF32, "f32", "all F32", T::kF32},
    {F::kF16, "f16", "F16", T::kF16},
    {F::kBF16, "bf16", "BF16", T::kBF16},
    {F::kQ8_0, "q8_0", "Q8_0", T::kQ8_0},
    {F::kQ4_0, "q4_0", "Q4_0", T::kQ4_0},
    {F::kQ4_1, "q4_1", "Q4_1", T::kQ4_1},
    {F::kQ5_0, "q5_0", "Q5_0", T::kQ5_0},
    {F::kQ5_1, "q5_1", "Q5_1", T::kQ5_1},
    {F::kQ2_K, "q2_K", "Q2_K - Medium", T::kQ2_K},
    {F::kQ3_K_S, "q3_K_S", "Q3_K - Small", T::kQ3_K},
    {F::kQ3_K_M, "q3_K_M", "Q3_K - Medium", T::kQ3_K},
    {F::kQ3_K_L, "q3_K_L", "Q3_K - Large", T::kQ3_K},
    {F::kQ4_K_S, "q4_K_S", "Q4_K - Small", T::kQ4_K},
    {F::kQ4_K_M, "q4_K_M", "Q4_K - Medium", T::kQ4_K},
    {F::kQ5_K_S, "q5_K_S", "Q5_K - Small", T::kQ5_K},
    {F::kQ5_K_M, "q5_K_M", "Q5_K - Medium", T::kQ5_K},
    {F::kQ6_K, "q6_K", "Q6_K", T::kQ6_K},
    {F::kIQ4_NL, "iq4_nl", "IQ4_NL - 4.5 bpw", T::kIQ4_NL},
    {F::kIQ4_XS, "iq4_xs", "IQ4_XS - 4.25 bpw", T::kIQ4_XS},
};

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}
bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// The roles the rules distinguish (llama.cpp's tensor_category).
enum class Role {
  kTokenEmbd,
  kAttnQ,
  kAttnK,
  kAttnV,  // also fused qkv and kv_b, which llama.cpp's rules treat as attn_v
  kAttnOutput,
  kFfnUp,
  kFfnGate,
  kFfnDown,
  kOutput,
  kOther,
};

Role role_of(std::string_view name) {
  if (name == "output.weight") return Role::kOutput;
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") return Role::kTokenEmbd;
  if (contains(name, "attn_qkv.weight") || contains(name, "attn_kv_b.weight") ||
      contains(name, "attn_v.weight")) {
    return Role::kAttnV;
  }
  if (contains(name, "attn_k.weight")) return Role::kAttnK;
  if (contains(name, "attn_q.weight")) return Role::kAttnQ;
  if (contains(name, "attn_output.weight")) return Role::kAttnOutput;
  if (contains(name, "ffn_up")) return Role::kFfnUp;
  if (contains(name, "ffn_gate")) return Role::kFfnGate;
  if (contains(name, "ffn_down")) return Role::kFfnDown;
  return Role::kOther;
}

// The layer a tensor name belongs to ("blk.7.attn_v.weight" -> 7), -1 for none.
int layer_of(const std::string& name) {
  int layer = -1;
  if (std::sscanf(name.c_str(), "blk.%d.", &layer) != 1) return -1;
  return layer;
}

bool is_quantized(TensorType type) {
  return tensor_type_info(type).block_size > 1;
}
int64_t block_size(TensorType type) {
  return tensor_type_info(type).block_size;
}

// Layers that get more bits in the *_M mixtures: the first and last eighth, and every
// third layer in between.
bool use_more_bits(int64_t i_layer, int64_t n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

// Counters the rules keep as they walk the tensors in llama.cpp's order.
struct RuleState {
  int64_t n_attention_wv = 0;
  int64_t i_attention_wv = 0;
  int64_t n_ffn_down = 0;
  int64_t i_ffn_down = 0;
  bool tied_embeddings = true;
};

// The mixture's choice for one quantizable tensor (before shape fallbacks); `type` starts
// as the file type's default.
TensorType mixture_type(RuleState& state, const MixtureModel& model, const MixtureTensor& tensor,
                        Role role, FileType ftype, TensorType type) {
  const bool falcon = model.architecture == "falcon";
  const int64_t n_gqa = model.n_head_kv > 0 ? model.n_head / model.n_head_kv : 1;
  // llama.cpp sizes llama models by layer count; only its 70B rule matters here.
  const bool llama_70b =
      model.architecture == "llama" && model.n_layer == 80 && model.n_head != model.n_head_kv;

  if (role == Role::kOutput || (state.tied_embeddings && role == Role::kTokenEmbd)) {
    if (falcon || tensor.dims[0] % block_size(type) != 0) return T::kQ8_0;
    return type != T::kQ8_0 ? T::kQ6_K : type;
  }
  if (role == Role::kTokenEmbd) return type;  // the IQ1/IQ2/IQ3 rules are not offered

  if (role == Role::kAttnV) {
    if (ftype == F::kQ2_K) {
      type = n_gqa >= 4 ? T::kQ4_K : T::kQ3_K;
    } else if (ftype == F::kQ3_K_M) {
      type = state.i_attention_wv < 2 ? T::kQ5_K : T::kQ4_K;
    } else if (ftype == F::kQ3_K_L) {
      type = T::kQ5_K;
    } else if ((ftype == F::kIQ4_NL || ftype == F::kIQ4_XS) && n_gqa >= 4) {
      type = T::kQ5_K;
    } else if ((ftype == F::kQ4_K_M || ftype == F::kQ5_K_M) &&
               use_more_bits(state.i_attention_wv, state.n_attention_wv)) {
      type = T::kQ6_K;
    } else if (ftype == F::kQ4_K_S && state.i_attention_wv < 4) {
      type = T::kQ5_K;
    }
    // 70B: 8 heads share each attn_v, which makes it small enough for more bits.
    if (llama_70b && (type == T::kQ3_K || type == T::kQ4_K)) type = T::kQ5_K;
    if (model.n_expert == 8) type = T::kQ8_0;
    ++state.i_attention_wv;
    return type;
  }
  if (role == Role::kAttnK) {
    return model.n_expert == 8 ? T::kQ8_0 : type;
  }
  if (role == Role::kFfnDown) {
    // With one expert per layer the counter is the layer index (tensors come in layer order).
    const int64_t i_layer = model.n_expert > 1 ? layer_of(tensor.name) : state.i_ffn_down;
    const int64_t n_layer = state.n_ffn_down;
    if (ftype == F::kQ2_K) {
      type = T::kQ3_K;
    } else if (ftype == F::kQ3_K_M) {
      type = i_layer < n_layer / 16                       ? T::kQ5_K
             : !falcon || use_more_bits(i_layer, n_layer) ? T::kQ4_K
                                                          : T::kQ3_K;
    } else if (ftype == F::kQ3_K_L) {
      type = falcon ? T::kQ4_K : T::kQ5_K;
    } else if (ftype == F::kQ4_K_M) {
      if (falcon) {
        type = i_layer < n_layer / 16            ? T::kQ6_K
               : use_more_bits(i_layer, n_layer) ? T::kQ5_K
                                                 : T::kQ4_K;
      } else if (use_more_bits(i_layer, n_layer)) {
        type = T::kQ6_K;
      }
    } else if (i_layer < n_layer / 8 && (ftype == F::kIQ4_NL || ftype == F::kIQ4_XS)) {
      type = T::kQ5_K;  // no importance matrix
    } else if (ftype == F::kQ5_K_M && use_more_bits(i_layer, n_layer)) {
      type = T::kQ6_K;
    } else if (ftype == F::kQ4_K_S && !falcon && i_layer < n_layer / 8) {
      type = T::kQ5_K;
    }
    ++state.i_ffn_down;
    return type;
  }
  if (role == Role::kAttnOutput) {
    if (falcon) return ftype == F::kQ3_K_L ? T::kQ4_K : type;
    if (model.n_expert == 8) {
      const bool bump = ftype == F::kQ2_K || ftype == F::kQ3_K_S || ftype == F::kQ3_K_M ||
                        ftype == F::kIQ4_NL || ftype == F::kQ4_K_S || ftype == F::kQ4_K_M ||
                        ftype == F::kIQ4_XS;
      return bump ? T::kQ5_K : type;
    }
    if (ftype == F::kQ2_K) return T::kQ3_K;
    if (ftype == F::kQ3_K_M) return T::kQ4_K;
    if (ftype == F::kQ3_K_L) return T::kQ5_K;
    return type;
  }
  return type;
}

// A type whose block size divides the row length, as llama.cpp's tensor_type_fallback.
TensorAssignment fit_row_length(const MixtureTensor& tensor, TensorType type) {
  const int64_t n_cols = tensor.dims[0];
  if (n_cols % block_size(type) == 0) return {type, false};
  TensorType fallback;
  switch (type) {
    case T::kIQ4_XS:
      fallback = T::kIQ4_NL;
      break;
    case T::kQ2_K:
    case T::kQ3_K:
      fallback = T::kQ4_0;
      break;
    case T::kQ4_K:
      fallback = T::kQ5_0;
      break;
    case T::kQ5_K:
      fallback = T::kQ5_1;
      break;
    case T::kQ6_K:
      fallback = T::kQ8_0;
      break;
    default:
      // llama.cpp gives up here; keeping the tensor as it is still makes a valid file.
      return {tensor.type, true};
  }
  if (n_cols % block_size(fallback) != 0) fallback = T::kF16;
  return {fallback, true};
}

}  // namespace

std::span<const FileTypeInfo> file_types() {
  return kFileTypes;
}

const FileTypeInfo& file_type_info(FileType type) {
  for (const FileTypeInfo& info : kFileTypes) {
    if (info.type == type) return info;
  }
  return kFileTypes[0];  // unreachable for enumerators
}

std::optional<FileType> file_type_from_name(std::string_view name) {
  for (const FileTypeInfo& info : kFileTypes) {
    if (equals_ignoring_case(info.name, name)) return info.type;
  }
  // llama-quantize's aliases: a k-quant's bare name means its medium mixture.
  if (equals_ignoring_case(name, "q3_K")) return FileType::kQ3_K_M;
  if (equals_ignoring_case(name, "q4_K")) return FileType::kQ4_K_M;
  if (equals_ignoring_case(name, "q5_K")) return FileType::kQ5_K_M;
  return std::nullopt;
}

std::string file_type_names() {
  std::string names;
  for (const FileTypeInfo& info : kFileTypes) {
    if (!names.empty()) names += ", ";
    names += info.name;
  }
  return names;
}

std::string_view file_type_description(uint64_t file_type_id) {
  for (const FileTypeInfo& info : kFileTypes) {
    if (static_cast<uint64_t>(info.type) == file_type_id) return info.description;
  }
  return "unknown";
}

bool is_quantizable_tensor(const MixtureTensor& tensor) {
  // ggml_n_dims: trailing dims of 1 do not count.
  size_t n_dims = tensor.dims.size();
  while (n_dims > 1 && tensor.dims[n_dims - 1] == 1) --n_dims;
  if (n_dims < 2) return false;
  const std::string_view name = tensor.name;
  if (!ends_with(name, "weight")) return false;
  for (const char* excluded : {"_norm.weight", "ffn_gate_inp.weight", "altup", "laurel",
                               "per_layer_model_proj", "ssm_conv1d", "attn_rel_b.weight"}) {
    if (contains(name, excluded)) return false;
  }
  return name != "position_embd.weight" && name != "token_types.weight";
}

std::vector<TensorAssignment> assign_tensor_types(std::span<const MixtureTensor> tensors,
                                                  const MixtureModel& model, FileType file_type,
                                                  const MixtureOptions& options) {
  std::vector<TensorAssignment> result(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) result[i] = {tensors[i].type, false};

  RuleState state;
  state.n_ffn_down = model.n_layer;
  for (const MixtureTensor& tensor : tensors) {
    const Role role = role_of(tensor.name);
    if (role == Role::kAttnV) ++state.n_attention_wv;
    if (role == Role::kOutput) state.tied_embeddings = false;
  }

  // llama.cpp visits tensors by layer, then by name; the per-layer counters need that order.
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const int layer_a = layer_of(tensors[a].name);
    const int layer_b = layer_of(tensors[b].name);
    if (layer_a != layer_b) return layer_a < layer_b;
    return tensors[a].name < tensors[b].name;
  });

  const TensorType default_type = file_type_info(file_type).default_type;
  for (const size_t index : order) {
    const MixtureTensor& tensor = tensors[index];
    if (tensor.dims.empty() || !is_quantizable_tensor(tensor)) continue;
    // Plain float targets (f32, f16, bf16) take every weight as it is: no mixture.
    if (!is_quantized(default_type)) {
      result[index] = {default_type, false};
      continue;
    }
    TensorType type = default_type;
    if (!options.pure) {
      type = mixture_type(state, model, tensor, role_of(tensor.name), file_type, type);
    }
    result[index] = fit_row_length(tensor, type);
  }
  return result;
}

}  // namespace locara
