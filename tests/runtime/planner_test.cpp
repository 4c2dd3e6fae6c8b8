// The planner's arithmetic: DESIGN.md's KV formula for every KV type, scratch as the
// forward pass allocates it, totals with a draft, the largest fitting context, and the budget.
#include "runtime/planner.h"

#include <gtest/gtest.h>

#include "runtime/memory_budget.h"

namespace locara {
namespace {

// A llama-shaped model described by hand (no file): 2 layers, 8 query heads and 4 KV heads
// of 64 values, f32 weights (no matmul input conversion).
ModelShape hand_shape() {
  ModelShape s;
  s.path = "hand.gguf";
  s.architecture = "llama";
  s.n_vocab = 1000;
  s.n_ctx_train = 2048;
  s.n_embd = 512;
  s.n_layer = 2;
  s.n_head = 8;
  s.n_head_kv = 4;
  s.head_dim = 64;
  s.n_ff = 1024;
  s.weight_bytes = 10'000'000;
  s.metadata_bytes = 50'000;
  return s;
}

TEST(PlannerKv, FormulaForEachType) {
  const ModelShape s = hand_shape();
  // 2 x n_layer x n_ctx x n_head_kv x head_dim = 2 x 2 x 64 x 4 x 64 = 65536 elements.
  EXPECT_EQ(plan_kv_bytes(s, 64, KvType::kF32), 65536u * 4);
  EXPECT_EQ(plan_kv_bytes(s, 64, KvType::kF16), 65536u * 2);
  EXPECT_EQ(plan_kv_bytes(s, 64, KvType::kQ8_0), 65536u * 34 / 32);
  EXPECT_EQ(plan_kv_bytes(s, 64, KvType::kQ4_0), 65536u * 18 / 32);
}

TEST(PlannerKv, ContextRoundsUpToTheCachePadding) {
  const ModelShape s = hand_shape();
  EXPECT_EQ(plan_kv_bytes(s, 33, KvType::kF16), plan_kv_bytes(s, 64, KvType::kF16));
  EXPECT_EQ(plan_kv_bytes(s, 1, KvType::kF16), plan_kv_bytes(s, 32, KvType::kF16));
  EXPECT_LT(plan_kv_bytes(s, 32, KvType::kF16), plan_kv_bytes(s, 33, KvType::kF16));
}

TEST(PlannerKv, QuantizedTypesNeedWholeBlocksPerHead) {
  ModelShape s = hand_shape();
  EXPECT_TRUE(kv_type_supported(s, KvType::kQ8_0));
  s.head_dim = 8;  // stories260K's heads
  EXPECT_FALSE(kv_type_supported(s, KvType::kQ8_0));
  EXPECT_FALSE(kv_type_supported(s, KvType::kQ4_0));
  EXPECT_EQ(runtime_kv_type(s, KvType::kQ8_0), KvType::kF16);
  PlanConfig config;
  config.n_ctx = 64;
  config.kv_type = KvType::kQ4_0;
  auto plan = plan_memory(s, config);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, ErrorCode::kUnsupported);
  EXPECT_NE(plan.error().message.find("q4_0"), std::string::npos) << plan.error().message;
}

TEST(PlannerScratch, CountsTheForwardPassBuffers) {
  const ModelShape s = hand_shape();
  PlanConfig config;
  config.n_ctx = 100;
  config.batch_size = 16;
  config.n_threads = 2;
  config.kv_type = KvType::kF16;
  const ScratchPlan scratch = plan_scratch(s, config);
  // hidden, normed, proj 512; q, attn 512; k, v 256; gate, up 1024 floats per token.
  EXPECT_EQ(scratch.activations, 16u * 4 * (3 * 512 + 2 * 512 + 2 * 256 + 2 * 1024));
  // Per thread: 128 padded scores (f32), the query as f16 (64 x 2), probabilities as f16.
  EXPECT_EQ(scratch.attention, 2u * (128 * 4 + 64 * 2 + 128 * 2));
  EXPECT_EQ(scratch.logits, 1000u * 4);
  EXPECT_EQ(scratch.matmul_conversion, 0u);  // f32 weights read the floats as they are
  EXPECT_EQ(scratch.sampler, 1000u * 12);

  // The batch never exceeds the context, and q8_0 values are dequantized one head at a time.
  config.n_ctx = 8;
  config.kv_type = KvType::kQ8_0;
  const ScratchPlan small = plan_scratch(s, config);
  EXPECT_EQ(small.activations, 8u * 4 * (3 * 512 + 2 * 512 + 2 * 256 + 2 * 1024));
  EXPECT_EQ(small.attention, 2u * (32 * 4 + 2 * 34 + 64 * 4));
}

TEST(PlannerScratch, ConversionBufferFollowsTheLargestQuantizedInput) {
  ModelShape s = hand_shape();
  s.converted_row_bytes_embd = 512 / 32 * 34;  // q8_0 activations for n_embd rows
  s.converted_row_bytes_ff = 1024 / 32 * 34;
  s.converted_row_bytes_output = 512 / 32 * 34;
  PlanConfig config;
  config.n_ctx = 256;
  config.batch_size = 32;
  EXPECT_EQ(plan_scratch(s, config).matmul_conversion, 32u * 1024 / 32 * 34);
}

TEST(PlannerTotals, LineItemsAddUpAndScaleWithSequences) {
  const ModelShape s = hand_shape();
  PlanConfig config;
  config.n_ctx = 256;
  config.kv_type = KvType::kF16;
  config.n_threads = 3;
  auto one = plan_memory(s, config);
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ(one->weight_bytes(), s.weight_bytes);
  EXPECT_EQ(one->kv_bytes(), plan_kv_bytes(s, 256, KvType::kF16));
  EXPECT_EQ(one->overhead_bytes, kSequenceOverheadBytes + 2 * kThreadOverheadBytes);
  EXPECT_EQ(one->total_bytes(), one->weight_bytes() + one->kv_bytes() + one->scratch_bytes() +
                                    one->metadata_bytes() + one->overhead_bytes);

  config.n_parallel = 4;
  auto four = plan_memory(s, config);
  ASSERT_TRUE(four);
  EXPECT_EQ(four->weight_bytes(), one->weight_bytes());  // weights are shared
  EXPECT_EQ(four->metadata_bytes(), one->metadata_bytes());
  EXPECT_EQ(four->kv_bytes(), 4 * one->kv_bytes());
  EXPECT_EQ(four->scratch_bytes(), 4 * one->scratch_bytes());
  EXPECT_EQ(four->overhead_bytes, 4 * one->overhead_bytes);
}

TEST(PlannerTotals, DraftModelIsChargedToo) {
  const ModelShape target = hand_shape();
  ModelShape draft = hand_shape();
  draft.path = "draft.gguf";
  draft.n_layer = 1;
  draft.weight_bytes = 1'000'000;
  PlanConfig config;
  config.n_ctx = 512;
  config.kv_type = KvType::kQ8_0;
  auto alone = plan_memory(target, config);
  auto paired = plan_memory(target, config, &draft);
  ASSERT_TRUE(alone && paired);
  ASSERT_TRUE(paired->draft.has_value());
  EXPECT_EQ(paired->draft->role, "draft");
  EXPECT_EQ(paired->weight_bytes(), target.weight_bytes + draft.weight_bytes);
  EXPECT_EQ(paired->kv_bytes(), alone->kv_bytes() + plan_kv_bytes(draft, 512, KvType::kQ8_0));
  EXPECT_GT(paired->total_bytes(), alone->total_bytes() + draft.weight_bytes);
}

TEST(PlannerTotals, ZeroContextResolvesAsSessionDoes) {
  ModelShape s = hand_shape();
  s.n_ctx_train = 1 << 17;
  auto plan = plan_memory(s, PlanConfig{});
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->config.n_ctx, 4096);  // capped like Session's default
  s.n_ctx_train = 300;
  EXPECT_EQ(plan_memory(s, PlanConfig{})->config.n_ctx, 300);
}

TEST(PlannerTotals, RejectsBadConfigurations) {
  const ModelShape s = hand_shape();
  PlanConfig config;
  config.n_parallel = 0;
  EXPECT_FALSE(plan_memory(s, config));
  config = PlanConfig{};
  config.batch_size = 0;
  EXPECT_FALSE(plan_memory(s, config));
  config = PlanConfig{};
  config.n_threads = 0;
  EXPECT_FALSE(plan_memory(s, config));
  config = PlanConfig{};
  config.n_ctx = -5;
  EXPECT_FALSE(plan_memory(s, config));
}

TEST(PlannerFit, LargestContextIsTheLastThatFits) {
  const ModelShape s = hand_shape();
  PlanConfig config;
  config.kv_type = KvType::kF16;
  config.n_ctx = 1000;
  const uint64_t budget = plan_memory(s, config)->total_bytes() + 12345;
  const int64_t largest = largest_fitting_context(s, config, budget);
  ASSERT_GE(largest, 1000);
  config.n_ctx = largest;
  EXPECT_LE(plan_memory(s, config)->total_bytes(), budget);
  config.n_ctx = largest + 1;
  EXPECT_GT(plan_memory(s, config)->total_bytes(), budget);

  // Capped by the model's trained context, and 0 when the weights alone do not fit.
  EXPECT_EQ(largest_fitting_context(s, config, uint64_t{1} << 40), s.n_ctx_train);
  EXPECT_EQ(largest_fitting_context(s, config, uint64_t{1} << 40, nullptr, 777), 777);
  EXPECT_EQ(largest_fitting_context(s, config, s.weight_bytes), 0);
}

TEST(PlannerShape, ReadsStories260K) {
  auto gguf = GgufReader::open(std::string(LOCARA_SHARED_DIR) + "/models/stories260K.gguf");
  ASSERT_TRUE(gguf) << gguf.error().message;
  auto shape = read_model_shape(**gguf);
  ASSERT_TRUE(shape) << shape.error().message;
  EXPECT_EQ(shape->weight_bytes, (*gguf)->total_tensor_bytes());
  EXPECT_EQ(shape->n_vocab, 512);
  EXPECT_EQ(shape->n_layer, 5);
  EXPECT_EQ(shape->n_embd, 64);
  EXPECT_EQ(shape->head_dim, 8);
  EXPECT_GT(shape->metadata_bytes, 512u * 100);    // the vocabulary is copied out of the file
  EXPECT_EQ(shape->converted_row_bytes_embd, 0u);  // f32 weights
}

TEST(MemoryBudget, FractionOfMemoryMinusOthers) {
  MemorySignals signals;
  signals.total_bytes = 16ull << 30;
  signals.available_bytes = 10ull << 30;
  // used 6 GiB, of which 1 GiB is ours: others 5 GiB; 75% of 16 = 12 GiB; budget 7 GiB.
  const MemoryBudget budget = compute_budget(signals, 1ull << 30);
  EXPECT_EQ(budget.limit_bytes, 16ull << 30);
  EXPECT_FALSE(budget.limited_by_cgroup);
  EXPECT_EQ(budget.others_bytes, 5ull << 30);
  EXPECT_EQ(budget.budget_bytes, 7ull << 30);
  EXPECT_EQ(compute_budget(signals, 0, BudgetPolicy{0.25}).budget_bytes, 0u);
}

TEST(MemoryBudget, CgroupLimitWhenTighter) {
  MemorySignals signals;
  signals.total_bytes = 64ull << 30;
  signals.available_bytes = 60ull << 30;
  CgroupMemory cgroup;
  cgroup.limit_bytes = 8ull << 30;
  cgroup.usage_bytes = 3ull << 30;
  cgroup.reclaimable_bytes = 1ull << 30;  // working set 2 GiB
  signals.cgroup = cgroup;
  const MemoryBudget budget = compute_budget(signals, 0);
  EXPECT_TRUE(budget.limited_by_cgroup);
  EXPECT_EQ(budget.limit_bytes, 8ull << 30);
  EXPECT_EQ(budget.others_bytes, 2ull << 30);
  EXPECT_EQ(budget.budget_bytes, 4ull << 30);  // 6 GiB - 2 GiB
}

class FakeSource : public PressureSource {
 public:
  explicit FakeSource(Expected<MemorySignals> signals) : signals_(std::move(signals)) {}
  Expected<MemorySignals> sample() override { return signals_; }

 private:
  Expected<MemorySignals> signals_;
};

TEST(MemoryBudget, ReadsThroughAnInjectedSource) {
  MemorySignals signals;
  signals.total_bytes = 8ull << 30;
  signals.available_bytes = 8ull << 30;
  FakeSource source(signals);
  auto budget = read_budget(source, 0, BudgetPolicy{0.5});
  ASSERT_TRUE(budget);
  EXPECT_EQ(budget->budget_bytes, 4ull << 30);
  FakeSource broken(make_error(ErrorCode::kIoError, "meminfo unreadable"));
  EXPECT_FALSE(read_budget(broken, 0));
}

}  // namespace
}  // namespace locara
