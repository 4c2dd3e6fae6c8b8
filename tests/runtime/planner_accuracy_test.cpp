// The planner against reality (DESIGN.md: within 10% of the measured footprint). For each
// model, context and KV type: load, open a Session, generate, and compare the plan with what
// the kernel charges the process (/proc/self/smaps_rollup): file-backed growth against the
// weights, anonymous growth against KV + scratch + metadata + overhead.
#include <gtest/gtest.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <vector>

#include "engine/session.h"
#include "model/synthetic_model.h"
#include "platform/memory_footprint.h"
#include "runtime/planner.h"

#if defined(__SANITIZE_ADDRESS__)
#define LOCARA_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOCARA_UNDER_ASAN 1
#endif
#endif

namespace locara {
namespace {

#ifdef LOCARA_UNDER_ASAN
// ASan's allocator adds redzones and keeps freed memory in quarantine: anonymous growth
// then measures the sanitizer, not the engine. The exact checks still run, on one context
// size of the larger model (its unoptimised forward passes are slow).
constexpr bool kMeasureAnonymous = false;
constexpr int64_t kSyntheticContexts[] = {256};
#else
constexpr bool kMeasureAnonymous = true;
constexpr int64_t kSyntheticContexts[] = {256, 1024};
#endif

constexpr int kThreads = 2;
constexpr int64_t kBatch = 64;  // the prompt is one full batch: scratch reaches its plan

struct Row {
  std::string model;
  int64_t n_ctx = 0;
  KvType kv = KvType::kF16;
  Plan plan;
  uint64_t measured_kv = 0;       // Session::kv_bytes()
  uint64_t measured_scratch = 0;  // Session::scratch_bytes() (capacities)
  uint64_t file_growth = 0;
  uint64_t anon_growth = 0;
};

// Returns freed heap pages to the OS so a baseline does not hide the next allocation.
void settle_heap() {
#ifndef LOCARA_UNDER_ASAN
  malloc_trim(0);
#endif
}

// Loads `path`, generates from a one-batch prompt, and measures while the last token is out.
Row measure(const std::string& label, const std::string& path, int64_t n_ctx, KvType kv) {
  Row row;
  row.model = label;
  row.n_ctx = n_ctx;
  row.kv = kv;
  {
    auto gguf = GgufReader::open(path);
    EXPECT_TRUE(gguf);
    if (!gguf) return row;
    PlanConfig config;
    config.n_ctx = n_ctx;
    config.kv_type = kv;
    config.batch_size = kBatch;
    config.n_threads = kThreads;
    auto plan = plan_memory(**gguf, config);
    EXPECT_TRUE(plan) << plan.error().message;
    if (!plan) return row;
    row.plan = *plan;
  }  // the planner's reader is unmapped before the baseline

  settle_heap();
  auto before = read_process_footprint();
  EXPECT_TRUE(before) << before.error().message;
  auto loaded = LoadedModel::load(path);
  EXPECT_TRUE(loaded) << loaded.error().message;
  if (!loaded || !before) return row;
  SessionOptions options;
  options.n_ctx = n_ctx;
  options.kv_type = kv;
  options.n_threads = kThreads;
  options.max_batch = kBatch;
  auto session = Session::create(*loaded, options);
  EXPECT_TRUE(session) << session.error().message;
  if (!session) return row;

  // A prompt of exactly one batch: BOS, then ordinary tokens.
  const int32_t n_vocab = (*loaded)->tokenizer->n_vocab();
  std::vector<int32_t> prompt(kBatch);
  prompt[0] = 1;
  for (int64_t i = 1; i < kBatch; ++i)
    prompt[i] = static_cast<int32_t>(259 + (i * 7) % (n_vocab - 259));
  GenerationOptions generation;
  generation.max_tokens = 4;
  generation.ignore_eos = true;
  generation.sampling.temperature = 0.0f;
  Expected<ProcessFootprint> during = make_error(ErrorCode::kInternal, "not sampled");
  int tokens = 0;
  auto result = (*session)->generate(prompt, generation, [&](const TokenEvent&) {
    if (++tokens == generation.max_tokens) during = read_process_footprint();
    return true;
  });
  EXPECT_TRUE(result) << result.error().message;
  EXPECT_TRUE(during) << during.error().message;
  if (!result || !during) return row;
  row.measured_kv = (*session)->kv_bytes();
  row.measured_scratch = (*session)->scratch_bytes();
  row.file_growth = during->file_bytes - std::min(during->file_bytes, before->file_bytes);
  row.anon_growth =
      during->anonymous_bytes - std::min(during->anonymous_bytes, before->anonymous_bytes);
  return row;
}

double ratio(uint64_t measured, uint64_t predicted) {
  return predicted == 0 ? 0.0 : static_cast<double>(measured) / static_cast<double>(predicted);
}

void print_table(const std::vector<Row>& rows) {
  std::printf("%-12s %5s %5s | %9s %9s %6s | %9s %9s | %9s %9s | %9s %9s %6s\n", "model", "ctx",
              "kv", "weights", "file+", "ratio", "kv plan", "kv real", "scr plan", "scr real",
              "anon plan", "anon+", "ratio");
  for (const Row& r : rows) {
    const double kib = 1024.0;
    std::printf(
        "%-12s %5lld %5s | %8.0fK %8.0fK %6.3f | %8.0fK %8.0fK | %8.0fK %8.0fK | %8.0fK %8.0fK "
        "%6.3f\n",
        r.model.c_str(), static_cast<long long>(r.n_ctx), std::string(kv_type_name(r.kv)).c_str(),
        r.plan.weight_bytes() / kib, r.file_growth / kib,
        ratio(r.file_growth, r.plan.weight_bytes()), r.plan.kv_bytes() / kib, r.measured_kv / kib,
        r.plan.scratch_bytes() / kib, r.measured_scratch / kib, r.plan.anonymous_bytes() / kib,
        r.anon_growth / kib, ratio(r.anon_growth, r.plan.anonymous_bytes()));
  }
}

// A first load and generation, so the code pages and allocator arenas every run touches are
// resident before any baseline.
void warm_up(const std::string& path) {
  (void)measure("warm-up", path, 2 * kBatch, KvType::kF16);
}

TEST(PlannerAccuracy, Stories260K) {
  const std::string path = std::string(LOCARA_SHARED_DIR) + "/models/stories260K.gguf";
  warm_up(path);
  std::vector<Row> rows;
  for (int64_t n_ctx : {256, 1024}) {
    // stories260K's heads (8 values) cannot hold q8_0 blocks: the runtime uses f16 there.
    for (KvType kv : {KvType::kF32, KvType::kF16}) {
      const Row r = measure("stories260K", path, n_ctx, kv);
      // Weights: the plan is the tensor bytes, and the forward pass maps all of them.
      EXPECT_EQ(r.plan.weight_bytes(), GgufReader::open(path).value()->total_tensor_bytes());
      EXPECT_NEAR(ratio(r.file_growth, r.plan.weight_bytes()), 1.0, 0.10);
      // KV: exactly what the cache allocates.
      EXPECT_EQ(r.plan.kv_bytes(), r.measured_kv);
      rows.push_back(r);
    }
  }
  print_table(rows);
}

TEST(PlannerAccuracy, SyntheticMidSizeModel) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("locara-planner-accuracy-" + std::to_string(getpid()) + ".gguf"))
                               .string();
  SyntheticModelShape shape;
  shape.n_embd = 512;
  shape.n_layer = 4;
  shape.n_head = 8;
  shape.n_head_kv = 4;  // head_dim 64: q8_0 blocks fit
  shape.n_ff = 1536;
  shape.n_vocab = 2048;
  shape.n_ctx_train = 2048;
  ASSERT_TRUE(write_synthetic_llama(shape, path));
  if (kMeasureAnonymous) warm_up(path);

  std::vector<Row> rows;
  for (int64_t n_ctx : kSyntheticContexts) {
    for (KvType kv : {KvType::kF32, KvType::kF16, KvType::kQ8_0}) {
      const Row r = measure("synthetic", path, n_ctx, kv);
      EXPECT_EQ(r.plan.kv_bytes(), r.measured_kv);
      EXPECT_NEAR(ratio(r.file_growth, r.plan.weight_bytes()), 1.0, 0.10);
      // The engine's own count of its scratch (capacities; its attention scores have grown
      // only to the prompt, not the whole context).
      EXPECT_NEAR(ratio(r.measured_scratch + r.plan.model.scratch_per_sequence.sampler,
                        r.plan.scratch_bytes()),
                  1.0, 0.10);
      if (kMeasureAnonymous) {
        EXPECT_NEAR(ratio(r.anon_growth, r.plan.anonymous_bytes()), 1.0, 0.10)
            << "n_ctx " << n_ctx << ", KV " << kv_type_name(kv);
      }
      rows.push_back(r);
    }
  }
  print_table(rows);
  std::filesystem::remove(path);
}

// The target: a Llama-3.2-1B-like model (hidden 2048, 16 layers, 32 query and 8 KV
// heads of 64, FFN 8192, 32k vocabulary) in q8_0, as `locara synth --shape
// 2048,16,32,8,8192 --vocab 32000 --type q8_0` writes it: 1.1 GiB of disk and page cache,
// written once per test process. In Release on 2 cores writing, loading and measuring it
// takes about 20 s; under a sanitizer (minutes) the same proportions run at a quarter of
// the width, depth and vocabulary (head size, query-to-KV head ratio and FFN ratio kept).
SyntheticModelShape llama_1b_shape() {
  SyntheticModelShape shape;
  const bool full = kMeasureAnonymous;
  shape.n_embd = full ? 2048 : 512;
  shape.n_layer = full ? 16 : 4;
  shape.n_head = full ? 32 : 8;
  shape.n_head_kv = full ? 8 : 2;
  shape.n_ff = 4 * shape.n_embd;
  shape.n_vocab = full ? 32000 : 8000;
  shape.n_ctx_train = 2048;
  return shape;
}

// The synthesized file, written on first use and removed when the process exits.
const std::string& llama_1b_path() {
  struct TempModel {
    std::string path = (std::filesystem::temp_directory_path() /
                        ("locara-planner-1b-" + std::to_string(getpid()) + ".gguf"))
                           .string();
    Status written = [this] {
      SyntheticModelOptions options;
      options.file_type = FileType::kQ8_0;
      options.n_threads = kThreads;
      return write_synthetic_llama(llama_1b_shape(), options, path);
    }();
    ~TempModel() { std::filesystem::remove(path); }
  };
  static const TempModel model;
  EXPECT_TRUE(model.written) << model.written.error().message;
  return model.path;
}

TEST(PlannerAccuracy, Llama1BShapedModelInQ8_0) {
  const SyntheticModelShape shape = llama_1b_shape();
  const std::string& path = llama_1b_path();
  ASSERT_TRUE(std::filesystem::exists(path));
  if (kMeasureAnonymous) warm_up(path);

  const std::string label = shape.n_embd == 2048 ? "llama-1B" : "llama-1B/4";
  std::vector<Row> rows;
  for (int64_t n_ctx : kSyntheticContexts) {
    for (KvType kv : {KvType::kF16, KvType::kQ8_0}) {
      const Row r = measure(label, path, n_ctx, kv);
      EXPECT_EQ(r.plan.kv_bytes(), r.measured_kv);
      // Weights counted as mapped. The forward pass touches every page but those of the
      // token-embedding rows no prompt token selects (0.92-0.95 of the plan here).
      EXPECT_NEAR(ratio(r.file_growth, r.plan.weight_bytes()), 1.0, 0.10)
          << label << ", n_ctx " << n_ctx << ", KV " << kv_type_name(kv);
      if (kMeasureAnonymous) {
        // KV + scratch (+ metadata, overhead) counted as anonymous.
        EXPECT_NEAR(ratio(r.anon_growth, r.plan.anonymous_bytes()), 1.0, 0.10)
            << label << ", n_ctx " << n_ctx << ", KV " << kv_type_name(kv);
      }
      rows.push_back(r);
    }
  }
  print_table(rows);
}

}  // namespace
}  // namespace locara
