// Synthetic models: loadable, shaped as asked, byte-identical for a seed (whatever the
// thread count), typed as the quantizer would type them, and clear errors otherwise.
#include "model/synthetic_model.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "gguf/gguf_writer.h"
#include "model/model.h"
#include "ops/convert_rows.h"

namespace locara {
namespace {

class SyntheticModel : public ::testing::Test {
 protected:
  std::string path(const std::string& name) {
    const std::string p = (std::filesystem::temp_directory_path() /
                           ("locara-synth-test-" + std::to_string(getpid()) + "-" + name))
                              .string();
    paths_.push_back(p);
    return p;
  }
  void TearDown() override {
    for (const std::string& p : paths_) std::filesystem::remove(p);
  }
  static std::string bytes_of(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  // Runs a few tokens through the model; every logit must be finite.
  static void expect_generates(const Model& model) {
    auto cache = model.make_kv_cache(16, KvType::kF16);
    ASSERT_TRUE(cache) << cache.error().message;
    ExecutionContext context(2);
    std::vector<float> logits(static_cast<size_t>(model.hparams().n_vocab));
    const std::vector<int32_t> prompt = {1, 250, 258, 5};
    Status status = model.forward(prompt, 0, *cache, context, logits);
    ASSERT_TRUE(status) << status.error().message;
    const int32_t next = 7;
    status = model.forward({&next, 1}, 4, *cache, context, logits);
    ASSERT_TRUE(status) << status.error().message;
    for (const float logit : logits) ASSERT_TRUE(std::isfinite(logit));
  }

  std::vector<std::string> paths_;
};

SyntheticModelShape small_shape() {
  SyntheticModelShape shape;
  shape.n_embd = 64;
  shape.n_layer = 3;
  shape.n_head = 4;
  shape.n_head_kv = 2;
  shape.n_ff = 96;
  shape.n_vocab = 300;
  shape.n_ctx_train = 256;
  shape.seed = 7;
  return shape;
}

TEST_F(SyntheticModel, HyperparametersMatchTheShape) {
  const SyntheticModelShape shape = small_shape();
  const std::string file = path("shape.gguf");
  ASSERT_TRUE(write_synthetic_llama(shape, file));
  auto model = load_model(file);
  ASSERT_TRUE(model) << model.error().message;
  const ModelHParams& hp = (*model)->hparams();
  EXPECT_EQ(hp.n_embd, 64);
  EXPECT_EQ(hp.n_layer, 3);
  EXPECT_EQ(hp.n_head, 4);
  EXPECT_EQ(hp.n_head_kv, 2);
  EXPECT_EQ(hp.n_ff, 96);
  EXPECT_EQ(hp.n_vocab, 300);
  EXPECT_EQ(hp.n_ctx_train, 256);
  auto file_type = (*model)->gguf().get_int("general.file_type");
  ASSERT_TRUE(file_type);
  EXPECT_EQ(*file_type, 0);  // all F32
  expect_generates(**model);
}

TEST_F(SyntheticModel, SameSeedSameBytesWhateverTheThreads) {
  SyntheticModelOptions one_thread;
  one_thread.file_type = FileType::kQ8_0;
  one_thread.n_threads = 1;
  SyntheticModelOptions three_threads = one_thread;
  three_threads.n_threads = 3;
  const std::string a = path("a.gguf"), b = path("b.gguf"), c = path("c.gguf");
  ASSERT_TRUE(write_synthetic_llama(small_shape(), one_thread, a));
  ASSERT_TRUE(write_synthetic_llama(small_shape(), three_threads, b));
  EXPECT_EQ(bytes_of(a), bytes_of(b));
  SyntheticModelShape other = small_shape();
  other.seed = 8;
  ASSERT_TRUE(write_synthetic_llama(other, one_thread, c));
  const std::string bytes_a = bytes_of(a), bytes_c = bytes_of(c);
  ASSERT_EQ(bytes_a.size(), bytes_c.size());  // same layout, different weights
  EXPECT_NE(bytes_a, bytes_c);
}

TEST_F(SyntheticModel, LargeTensorsFromTheBlockPoolAreDeterministicAndWork) {
  // token_embd and output have 256 x 16400 > 4M elements: assembled from the pool.
  SyntheticModelShape shape = small_shape();
  shape.n_embd = 256;
  shape.n_head = 2;
  shape.n_head_kv = 1;
  shape.n_ff = 256;
  shape.n_layer = 1;
  shape.n_vocab = 16400;
  SyntheticModelOptions options;
  options.file_type = FileType::kQ4_K_M;
  options.n_threads = 1;
  const std::string a = path("pool-a.gguf"), b = path("pool-b.gguf");
  ASSERT_TRUE(write_synthetic_llama(shape, options, a));
  options.n_threads = 3;
  ASSERT_TRUE(write_synthetic_llama(shape, options, b));
  EXPECT_EQ(bytes_of(a), bytes_of(b));
  auto model = load_model(a);
  ASSERT_TRUE(model) << model.error().message;
  const GgufTensor* output = (*model)->gguf().find_tensor("output.weight");
  ASSERT_NE(output, nullptr);
  EXPECT_EQ(output->type, TensorType::kQ6_K);
  // Rows differ: the blocks are picked per place, not repeated row by row.
  const size_t row_bytes = output->n_bytes / 16400;
  EXPECT_NE(std::memcmp(output->data, output->data + row_bytes, row_bytes), 0);
  EXPECT_NE(std::memcmp(output->data, output->data + 9000 * row_bytes, row_bytes), 0);
  expect_generates(**model);
}

TEST_F(SyntheticModel, WeightsAreUniformWithinOneOverSqrtFanIn) {
  const std::string file = path("range.gguf");
  ASSERT_TRUE(write_synthetic_llama(small_shape(), file));
  auto model = load_model(file);
  ASSERT_TRUE(model);
  const GgufTensor* down = (*model)->gguf().find_tensor("blk.0.ffn_down.weight");
  ASSERT_NE(down, nullptr);
  const auto* values = reinterpret_cast<const float*>(down->data);
  const double bound = 1.0 / std::sqrt(96.0);
  double sum = 0, largest = 0;
  for (int64_t i = 0; i < down->n_elements(); ++i) {
    sum += values[i];
    largest = std::max(largest, std::fabs(double(values[i])));
  }
  EXPECT_LE(largest, bound);
  EXPECT_GT(largest, 0.9 * bound);
  EXPECT_LT(std::fabs(sum / down->n_elements()), 0.05 * bound);
  const GgufTensor* norm = (*model)->gguf().find_tensor("blk.0.attn_norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(reinterpret_cast<const float*>(norm->data)[5], 1.0f);
}

TEST_F(SyntheticModel, EverySupportedFileTypeLoadsAndGenerates) {
  // Rows of 256 so that k-quants and their mixtures apply without fallbacks; small
  // otherwise, since reference quantization (IQ4_NL's search above all) is slow.
  SyntheticModelShape shape = small_shape();
  shape.n_embd = 256;
  shape.n_head = 2;
  shape.n_head_kv = 1;
  shape.n_ff = 256;
  shape.n_layer = 1;
  shape.n_vocab = 259;
  int written = 0;
  for (const FileTypeInfo& info : file_types()) {
    SyntheticModelOptions options;
    options.file_type = info.type;
    options.n_threads = 2;
    const std::string file = path(std::string(info.name) + ".gguf");
    const Status status = write_synthetic_llama(shape, options, file);
    if (!status) {
      // Only a type without kernels yet may refuse, and it must say so.
      EXPECT_EQ(status.error().code, ErrorCode::kUnsupported) << info.name;
      EXPECT_NE(status.error().message.find("not supported yet"), std::string::npos)
          << status.error().message;
      EXPECT_FALSE(std::filesystem::exists(file));
      continue;
    }
    ++written;
    auto model = load_model(file);
    ASSERT_TRUE(model) << info.name << ": " << model.error().message;
    auto file_type = (*model)->gguf().get_int("general.file_type");
    ASSERT_TRUE(file_type);
    EXPECT_EQ(*file_type, static_cast<int64_t>(info.type));
    const GgufTensor* q = (*model)->gguf().find_tensor("blk.0.attn_q.weight");
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->type, info.default_type) << info.name;
    expect_generates(**model);
  }
  // At least the types whose tensors all had kernels from the start: f32, f16, bf16 and
  // q8_0 (the other legacy types want Q6_K for output.weight, as in llama.cpp).
  EXPECT_GE(written, 4);
}

TEST_F(SyntheticModel, PureTypesEveryWeightTheSame) {
  SyntheticModelOptions options;
  options.file_type = FileType::kQ4_0;
  options.pure = true;
  const std::string file = path("pure.gguf");
  ASSERT_TRUE(write_synthetic_llama(small_shape(), options, file));
  auto model = load_model(file);
  ASSERT_TRUE(model) << model.error().message;
  for (const GgufTensor& tensor : (*model)->gguf().tensors()) {
    EXPECT_EQ(tensor.type, tensor.dims.size() == 1 ? TensorType::kF32 : TensorType::kQ4_0)
        << tensor.name;
  }
}

TEST_F(SyntheticModel, InconsistentShapesAreErrors) {
  SyntheticModelShape shape = small_shape();
  shape.n_vocab = 100;
  Status status = write_synthetic_llama(shape, path("bad.gguf"));
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("vocab 100"), std::string::npos);
  shape = small_shape();
  shape.n_head = 5;  // does not divide 64
  EXPECT_FALSE(write_synthetic_llama(shape, path("bad.gguf")));
  shape = small_shape();
  shape.n_head_kv = 3;  // does not divide 4
  EXPECT_FALSE(write_synthetic_llama(shape, path("bad.gguf")));
  EXPECT_FALSE(std::filesystem::exists(path("bad.gguf")));
  EXPECT_FALSE(write_synthetic_llama(small_shape(), "/nonexistent-dir/model.gguf"));
}

TEST_F(SyntheticModel, TypesWithoutKernelsAreReportedAsNotSupportedYet) {
  // No file type we offer lacks kernels now; the streaming layer below them still refuses
  // a type without a quantizer (IQ2_XXS) before writing anything.
  GgufWriter writer;
  writer.set_string("general.architecture", "llama");
  const std::string file = path("iq2.gguf");
  StreamedTensor tensor{
      "w", {256, 2}, TensorType::kIQ2_XXS, {}, [](int64_t, int64_t, float*, ops::ThreadPool&) {},
      {}};
  ops::ThreadPool pool(1);
  const Status status = write_streamed_model(writer, {&tensor, 1}, file, pool);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(status.error().message.find("not supported yet"), std::string::npos);
  EXPECT_NE(status.error().message.find("iq2_xxs"), std::string::npos) << status.error().message;
  EXPECT_FALSE(std::filesystem::exists(file));
}

}  // namespace
}  // namespace locara
