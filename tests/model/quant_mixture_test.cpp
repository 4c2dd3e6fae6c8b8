// Which tensor gets which type in each file type: llama.cpp's llama_tensor_get_type for
// the llama architecture, checked rule by rule on a 16-layer model.
#include "model/quant_mixture.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace locara {
namespace {

using T = TensorType;

// A llama model's tensors as the converter writes them: embd 2048, ffn 8192, GQA 32/8.
std::vector<MixtureTensor> llama_tensors(int n_layer, int64_t n_embd = 2048, int64_t n_ff = 8192,
                                         int64_t kv_dim = 512, bool tied = false) {
  std::vector<MixtureTensor> tensors;
  tensors.push_back({"token_embd.weight", T::kF32, {n_embd, 32000}});
  for (int i = 0; i < n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    tensors.push_back({p + "attn_norm.weight", T::kF32, {n_embd}});
    tensors.push_back({p + "attn_q.weight", T::kF32, {n_embd, n_embd}});
    tensors.push_back({p + "attn_k.weight", T::kF32, {n_embd, kv_dim}});
    tensors.push_back({p + "attn_v.weight", T::kF32, {n_embd, kv_dim}});
    tensors.push_back({p + "attn_output.weight", T::kF32, {n_embd, n_embd}});
    tensors.push_back({p + "ffn_norm.weight", T::kF32, {n_embd}});
    tensors.push_back({p + "ffn_gate.weight", T::kF32, {n_embd, n_ff}});
    tensors.push_back({p + "ffn_up.weight", T::kF32, {n_embd, n_ff}});
    tensors.push_back({p + "ffn_down.weight", T::kF32, {n_ff, n_embd}});
  }
  tensors.push_back({"output_norm.weight", T::kF32, {n_embd}});
  if (!tied) tensors.push_back({"output.weight", T::kF32, {n_embd, 32000}});
  return tensors;
}

MixtureModel llama_model(int n_layer, int n_head = 32, int n_head_kv = 8) {
  return {"llama", n_layer, n_head, n_head_kv, 0};
}

std::map<std::string, TensorAssignment> assign(const std::vector<MixtureTensor>& tensors,
                                               const MixtureModel& model, FileType type,
                                               MixtureOptions options = {}) {
  const auto result = assign_tensor_types(tensors, model, type, options);
  std::map<std::string, TensorAssignment> by_name;
  for (size_t i = 0; i < tensors.size(); ++i) by_name[tensors[i].name] = result[i];
  return by_name;
}

std::string layer(int i, const char* what) {
  return "blk." + std::to_string(i) + "." + what + ".weight";
}

TEST(QuantMixture, Q4KMediumOnSixteenLayers) {
  const auto types = assign(llama_tensors(16), llama_model(16), FileType::kQ4_K_M);
  // use_more_bits(i, 16): i < 2, i >= 14, or (i - 2) % 3 == 2.
  const std::set<int> more_bits = {0, 1, 4, 7, 10, 13, 14, 15};
  for (int i = 0; i < 16; ++i) {
    const T more = more_bits.count(i) ? T::kQ6_K : T::kQ4_K;
    EXPECT_EQ(types.at(layer(i, "attn_v")).type, more) << "layer " << i;
    EXPECT_EQ(types.at(layer(i, "ffn_down")).type, more) << "layer " << i;
    for (const char* plain : {"attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"}) {
      EXPECT_EQ(types.at(layer(i, plain)).type, T::kQ4_K) << layer(i, plain);
    }
    EXPECT_EQ(types.at(layer(i, "attn_norm")).type, T::kF32);
    EXPECT_EQ(types.at(layer(i, "ffn_norm")).type, T::kF32);
  }
  EXPECT_EQ(types.at("output.weight").type, T::kQ6_K);
  EXPECT_EQ(types.at("token_embd.weight").type, T::kQ4_K);
  EXPECT_EQ(types.at("output_norm.weight").type, T::kF32);
  for (const auto& [name, assignment] : types) EXPECT_FALSE(assignment.fell_back) << name;
}

TEST(QuantMixture, Q5KMediumUsesTheSameLayers) {
  const auto types = assign(llama_tensors(16), llama_model(16), FileType::kQ5_K_M);
  EXPECT_EQ(types.at(layer(4, "attn_v")).type, T::kQ6_K);
  EXPECT_EQ(types.at(layer(5, "attn_v")).type, T::kQ5_K);
  EXPECT_EQ(types.at(layer(7, "ffn_down")).type, T::kQ6_K);
  EXPECT_EQ(types.at(layer(8, "ffn_down")).type, T::kQ5_K);
  EXPECT_EQ(types.at("output.weight").type, T::kQ6_K);
}

TEST(QuantMixture, Q3KMediumAndQ2K) {
  const auto q3 = assign(llama_tensors(16), llama_model(16), FileType::kQ3_K_M);
  EXPECT_EQ(q3.at(layer(0, "attn_v")).type, T::kQ5_K);  // the first two
  EXPECT_EQ(q3.at(layer(1, "attn_v")).type, T::kQ5_K);
  EXPECT_EQ(q3.at(layer(2, "attn_v")).type, T::kQ4_K);
  EXPECT_EQ(q3.at(layer(0, "ffn_down")).type, T::kQ5_K);  // i < 16 / 16
  EXPECT_EQ(q3.at(layer(1, "ffn_down")).type, T::kQ4_K);
  EXPECT_EQ(q3.at(layer(3, "attn_output")).type, T::kQ4_K);
  EXPECT_EQ(q3.at(layer(3, "attn_q")).type, T::kQ3_K);
  EXPECT_EQ(q3.at("output.weight").type, T::kQ6_K);

  // GQA 4 gives attn_v Q4_K; without GQA it is Q3_K.
  const auto q2 = assign(llama_tensors(16), llama_model(16), FileType::kQ2_K);
  EXPECT_EQ(q2.at(layer(5, "attn_v")).type, T::kQ4_K);
  EXPECT_EQ(q2.at(layer(5, "ffn_down")).type, T::kQ3_K);
  EXPECT_EQ(q2.at(layer(5, "attn_output")).type, T::kQ3_K);
  EXPECT_EQ(q2.at(layer(5, "ffn_up")).type, T::kQ2_K);
  const auto q2_mha =
      assign(llama_tensors(16, 2048, 8192, 2048), llama_model(16, 32, 32), FileType::kQ2_K);
  EXPECT_EQ(q2_mha.at(layer(5, "attn_v")).type, T::kQ3_K);
}

TEST(QuantMixture, Q6KAndLegacyTypesPutQ6KOnTheOutputOnly) {
  for (const FileType type :
       {FileType::kQ6_K, FileType::kQ4_0, FileType::kQ4_1, FileType::kQ5_0, FileType::kQ5_1}) {
    const auto types = assign(llama_tensors(4), llama_model(4), type);
    const T base = file_type_info(type).default_type;
    EXPECT_EQ(types.at("output.weight").type, T::kQ6_K) << file_type_info(type).name;
    EXPECT_EQ(types.at("token_embd.weight").type, base);
    EXPECT_EQ(types.at(layer(0, "attn_v")).type, base);
    EXPECT_EQ(types.at(layer(0, "ffn_down")).type, base);
  }
  // Q8_0 keeps Q8_0 for the output too.
  const auto q8 = assign(llama_tensors(4), llama_model(4), FileType::kQ8_0);
  EXPECT_EQ(q8.at("output.weight").type, T::kQ8_0);
}

TEST(QuantMixture, IQ4NLRules) {
  const auto types = assign(llama_tensors(16), llama_model(16), FileType::kIQ4_NL);
  EXPECT_EQ(types.at(layer(3, "attn_v")).type, T::kQ5_K);    // GQA >= 4
  EXPECT_EQ(types.at(layer(1, "ffn_down")).type, T::kQ5_K);  // first eighth
  EXPECT_EQ(types.at(layer(2, "ffn_down")).type, T::kIQ4_NL);
  EXPECT_EQ(types.at(layer(2, "ffn_up")).type, T::kIQ4_NL);
  EXPECT_EQ(types.at("output.weight").type, T::kQ6_K);
}

TEST(QuantMixture, PlainFloatTypesConvertEveryWeight) {
  for (const FileType type : {FileType::kF16, FileType::kBF16, FileType::kAllF32}) {
    const auto types = assign(llama_tensors(2), llama_model(2), type);
    const T base = file_type_info(type).default_type;
    EXPECT_EQ(types.at("output.weight").type, base);
    EXPECT_EQ(types.at("token_embd.weight").type, base);
    EXPECT_EQ(types.at(layer(1, "attn_v")).type, base);
    EXPECT_EQ(types.at(layer(1, "attn_norm")).type, T::kF32);
  }
}

TEST(QuantMixture, TiedEmbeddingsTakeTheOutputRule) {
  const auto types =
      assign(llama_tensors(4, 2048, 8192, 512, /*tied=*/true), llama_model(4), FileType::kQ4_K_M);
  EXPECT_EQ(types.at("token_embd.weight").type, T::kQ6_K);
}

TEST(QuantMixture, PureGivesTheDefaultTypeEverywhere) {
  const auto types = assign(llama_tensors(16), llama_model(16), FileType::kQ4_K_M, {.pure = true});
  EXPECT_EQ(types.at("output.weight").type, T::kQ4_K);
  EXPECT_EQ(types.at(layer(0, "attn_v")).type, T::kQ4_K);
  EXPECT_EQ(types.at(layer(0, "ffn_down")).type, T::kQ4_K);
  EXPECT_EQ(types.at(layer(0, "attn_norm")).type, T::kF32);
}

TEST(QuantMixture, RowLengthsThatDoNotFitFallBack) {
  // Rows of 64: k-quants (256) fall back; the output takes Q8_0 before any fallback.
  const auto k = assign(llama_tensors(2, 64, 128, 32), llama_model(2, 4, 2), FileType::kQ4_K_M);
  EXPECT_EQ(k.at(layer(0, "attn_q")).type, T::kQ5_0);
  EXPECT_TRUE(k.at(layer(0, "attn_q")).fell_back);
  // use_more_bits(i, 2) holds for layer 1 only: Q6_K there, which falls back to Q8_0.
  EXPECT_EQ(k.at(layer(0, "attn_v")).type, T::kQ5_0);
  EXPECT_EQ(k.at(layer(1, "attn_v")).type, T::kQ8_0);
  EXPECT_EQ(k.at(layer(1, "ffn_down")).type, T::kQ8_0);  // rows of 128
  EXPECT_EQ(k.at("output.weight").type, T::kQ8_0);
  EXPECT_FALSE(k.at("output.weight").fell_back);
  const auto q2 = assign(llama_tensors(2, 64, 128, 32), llama_model(2, 4, 2), FileType::kQ2_K);
  EXPECT_EQ(q2.at(layer(0, "attn_q")).type, T::kQ4_0);
  const auto q5 = assign(llama_tensors(2, 64, 128, 32), llama_model(2, 4, 2), FileType::kQ5_K_S);
  EXPECT_EQ(q5.at(layer(0, "attn_q")).type, T::kQ5_1);

  // Rows of 48: no 32-block type fits: k-quants go to F16, legacy types keep F32.
  const auto odd = assign(llama_tensors(2, 48, 96, 48), llama_model(2, 4, 4), FileType::kQ4_K_M);
  EXPECT_EQ(odd.at(layer(0, "attn_q")).type, T::kF16);
  EXPECT_TRUE(odd.at(layer(0, "attn_q")).fell_back);
  const auto legacy = assign(llama_tensors(2, 48, 96, 48), llama_model(2, 4, 4), FileType::kQ8_0);
  EXPECT_EQ(legacy.at(layer(0, "attn_q")).type, T::kF32);
  EXPECT_TRUE(legacy.at(layer(0, "attn_q")).fell_back);
  EXPECT_EQ(legacy.at("output.weight").type, T::kF32);
}

TEST(QuantMixture, OnlyMatricesNamedWeightAreQuantized) {
  EXPECT_TRUE(is_quantizable_tensor({"blk.0.attn_q.weight", T::kF32, {64, 64}}));
  EXPECT_FALSE(is_quantizable_tensor({"blk.0.attn_norm.weight", T::kF32, {64}}));
  EXPECT_FALSE(is_quantizable_tensor({"blk.0.attn_q.weight", T::kF32, {64, 1}}));  // 1-D
  EXPECT_FALSE(is_quantizable_tensor({"blk.0.attn_q.bias", T::kF32, {64, 64}}));
  EXPECT_FALSE(is_quantizable_tensor({"blk.0.ffn_gate_inp.weight", T::kF32, {64, 8}}));
  EXPECT_FALSE(is_quantizable_tensor({"rope_freqs.weight", T::kF32, {32}}));
}

TEST(QuantMixture, FileTypeNamesAndIds) {
  EXPECT_EQ(file_type_from_name("q4_K_M"), FileType::kQ4_K_M);
  EXPECT_EQ(file_type_from_name("Q4_K_M"), FileType::kQ4_K_M);
  EXPECT_EQ(file_type_from_name("q4_k"), FileType::kQ4_K_M);
  EXPECT_EQ(file_type_from_name("Q8_0"), FileType::kQ8_0);
  EXPECT_EQ(file_type_from_name("IQ4_NL"), FileType::kIQ4_NL);
  EXPECT_FALSE(file_type_from_name("q9_0"));
  EXPECT_FALSE(file_type_from_name(""));
  // llama.cpp's LLAMA_FTYPE numbers, as general.file_type stores them.
  EXPECT_EQ(static_cast<int>(FileType::kQ8_0), 7);
  EXPECT_EQ(static_cast<int>(FileType::kQ4_K_M), 15);
  EXPECT_EQ(static_cast<int>(FileType::kIQ4_NL), 25);
  EXPECT_EQ(static_cast<int>(FileType::kBF16), 32);
  EXPECT_EQ(file_type_description(15), "Q4_K - Medium");
  EXPECT_EQ(file_type_description(7), "Q8_0");
  EXPECT_EQ(file_type_description(999), "unknown");
  for (const FileTypeInfo& info : file_types()) {
    EXPECT_EQ(file_type_from_name(info.name), info.type) << info.name;
  }
}

}  // namespace
}  // namespace locara
