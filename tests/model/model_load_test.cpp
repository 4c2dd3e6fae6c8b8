// Loading models: hyperparameters from metadata, clear errors for missing keys, wrong
// shapes and unsupported architectures, and forward-pass argument checks.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "gguf/gguf_writer.h"
#include "model/model.h"
#include "model/synthetic_model.h"

namespace locara {
namespace {

// ctest runs tests as parallel processes: names carry the process id.
std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("locara-model-test-" + std::to_string(getpid()) + "-" + name))
      .string();
}

// Rewrites a GGUF file keeping everything except the metadata keys and tensors
// for which drop() is true, and applying edit() to the writer before writing.
template <typename Drop, typename Edit>
std::string rewrite(const std::string& source, const std::string& name, Drop drop, Edit edit) {
  auto reader = GgufReader::open(source);
  EXPECT_TRUE(reader);
  GgufWriter writer;
  for (const auto& [key, value] : (*reader)->metadata()) {
    if (!drop(key)) writer.set(key, value);
  }
  for (const GgufTensor& t : (*reader)->tensors()) {
    if (drop(t.name)) continue;
    EXPECT_TRUE(writer.add_tensor(t.name, t.type, t.dims, {t.data, t.n_bytes}));
  }
  edit(writer);
  const std::string path = temp_path(name);
  EXPECT_TRUE(writer.write(path));
  return path;
}

class ModelLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = temp_path("base.gguf");
    ASSERT_TRUE(write_synthetic_llama(SyntheticModelShape{}, base_));
  }
  void TearDown() override { std::filesystem::remove(base_); }
  std::string base_;
};

TEST_F(ModelLoad, ReadsHyperparametersFromMetadata) {
  auto model = load_model(base_);
  ASSERT_TRUE(model) << model.error().message;
  const ModelHParams& hp = (*model)->hparams();
  const SyntheticModelShape shape;
  EXPECT_EQ(hp.architecture, "llama");
  EXPECT_EQ(hp.n_embd, shape.n_embd);
  EXPECT_EQ(hp.n_layer, shape.n_layer);
  EXPECT_EQ(hp.n_head, shape.n_head);
  EXPECT_EQ(hp.n_head_kv, shape.n_head_kv);
  EXPECT_EQ(hp.n_ff, shape.n_ff);
  EXPECT_EQ(hp.n_vocab, shape.n_vocab);
  EXPECT_EQ(hp.head_dim, shape.n_embd / shape.n_head);
  EXPECT_EQ(hp.n_rot, hp.head_dim);
  EXPECT_FLOAT_EQ(hp.rope_freq_base, 10000.0f);
}

TEST_F(ModelLoad, Stories260KHyperparameters) {
  auto model = load_model(std::string(LOCARA_SHARED_DIR) + "/models/stories260K.gguf");
  ASSERT_TRUE(model) << model.error().message;
  const ModelHParams& hp = (*model)->hparams();
  EXPECT_EQ(hp.n_embd, 64);
  EXPECT_EQ(hp.n_layer, 5);
  EXPECT_EQ(hp.n_head, 8);
  EXPECT_EQ(hp.n_head_kv, 4);
  EXPECT_EQ(hp.n_ff, 172);
  EXPECT_EQ(hp.n_vocab, 512);
  EXPECT_EQ(hp.n_ctx_train, 128);  // llama.context_length in the file (the goldens use -c 512)
}

TEST_F(ModelLoad, MissingKeyIsNamed) {
  const std::string path = rewrite(
      base_, "nokey.gguf", [](const std::string& k) { return k == "llama.block_count"; },
      [](GgufWriter&) {});
  auto model = load_model(path);
  ASSERT_FALSE(model);
  EXPECT_NE(model.error().message.find("llama.block_count"), std::string::npos)
      << model.error().message;
  std::filesystem::remove(path);
}

TEST_F(ModelLoad, UnsupportedArchitectureIsNamed) {
  const std::string path = rewrite(
      base_, "arch.gguf", [](const std::string&) { return false; },
      [](GgufWriter& w) { w.set_string("general.architecture", "mamba"); });
  auto model = load_model(path);
  ASSERT_FALSE(model);
  EXPECT_EQ(model.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(model.error().message.find("'mamba'"), std::string::npos) << model.error().message;
  std::filesystem::remove(path);
}

TEST_F(ModelLoad, MissingTensorIsNamed) {
  const std::string path = rewrite(
      base_, "notensor.gguf", [](const std::string& k) { return k == "blk.1.ffn_up.weight"; },
      [](GgufWriter&) {});
  auto model = load_model(path);
  ASSERT_FALSE(model);
  EXPECT_NE(model.error().message.find("blk.1.ffn_up.weight"), std::string::npos);
  std::filesystem::remove(path);
}

TEST_F(ModelLoad, WrongShapeIsNamed) {
  const std::string path = rewrite(
      base_, "shape.gguf", [](const std::string& k) { return k == "llama.feed_forward_length"; },
      [](GgufWriter& w) { w.set_uint32("llama.feed_forward_length", 100); });
  auto model = load_model(path);
  ASSERT_FALSE(model);
  EXPECT_NE(model.error().message.find("blk.0.ffn_gate.weight"), std::string::npos)
      << model.error().message;
  std::filesystem::remove(path);
}

TEST_F(ModelLoad, ForwardRejectsBadArguments) {
  auto model = load_model(base_);
  ASSERT_TRUE(model);
  const ModelHParams& hp = (*model)->hparams();
  KvCache cache = *(*model)->make_kv_cache(8, KvType::kF16);
  ExecutionContext context(1);
  std::vector<float> logits(hp.n_vocab);
  const int32_t bad_token[] = {static_cast<int32_t>(hp.n_vocab)};
  EXPECT_FALSE((*model)->forward(bad_token, 0, cache, context, logits));
  const int32_t token[] = {5};
  EXPECT_FALSE((*model)->forward(token, 8, cache, context, logits));  // past the context
  std::vector<float> small(hp.n_vocab - 1);
  EXPECT_FALSE((*model)->forward(token, 0, cache, context, small));
  EXPECT_TRUE((*model)->forward(token, 0, cache, context, logits));
}

// A prompt decoded as one batch gives the same logits as token by token.
TEST_F(ModelLoad, BatchedPrefillEqualsTokenByToken) {
  auto model = load_model(base_);
  ASSERT_TRUE(model);
  const ModelHParams& hp = (*model)->hparams();
  const std::vector<int32_t> prompt = {1, 300, 301, 302, 400, 401, 260, 270, 280};
  ExecutionContext context(2);

  KvCache batched = *(*model)->make_kv_cache(32, KvType::kF32);
  std::vector<float> all(prompt.size() * hp.n_vocab);
  ASSERT_TRUE((*model)->forward(prompt, 0, batched, context, all, /*all_logits=*/true));

  KvCache stepwise = *(*model)->make_kv_cache(32, KvType::kF32);
  std::vector<float> logits(hp.n_vocab);
  for (size_t t = 0; t < prompt.size(); ++t) {
    ASSERT_TRUE(
        (*model)->forward({&prompt[t], 1}, static_cast<int64_t>(t), stepwise, context, logits));
    for (int64_t v = 0; v < hp.n_vocab; ++v) {
      ASSERT_NEAR(logits[v], all[t * hp.n_vocab + v], 1e-4) << "token " << t << " logit " << v;
    }
  }
}

}  // namespace
}  // namespace locara
