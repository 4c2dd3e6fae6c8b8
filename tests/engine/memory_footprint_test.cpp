// Weights stay file-backed: while generating, the process's anonymous memory grows by
// the KV cache and scratch, not by the weights (read from /proc/self/smaps_rollup).
#include "platform/memory_footprint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "engine/session.h"
#include "model/synthetic_model.h"

namespace locara {
namespace {

TEST(MemoryFootprint, WeightsAreMappedNotAnonymous) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("locara-footprint-test-" + std::to_string(getpid()) + ".gguf"))
                               .string();
  SyntheticModelShape shape;
  shape.n_embd = 512;
  shape.n_layer = 4;
  shape.n_head = 8;
  shape.n_head_kv = 4;
  shape.n_ff = 1536;
  shape.n_vocab = 2048;  // ~64 MiB of F32 weights
  ASSERT_TRUE(write_synthetic_llama(shape, path));

  auto before = read_process_footprint();
  ASSERT_TRUE(before) << before.error().message;
  auto loaded = LoadedModel::load(path);
  ASSERT_TRUE(loaded) << loaded.error().message;
  const uint64_t weights = (*loaded)->model->gguf().total_tensor_bytes();
  ASSERT_GT(weights, 50u << 20);

  SessionOptions options;
  options.n_ctx = 256;
  options.n_threads = 2;
  auto session = Session::create(*loaded, options);
  ASSERT_TRUE(session);
  GenerationOptions generation;
  generation.max_tokens = 16;
  generation.sampling.temperature = 0.0f;
  Expected<ProcessFootprint> during = make_error(ErrorCode::kInternal, "not sampled");
  const auto prompt = (*session)->tokenize("the mapped weights");
  auto result = (*session)->generate(prompt, generation, [&](const TokenEvent&) {
    during = read_process_footprint();
    return true;
  });
  ASSERT_TRUE(result) << result.error().message;
  ASSERT_TRUE(during) << during.error().message;

  const uint64_t anon_growth =
      during->anonymous_bytes - std::min(during->anonymous_bytes, before->anonymous_bytes);
  const uint64_t engine_state = (*session)->kv_bytes() + (*session)->scratch_bytes();
  // Allocator and thread-stack slack on top of KV + scratch, far below the weights.
  const uint64_t slack = 16u << 20;
  EXPECT_LE(anon_growth, engine_state + slack)
      << "anonymous memory grew by " << anon_growth << " bytes; KV+scratch is " << engine_state;
  EXPECT_LT(anon_growth, weights / 2);
  // The weights the forward pass touched are resident as file-backed pages.
  EXPECT_GE(during->file_bytes - std::min(during->file_bytes, before->file_bytes),
            weights * 9 / 10);
  std::printf(
      "weights %.1f MiB mapped; while generating: anonymous +%.2f MiB (KV %.2f MiB + scratch "
      "%.2f MiB), file-backed +%.1f MiB\n",
      weights / 1048576.0, anon_growth / 1048576.0, (*session)->kv_bytes() / 1048576.0,
      (*session)->scratch_bytes() / 1048576.0,
      (during->file_bytes - std::min(during->file_bytes, before->file_bytes)) / 1048576.0);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace locara
