#include "model/synthetic_model.h"

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "gguf/gguf_writer.h"

namespace locara {
namespace {

// Weights ~ uniform(-a, a) with a = 1/sqrt(fan_in), so activations neither vanish nor
// explode and sampled text varies.
std::vector<uint8_t> random_matrix(std::mt19937_64& rng, int64_t row_length, int64_t n_rows) {
  std::vector<float> values(static_cast<size_t>(row_length * n_rows));
  const double bound = 1.0 / std::sqrt(static_cast<double>(row_length));
  // Our own mapping of raw draws to [-bound, bound): std's distributions differ between
  // standard libraries, and the same seed must give the same file everywhere.
  for (float& v : values) {
    const double unit = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    v = static_cast<float>((2.0 * unit - 1.0) * bound);
  }
  std::vector<uint8_t> bytes(values.size() * sizeof(float));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

std::vector<uint8_t> ones(int64_t n) {
  std::vector<float> values(static_cast<size_t>(n), 1.0f);
  std::vector<uint8_t> bytes(values.size() * sizeof(float));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

void add_vocabulary(GgufWriter& writer, int64_t n_vocab) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<float> scores = {0.0f, 0.0f, 0.0f};
  std::vector<int32_t> types = {2, 3, 3};  // unknown, control, control
  for (int byte = 0; byte < 256; ++byte) {
    tokens.push_back(fmt::format("<0x{:02X}>", byte));
    scores.push_back(0.0f);
    types.push_back(6);
  }
  // The rest: printable pieces, some with the SentencePiece word-start marker.
  static const char* const kLetters = "etaoinshrdlucmfwypvbgkjqxz";
  for (int64_t id = static_cast<int64_t>(tokens.size()); id < n_vocab; ++id) {
    const int64_t i = id - 259;
    std::string piece = (i % 2 == 0) ? "\xE2\x96\x81" : "";  // U+2581
    piece += kLetters[i % 26];
    if (i >= 52) piece += kLetters[(i / 26) % 26];
    if (i >= 52 * 26) piece += fmt::format("{}", i);
    tokens.push_back(piece);
    scores.push_back(-static_cast<float>(i));
    types.push_back(1);
  }
  writer.set_string("tokenizer.ggml.model", "llama");
  writer.set_string_array("tokenizer.ggml.tokens", tokens);
  writer.set_float32_array("tokenizer.ggml.scores", scores);
  writer.set_int32_array("tokenizer.ggml.token_type", types);
  writer.set_uint32("tokenizer.ggml.bos_token_id", 1);
  writer.set_uint32("tokenizer.ggml.eos_token_id", 2);
  writer.set_uint32("tokenizer.ggml.unknown_token_id", 0);
}

}  // namespace

Status write_synthetic_llama(const SyntheticModelShape& s, const std::string& path) {
  if (s.n_vocab < 259 || s.n_embd <= 0 || s.n_layer <= 0 || s.n_head <= 0 || s.n_head_kv <= 0 ||
      s.n_ff <= 0 || s.n_embd % s.n_head != 0 || s.n_head % s.n_head_kv != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "synthetic model shape is inconsistent (embd {}, heads {}/{}, vocab {})",
                      s.n_embd, s.n_head, s.n_head_kv, s.n_vocab);
  }
  GgufWriter writer;
  writer.set_string("general.architecture", "llama");
  writer.set_string("general.name", "locara-synthetic");
  writer.set_uint32("llama.context_length", static_cast<uint32_t>(s.n_ctx_train));
  writer.set_uint32("llama.embedding_length", static_cast<uint32_t>(s.n_embd));
  writer.set_uint32("llama.block_count", static_cast<uint32_t>(s.n_layer));
  writer.set_uint32("llama.feed_forward_length", static_cast<uint32_t>(s.n_ff));
  writer.set_uint32("llama.attention.head_count", static_cast<uint32_t>(s.n_head));
  writer.set_uint32("llama.attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  writer.set_float32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  writer.set_float32("llama.rope.freq_base", 10000.0f);
  add_vocabulary(writer, s.n_vocab);

  std::mt19937_64 rng(s.seed);
  const int64_t head_dim = s.n_embd / s.n_head;
  const int64_t kv_dim = s.n_head_kv * head_dim;
  auto add = [&](const std::string& name, std::vector<int64_t> dims, std::vector<uint8_t> bytes) {
    return writer.add_tensor(name, TensorType::kF32, std::move(dims), bytes);
  };
  LOCARA_RETURN_IF_ERROR(
      add("token_embd.weight", {s.n_embd, s.n_vocab}, random_matrix(rng, s.n_embd, s.n_vocab)));
  for (int64_t i = 0; i < s.n_layer; ++i) {
    auto name = [i](const char* what) { return fmt::format("blk.{}.{}.weight", i, what); };
    LOCARA_RETURN_IF_ERROR(add(name("attn_norm"), {s.n_embd}, ones(s.n_embd)));
    LOCARA_RETURN_IF_ERROR(
        add(name("attn_q"), {s.n_embd, s.n_embd}, random_matrix(rng, s.n_embd, s.n_embd)));
    LOCARA_RETURN_IF_ERROR(
        add(name("attn_k"), {s.n_embd, kv_dim}, random_matrix(rng, s.n_embd, kv_dim)));
    LOCARA_RETURN_IF_ERROR(
        add(name("attn_v"), {s.n_embd, kv_dim}, random_matrix(rng, s.n_embd, kv_dim)));
    LOCARA_RETURN_IF_ERROR(
        add(name("attn_output"), {s.n_embd, s.n_embd}, random_matrix(rng, s.n_embd, s.n_embd)));
    LOCARA_RETURN_IF_ERROR(add(name("ffn_norm"), {s.n_embd}, ones(s.n_embd)));
    LOCARA_RETURN_IF_ERROR(
        add(name("ffn_gate"), {s.n_embd, s.n_ff}, random_matrix(rng, s.n_embd, s.n_ff)));
    LOCARA_RETURN_IF_ERROR(
        add(name("ffn_up"), {s.n_embd, s.n_ff}, random_matrix(rng, s.n_embd, s.n_ff)));
    LOCARA_RETURN_IF_ERROR(
        add(name("ffn_down"), {s.n_ff, s.n_embd}, random_matrix(rng, s.n_ff, s.n_embd)));
  }
  LOCARA_RETURN_IF_ERROR(add("output_norm.weight", {s.n_embd}, ones(s.n_embd)));
  LOCARA_RETURN_IF_ERROR(
      add("output.weight", {s.n_embd, s.n_vocab}, random_matrix(rng, s.n_embd, s.n_vocab)));
  return writer.write(path);
}

}  // namespace locara
