#include "model/synthetic_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "gguf/gguf_writer.h"
#include "ops/convert_rows.h"

namespace locara {
namespace {

// splitmix64's output function: a counter run through it is a fast random stream whose
// element i can be computed alone, so threads fill disjoint ranges of a tensor and the
// bytes do not depend on how many there are.
inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

// Weights ~ uniform(-a, a) with a = 1/sqrt(fan_in), so activations neither vanish nor
// explode and sampled text varies. 24 random bits per value, mapped with exact float
// steps, so every compiler and CPU gives the same floats.
auto random_rows(uint64_t stream_seed, int64_t row_length) {
  const float bound = static_cast<float>(1.0 / std::sqrt(static_cast<double>(row_length)));
  return [stream_seed, row_length, bound](int64_t row_begin, int64_t row_end, float* out,
                                          ops::ThreadPool& pool) {
    const int64_t first = row_begin * row_length;
    pool.parallel_for((row_end - row_begin) * row_length, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const uint64_t bits = mix64(stream_seed + static_cast<uint64_t>(first + i + 1) * kGolden);
        const float unit = static_cast<float>(bits >> 40) * 0x1.0p-23f - 1.0f;  // [-1, 1)
        out[i] = unit * bound;
      }
    });
  };
}

// Quantizing a billion random floats with the reference k-quant and IQ4 searches takes
// minutes. Large tensors of block types are instead assembled from a pool of this many
// elements' worth of quantized random blocks, each block chosen by a hash of its place:
// every block is a genuine quantization of random weights, rows differ, and the file
// takes seconds. Smaller tensors are quantized element for element.
constexpr int64_t kPoolElements = int64_t{4} << 20;

// Quantized blocks of `type` for rows of row_length (the weights' scale depends on it).
std::shared_ptr<const std::vector<uint8_t>> make_block_pool(uint64_t seed, TensorType type,
                                                            int64_t row_length,
                                                            ops::ThreadPool& pool) {
  const int64_t n_rows = std::max<int64_t>(1, kPoolElements / row_length);
  std::vector<float> floats(static_cast<size_t>(n_rows * row_length));
  random_rows(seed, row_length)(0, n_rows, floats.data(), pool);
  auto blocks = std::make_shared<std::vector<uint8_t>>(*tensor_row_bytes(type, row_length) *
                                                       static_cast<size_t>(n_rows));
  ops::quantize_rows(type, floats.data(), blocks->data(), row_length, n_rows, pool);
  return blocks;
}

auto pooled_rows(std::shared_ptr<const std::vector<uint8_t>> blocks, uint64_t stream_seed,
                 TensorType type, int64_t row_length) {
  const TensorTypeInfo& info = tensor_type_info(type);
  const size_t block_bytes = info.type_size;
  const int64_t blocks_per_row = row_length / info.block_size;
  const uint64_t n_pool_blocks = blocks->size() / block_bytes;
  return [=](int64_t row_begin, int64_t row_end, uint8_t* out, ops::ThreadPool& pool) {
    const int64_t first = row_begin * blocks_per_row;
    pool.parallel_for((row_end - row_begin) * blocks_per_row, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const uint64_t pick =
            mix64(stream_seed + static_cast<uint64_t>(first + i + 1) * kGolden) % n_pool_blocks;
        std::memcpy(out + static_cast<size_t>(i) * block_bytes, blocks->data() + pick * block_bytes,
                    block_bytes);
      }
    });
  };
}

auto ones(int64_t row_length) {
  return [row_length](int64_t row_begin, int64_t row_end, float* out, ops::ThreadPool&) {
    std::fill(out, out + (row_end - row_begin) * row_length, 1.0f);
  };
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

Status check_shape(const SyntheticModelShape& s) {
  if (s.n_vocab < 259 || s.n_embd <= 0 || s.n_layer <= 0 || s.n_head <= 0 || s.n_head_kv <= 0 ||
      s.n_ff <= 0 || s.n_ctx_train <= 0 || s.n_embd % s.n_head != 0 ||
      s.n_head % s.n_head_kv != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "synthetic model shape is inconsistent (embd {}, layers {}, heads {}/{}, "
                      "ffn {}, vocab {}, ctx {}): the vocabulary needs at least 259 tokens, "
                      "heads must divide embd and kv heads must divide heads",
                      s.n_embd, s.n_layer, s.n_head, s.n_head_kv, s.n_ff, s.n_vocab, s.n_ctx_train);
  }
  constexpr int64_t kMaxDim = int64_t{1} << 24;
  if (s.n_embd > kMaxDim || s.n_ff > kMaxDim || s.n_vocab > kMaxDim || s.n_layer > 4096 ||
      s.n_ctx_train > (int64_t{1} << 31) - 1) {
    return make_error(ErrorCode::kOutOfRange,
                      "synthetic model shape too large (embd {}, layers {}, ffn {}, vocab {})",
                      s.n_embd, s.n_layer, s.n_ff, s.n_vocab);
  }
  return ok_status();
}

}  // namespace

Status write_synthetic_llama(const SyntheticModelShape& shape, const std::string& path) {
  return write_synthetic_llama(shape, SyntheticModelOptions{}, path);
}

Status write_synthetic_llama(const SyntheticModelShape& s, const SyntheticModelOptions& options,
                             const std::string& path) {
  LOCARA_RETURN_IF_ERROR(check_shape(s));
  const FileTypeInfo& file_type = file_type_info(options.file_type);

  GgufWriter writer;
  writer.set_string("general.architecture", "llama");
  writer.set_string("general.name", "locara-synthetic");
  writer.set_uint32("general.file_type", static_cast<uint32_t>(options.file_type));
  writer.set_uint32("general.quantization_version", 2);
  writer.set_uint32("llama.context_length", static_cast<uint32_t>(s.n_ctx_train));
  writer.set_uint32("llama.embedding_length", static_cast<uint32_t>(s.n_embd));
  writer.set_uint32("llama.block_count", static_cast<uint32_t>(s.n_layer));
  writer.set_uint32("llama.feed_forward_length", static_cast<uint32_t>(s.n_ff));
  writer.set_uint32("llama.attention.head_count", static_cast<uint32_t>(s.n_head));
  writer.set_uint32("llama.attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  writer.set_float32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  writer.set_float32("llama.rope.freq_base", 10000.0f);
  writer.set_uint32("llama.vocab_size", static_cast<uint32_t>(s.n_vocab));
  add_vocabulary(writer, s.n_vocab);

  // The tensors, in the order llama.cpp's converter writes them, all made as F32.
  const int64_t head_dim = s.n_embd / s.n_head;
  const int64_t kv_dim = s.n_head_kv * head_dim;
  std::vector<StreamedTensor> tensors;
  auto add_matrix = [&](std::string name, int64_t row_length, int64_t n_rows) {
    const uint64_t stream_seed = mix64(s.seed * kGolden + tensors.size() + 1);
    tensors.push_back({std::move(name),
                       {row_length, n_rows},
                       TensorType::kF32,
                       {},
                       random_rows(stream_seed, row_length)});
  };
  auto add_norm = [&](std::string name) {
    tensors.push_back({std::move(name), {s.n_embd}, TensorType::kF32, {}, ones(s.n_embd)});
  };
  add_matrix("token_embd.weight", s.n_embd, s.n_vocab);
  for (int64_t i = 0; i < s.n_layer; ++i) {
    auto name = [i](const char* what) { return fmt::format("blk.{}.{}.weight", i, what); };
    add_norm(name("attn_norm"));
    add_matrix(name("attn_q"), s.n_embd, s.n_embd);
    add_matrix(name("attn_k"), s.n_embd, kv_dim);
    add_matrix(name("attn_v"), s.n_embd, kv_dim);
    add_matrix(name("attn_output"), s.n_embd, s.n_embd);
    add_norm(name("ffn_norm"));
    add_matrix(name("ffn_gate"), s.n_embd, s.n_ff);
    add_matrix(name("ffn_up"), s.n_embd, s.n_ff);
    add_matrix(name("ffn_down"), s.n_ff, s.n_embd);
  }
  add_norm("output_norm.weight");
  add_matrix("output.weight", s.n_embd, s.n_vocab);

  // Each tensor's type as the quantizer would choose it for this file type.
  std::vector<MixtureTensor> described;
  for (const StreamedTensor& tensor : tensors) {
    described.push_back({tensor.name, tensor.type, tensor.dims});
  }
  const MixtureModel model{"llama", s.n_layer, s.n_head, s.n_head_kv, 0};
  const auto assignments =
      assign_tensor_types(described, model, options.file_type, {.pure = options.pure});
  for (size_t i = 0; i < tensors.size(); ++i) {
    tensors[i].type = assignments[i].type;
    if (!ops::can_convert_to(tensors[i].type)) {
      return make_error(ErrorCode::kUnsupported,
                        "{}: file type {} needs {} for tensor '{}', which is not supported yet "
                        "(no quantization kernel){}",
                        path, file_type.name, tensor_type_name(tensors[i].type), tensors[i].name,
                        options.pure ? "" : "; --pure uses the default type everywhere");
    }
  }

  ops::ThreadPool pool(options.n_threads > 0 ? options.n_threads : 1);
  std::map<std::pair<TensorType, int64_t>, std::shared_ptr<const std::vector<uint8_t>>> pools;
  for (size_t i = 0; i < tensors.size(); ++i) {
    StreamedTensor& tensor = tensors[i];
    const int64_t row_length = tensor.dims[0];
    const int64_t n_elements = row_length * (tensor.dims.size() > 1 ? tensor.dims[1] : 1);
    if (tensor_type_info(tensor.type).block_size <= 1 || n_elements <= kPoolElements) continue;
    auto& blocks = pools[{tensor.type, row_length}];
    if (!blocks) {
      const uint64_t pool_seed =
          mix64(s.seed * kGolden + 0x9001 + static_cast<uint64_t>(row_length) +
                (static_cast<uint64_t>(tensor.type) << 32));
      blocks = make_block_pool(pool_seed, tensor.type, row_length, pool);
    }
    tensor.make_typed_rows =
        pooled_rows(blocks, mix64(s.seed * kGolden + i + 1), tensor.type, row_length);
  }
  return write_streamed_model(writer, tensors, path, pool, options.on_progress);
}

}  // namespace locara
