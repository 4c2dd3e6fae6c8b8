// `quantize_model`: a synthetic F32 model converted to every file type loads, generates,
// keeps its metadata and has the planned tensor types; misuse gives clear errors.
#include "model/model_quantizer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "model/model.h"
#include "model/synthetic_model.h"

namespace locara {
namespace {

class ModelQuantizer : public ::testing::Test {
 protected:
  static std::string temp(const std::string& name) {
    return (std::filesystem::temp_directory_path() /
            ("locara-quantize-test-" + std::to_string(getpid()) + "-" + name))
        .string();
  }
  static void SetUpTestSuite() {
    // Rows of 256 (k-quants apply), otherwise as small as a llama gets.
    SyntheticModelShape shape;
    shape.n_embd = 256;
    shape.n_layer = 1;
    shape.n_head = 2;
    shape.n_head_kv = 1;
    shape.n_ff = 256;
    shape.n_vocab = 259;
    source_ = temp("source-f32.gguf");
    ASSERT_TRUE(write_synthetic_llama(shape, source_));
  }
  static void TearDownTestSuite() { std::filesystem::remove(source_); }
  void TearDown() override {
    for (const std::string& p : outputs_) std::filesystem::remove(p);
  }
  std::string output(const std::string& name) {
    outputs_.push_back(temp(name));
    return outputs_.back();
  }

  static inline std::string source_;
  std::vector<std::string> outputs_;
};

TEST_F(ModelQuantizer, EveryFileTypeLoadsGeneratesAndFollowsThePlan) {
  auto source = GgufReader::open(source_);
  ASSERT_TRUE(source);
  int written = 0;
  for (const FileTypeInfo& info : file_types()) {
    QuantizeOptions options;
    options.file_type = info.type;
    options.n_threads = 2;
    const std::string out = output(std::string(info.name) + ".gguf");
    auto report = quantize_model(source_, out, options);
    if (!report) {
      EXPECT_EQ(report.error().code, ErrorCode::kUnsupported) << report.error().message;
      EXPECT_NE(report.error().message.find("not supported yet"), std::string::npos);
      EXPECT_FALSE(std::filesystem::exists(out));
      continue;
    }
    ++written;
    auto plan = plan_quantization(**source, options);
    ASSERT_TRUE(plan);
    auto model = load_model(out);
    ASSERT_TRUE(model) << info.name << ": " << model.error().message;
    const GgufReader& gguf = (*model)->gguf();
    ASSERT_EQ(gguf.tensors().size(), plan->tensors.size());
    uint64_t total = 0;
    for (size_t i = 0; i < gguf.tensors().size(); ++i) {
      EXPECT_EQ(gguf.tensors()[i].name, plan->tensors[i].name);
      EXPECT_EQ(gguf.tensors()[i].type, plan->tensors[i].to) << gguf.tensors()[i].name;
      EXPECT_EQ(gguf.tensors()[i].n_bytes, plan->tensors[i].bytes_after);
      total += gguf.tensors()[i].n_bytes;
    }
    EXPECT_EQ(total, report->bytes_after);
    // Metadata copied, file type set as llama.cpp numbers it.
    auto file_type = gguf.get_int("general.file_type");
    ASSERT_TRUE(file_type);
    EXPECT_EQ(*file_type, static_cast<int64_t>(info.type));
    EXPECT_EQ(gguf.get_string("general.name").value(), "locara-synthetic");
    ASSERT_NE(gguf.get_array("tokenizer.ggml.tokens"), nullptr);
    EXPECT_EQ(gguf.get_array("tokenizer.ggml.tokens")->elements.size(), 259u);

    auto cache = (*model)->make_kv_cache(8, KvType::kF16);
    ASSERT_TRUE(cache);
    ExecutionContext context(2);
    std::vector<float> logits(259);
    const std::vector<int32_t> prompt = {1, 100, 200};
    ASSERT_TRUE((*model)->forward(prompt, 0, *cache, context, logits)) << info.name;
    for (const float logit : logits) ASSERT_TRUE(std::isfinite(logit)) << info.name;
  }
  EXPECT_GE(written, 4);  // f32, f16, bf16, q8_0 at least (see the synthetic model test)
}

TEST_F(ModelQuantizer, Q8ZeroStaysCloseToTheFloats) {
  QuantizeOptions options;
  options.file_type = FileType::kQ8_0;
  const std::string out = output("close.gguf");
  ASSERT_TRUE(quantize_model(source_, out, options));
  auto before = GgufReader::open(source_);
  auto after = GgufReader::open(out);
  ASSERT_TRUE(before && after);
  const GgufTensor* f32 = (*before)->find_tensor("blk.0.ffn_up.weight");
  const GgufTensor* q8 = (*after)->find_tensor("blk.0.ffn_up.weight");
  ASSERT_TRUE(f32 && q8);
  ASSERT_EQ(q8->type, TensorType::kQ8_0);
  // Block 0: quantized with the step max|x| / 127, so every value is within half a step.
  const auto* x = reinterpret_cast<const float*>(f32->data);
  float max_abs = 0;
  for (int i = 0; i < 32; ++i) max_abs = std::max(max_abs, std::fabs(x[i]));
  const auto* q = reinterpret_cast<const int8_t*>(q8->data + 2);
  const float step = max_abs / 127.0f;
  for (int i = 0; i < 32; ++i) EXPECT_NEAR(q[i] * step, x[i], 0.51f * step + 1e-6f) << i;
}

TEST_F(ModelQuantizer, RequantizingNeedsTheFlag) {
  QuantizeOptions to_q8;
  to_q8.file_type = FileType::kQ8_0;
  const std::string q8 = output("q8.gguf");
  ASSERT_TRUE(quantize_model(source_, q8, to_q8));

  QuantizeOptions to_f16;
  to_f16.file_type = FileType::kF16;
  const std::string out = output("requant.gguf");
  auto refused = quantize_model(q8, out, to_f16);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("--allow-requantize"), std::string::npos)
      << refused.error().message;
  EXPECT_FALSE(std::filesystem::exists(out));
  to_f16.allow_requantize = true;
  auto done = quantize_model(q8, out, to_f16);
  ASSERT_TRUE(done) << done.error().message;
  // Same type in and out is a copy, not a requantization.
  auto copied = quantize_model(q8, output("copy.gguf"), to_q8);
  ASSERT_TRUE(copied) << copied.error().message;
  EXPECT_EQ(copied->bytes_before, copied->bytes_after);
}

TEST_F(ModelQuantizer, BadPathsAreErrors) {
  QuantizeOptions options;
  auto missing = quantize_model("/nonexistent/model.gguf", output("x.gguf"), options);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("/nonexistent/model.gguf"), std::string::npos);

  auto same = quantize_model(source_, source_, options);
  ASSERT_FALSE(same);
  EXPECT_NE(same.error().message.find("overwrite the input"), std::string::npos);

  auto unwritable = quantize_model(source_, "/nonexistent-dir/out.gguf", options);
  ASSERT_FALSE(unwritable);
  EXPECT_EQ(unwritable.error().code, ErrorCode::kIoError);
}

TEST_F(ModelQuantizer, ProgressReachesEveryTensor) {
  QuantizeOptions options;
  options.file_type = FileType::kF16;
  size_t calls = 0;
  uint64_t last_done = 0, total = 0;
  options.on_progress = [&](const TensorProgress& p) {
    EXPECT_EQ(p.tensor_index, calls);
    EXPECT_GE(p.bytes_done, last_done);
    last_done = p.bytes_done;
    total = p.bytes_total;
    ++calls;
  };
  auto report = quantize_model(source_, output("progress.gguf"), options);
  ASSERT_TRUE(report);
  EXPECT_EQ(calls, report->tensors.size());
  EXPECT_EQ(last_done, total);
  EXPECT_EQ(total, report->bytes_after);
}

}  // namespace
}  // namespace locara
