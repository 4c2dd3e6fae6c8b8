#include "model/hparams.h"

namespace locara {
namespace {

// Reads "<arch>.<suffix>" as an integer, requiring it to be present and positive.
Expected<int64_t> required_positive(const GgufReader& gguf, const std::string& key) {
  auto value = gguf.get_int(key);
  if (!value) {
    return make_error(value.error().code, "{}: model metadata: {}", gguf.path(),
                      value.error().message);
  }
  if (*value <= 0) {
    return make_error(ErrorCode::kOutOfRange, "{}: metadata '{}' is {}, must be positive",
                      gguf.path(), key, *value);
  }
  return *value;
}

// An optional key: its value, the fallback when absent, an error when present but wrong.
Expected<double> optional_float(const GgufReader& gguf, const std::string& key, double fallback) {
  if (!gguf.find(key)) return fallback;
  auto value = gguf.get_float(key);
  if (!value) return make_error(value.error().code, "{}: {}", gguf.path(), value.error().message);
  return *value;
}

Expected<int64_t> optional_int(const GgufReader& gguf, const std::string& key, int64_t fallback) {
  if (!gguf.find(key)) return fallback;
  return required_positive(gguf, key);
}

}  // namespace

Expected<ModelHParams> read_transformer_hparams(const GgufReader& gguf,
                                                const std::string& architecture) {
  ModelHParams hp;
  hp.architecture = architecture;
  if (auto name = gguf.get_string("general.name")) hp.name = *name;
  const std::string prefix = architecture + ".";

  LOCARA_ASSIGN_OR_RETURN(hp.n_ctx_train, required_positive(gguf, prefix + "context_length"));
  LOCARA_ASSIGN_OR_RETURN(hp.n_embd, required_positive(gguf, prefix + "embedding_length"));
  LOCARA_ASSIGN_OR_RETURN(hp.n_layer, required_positive(gguf, prefix + "block_count"));
  LOCARA_ASSIGN_OR_RETURN(hp.n_ff, required_positive(gguf, prefix + "feed_forward_length"));
  LOCARA_ASSIGN_OR_RETURN(hp.n_head, required_positive(gguf, prefix + "attention.head_count"));
  LOCARA_ASSIGN_OR_RETURN(hp.n_head_kv,
                          optional_int(gguf, prefix + "attention.head_count_kv", hp.n_head));
  if (hp.n_head % hp.n_head_kv != 0) {
    return make_error(ErrorCode::kOutOfRange,
                      "{}: attention.head_count {} is not a multiple of head_count_kv {}",
                      gguf.path(), hp.n_head, hp.n_head_kv);
  }
  LOCARA_ASSIGN_OR_RETURN(
      hp.head_dim, optional_int(gguf, prefix + "attention.key_length", hp.n_embd / hp.n_head));
  LOCARA_ASSIGN_OR_RETURN(hp.n_rot,
                          optional_int(gguf, prefix + "rope.dimension_count", hp.head_dim));
  if (hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0) {
    return make_error(ErrorCode::kOutOfRange,
                      "{}: rope.dimension_count {} must be even and at most the head size {}",
                      gguf.path(), hp.n_rot, hp.head_dim);
  }

  LOCARA_ASSIGN_OR_RETURN(double eps,
                          optional_float(gguf, prefix + "attention.layer_norm_rms_epsilon", 1e-5));
  LOCARA_ASSIGN_OR_RETURN(double base, optional_float(gguf, prefix + "rope.freq_base", 10000.0));
  hp.rms_norm_eps = static_cast<float>(eps);
  hp.rope_freq_base = static_cast<float>(base);

  // Linear RoPE scaling stretches positions by 1/factor; other kinds need their own math.
  if (gguf.find(prefix + "rope.scaling.type")) {
    LOCARA_ASSIGN_OR_RETURN(std::string type, gguf.get_string(prefix + "rope.scaling.type"));
    if (type == "linear") {
      LOCARA_ASSIGN_OR_RETURN(double factor,
                              optional_float(gguf, prefix + "rope.scaling.factor", 1.0));
      if (factor <= 0) {
        return make_error(ErrorCode::kOutOfRange, "{}: rope.scaling.factor {} must be positive",
                          gguf.path(), factor);
      }
      hp.rope_freq_scale = static_cast<float>(1.0 / factor);
    } else if (type != "none") {
      return make_error(ErrorCode::kUnsupported, "{}: rope.scaling.type '{}' is not supported",
                        gguf.path(), type);
    }
  } else if (gguf.find(prefix + "rope.scale_linear")) {
    LOCARA_ASSIGN_OR_RETURN(double factor, optional_float(gguf, prefix + "rope.scale_linear", 1));
    if (factor > 0) hp.rope_freq_scale = static_cast<float>(1.0 / factor);
  }
  return hp;
}

}  // namespace locara
